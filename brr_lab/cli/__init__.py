"""The `brr-lab` command line: one sub-command per job, one module each in this package.

Each module defines ``register(subparsers)`` and imports its heavy dependencies inside the
function it runs, so ``brr-lab --help`` and ``brr-lab weights`` answer at once.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys

# The shell's status for a run stopped by Ctrl-C (128 + SIGINT), whatever it completed.
INTERRUPTED_EXIT = 130

__all__ = ["INTERRUPTED_EXIT", "build_parser", "main", "run"]

# Each module defines `register(subparsers)`, which adds its sub-commands and sets
# `func(args) -> int` as their default. Modules of work still in progress may be absent.
COMMAND_MODULES = (
    "brr_lab.cli.weights",
    "brr_lab.cli.data",
    "brr_lab.cli.repro",
    "brr_lab.cli.audit",
    "brr_lab.cli.sweep",
    "brr_lab.cli.train",
    "brr_lab.cli.score",
    "brr_lab.cli.grade",
    "brr_lab.cli.app",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="brr-lab",
        description="Diagnostics for class-imbalanced training: what alpha, gamma, "
        "pos_weight and a sampler really do together.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
    except KeyboardInterrupt:  # commands that can report partial work catch it themselves
        print(f"brr-lab {args.command}: interrupted before anything completed; nothing was "
              "written as a result.", file=sys.stderr)
        code = INTERRUPTED_EXIT
    except ValueError as err:  # our validation errors name the parameter, value and range
        print(f"brr-lab {args.command}: error: {_as_typed(err, args, argv)}", file=sys.stderr)
        return 2
    return code


def _as_typed(err: ValueError, args: argparse.Namespace, argv: list[str] | None) -> str:
    """The error, naming the flag the user typed when a library parameter refused its value.

    Only when the flag was typed and the refused value is its value (or one of its list's):
    a parameter of the same name may have come from a config file instead.
    """
    param = getattr(err, "param", None)
    if not isinstance(param, str) or param.startswith("-") or not hasattr(args, param):
        return str(err)
    flag = "--" + param.replace("_", "-")
    typed = sys.argv[1:] if argv is None else argv
    if not any(t == flag or t.startswith(flag + "=") for t in typed):
        return str(err)
    value = getattr(args, param)
    candidates = value if isinstance(value, (list, tuple)) else [value]
    if not any(_same(v, err.got) for v in candidates):
        return str(err)
    from brr_lab._validation import invalid

    return str(invalid(flag, f"brr-lab {args.command}", err.allowed, err.got))


def _same(a, b) -> bool:
    try:
        return a is b or bool(a == b)
    except Exception:  # noqa: BLE001 - values that do not compare (arrays) are not the typed one
        return False


def run() -> None:
    """The console entry point: :func:`main`, then exit with its status.

    After a handled Ctrl-C the process leaves through ``os._exit`` once its output is
    flushed: with the normal interpreter exit, a run interrupted during torch's first
    optimiser step printed its report and then died of SIGINT (status -2 instead of 130)
    about once in 40 tries under load (cause not pinned down; it happens after our handler
    has run, during the interpreter's shutdown). Nothing is left to clean up at that point (worker pools are closed, files are
    written atomically). Called in-process (tests, notebooks), :func:`main` just returns.
    """
    code = main()
    if code == INTERRUPTED_EXIT:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    run()
