"""`brr-lab grade`: the postmortem's report card, each claim graded from arithmetic, cited figures or trained runs."""
from __future__ import annotations

import argparse
import sys

from brr_lab.cli import INTERRUPTED_EXIT


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "grade", help="grade each claim of the focal-loss postmortem from live evidence",
        description="Grade each claim of the postmortem (docs/postmortem.md) as right, wrong, "
        "incomplete, not reproduced or non-diagnostic, from arithmetic, figures cited from "
        "RetinaNet, or the reproduction runs (trained, or read from the run cache), each with "
        "its evidence, the evidence's size and a reason.",
    )
    p.add_argument("--seeds", type=int, default=None, metavar="N",
                   help="seeds 0..N-1 per trained scenario (default 5)")
    p.add_argument("--epochs", type=int, default=None, metavar="E",
                   help="training budget in epochs (default 6)")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="processes training side by side, one thread each (default 2)")
    p.add_argument("--json", action="store_true",
                   help="print a JSON list, one object per claim (claim, quote, grade, evidence, "
                   "reason, and implies, basis, evidence_size)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from brr_lab import strict_json
    from brr_lab.postmortem import collect_rows, report_card
    from brr_lab.experiments.repro import Interrupted

    log = None if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        rows = collect_rows(seeds=args.seeds, epochs=args.epochs, workers=args.workers, log=log)
    except Interrupted as stop:
        print(f"brr-lab grade: interrupted after {len(stop.rows)} of "
              f"{len(stop.rows) + len(stop.not_run)} runs; no claim graded (finished runs are "
              "cached and reused next time).", file=sys.stderr)
        return INTERRUPTED_EXIT
    card = report_card(rows)
    if args.json:
        print(strict_json.dumps(card.records(), indent=1))
    else:
        print(card.to_text())
    return 0
