"""The `brr-lab` command line: one sub-command per job, each defined in `brr_lab.commands`."""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

# Each module defines `register(subparsers)`, which adds its sub-commands and sets
# `func(args) -> int` as their default. Modules of work still in progress may be absent.
COMMAND_MODULES = (
    "brr_lab.commands.weights",
    "brr_lab.commands.data",
    "brr_lab.commands.repro",
    "brr_lab.commands.audit",
    "brr_lab.commands.sweep",
    "brr_lab.commands.train",
    "brr_lab.commands.score",
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
        return int(args.func(args) or 0)
    except KeyboardInterrupt:  # commands that can report partial work catch it themselves
        print(f"brr-lab {args.command}: interrupted before anything completed; nothing was "
              "written as a result.", file=sys.stderr)
        return 130
    except ValueError as err:  # our validation errors name the parameter, value and range
        print(f"brr-lab {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
