"""`brr-lab app`: the lessons as code-free pages in a browser, served by Voila.

Voila is imported inside :func:`run`, so building the parser stays light.
"""
from __future__ import annotations

import argparse


def register(subparsers) -> None:
    from brr_lab.app.server import DEFAULT_IP, DEFAULT_PORT

    p = subparsers.add_parser(
        "app", help="the lessons as a code-free app in the browser (Voila)",
        description="Serve the lesson pages (the postmortem, the data, the weights, the collapse "
        "and its fix, thresholds, the report card) with Voila: prose, live widgets, no code. "
        "Training and grading start with a button. Ctrl-C stops the server.",
    )
    p.add_argument("--port", type=_port, default=DEFAULT_PORT,
                   help=f"port to serve on, in [1, 65535] (default {DEFAULT_PORT})")
    p.add_argument("--ip", default=DEFAULT_IP,
                   help=f"address to bind (default {DEFAULT_IP}: this machine only; "
                        "0.0.0.0 opens it to the network)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser tab")
    p.set_defaults(func=run)


def _port(text: str) -> int:
    # argparse's own "invalid int value" would not say what is allowed.
    try:
        port = int(text)
    except ValueError:
        port = None
    if port is None or not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"must be an int in [1, 65535]; got {text!r}")
    return port


def run(args: argparse.Namespace) -> int:
    import os

    from brr_lab.app.server import check_free, check_ip, check_port, jupyter_path_env, voila_argv

    ip, port = check_ip(args.ip), check_port(args.port)
    check_free(ip, port)
    argv = voila_argv(port=port, ip=ip, open_browser=not args.no_browser)
    try:
        from voila.app import Voila
    except ImportError:
        raise SystemExit("brr-lab app: error: Voila is not installed; "
                         "pip install voila (the README's install includes it)") from None
    os.environ["JUPYTER_PATH"] = jupyter_path_env(os.environ.get("JUPYTER_PATH"))
    Voila.launch_instance(argv=argv)
    return 0
