"""`brr-lab train CONFIG.yaml`: train what a config file says, under the one protocol."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from brr_lab.cli import INTERRUPTED_EXIT


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train", help="train the default EEG model as a YAML config says (loss, sampler, data, trainer)",
        description="Read CONFIG.yaml with the loader `brr-lab audit` uses, refuse it before the "
        "first step if the audit finds an error (stacked class weighting, a silently dropped "
        "pos_weight, swapped filter edges: exit 2), train the default CNN on the training "
        "recordings of the protocol's split, and score the final model on the validation "
        "recordings (95% intervals over recordings). Writes history.json, result.json and "
        "checkpoints to --out.",
    )
    p.add_argument("config", metavar="CONFIG.yaml", help="a brr_lab (or legacy) training config")
    p.add_argument("--data", metavar="DIR", default=None,
                   help="folder of EDF recordings (default: the config's data.path; null there "
                   "means the generated cohort)")
    p.add_argument("--out", metavar="DIR", default=None,
                   help="where history.json, result.json, best.pt and last.pt go "
                   "(default: runs/<config name>)")
    p.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="override trainer.epochs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from brr_lab import strict_json
    from brr_lab._validation import check_int
    from brr_lab.experiments.from_config import Refused, TrainingInterrupted, train_from_config

    if args.epochs is not None:
        check_int(args.epochs, "--epochs", "brr-lab train", low=1, allowed="an integer >= 1")
    try:
        result = train_from_config(args.config, data=args.data, out=args.out, epochs=args.epochs,
                                   log=lambda line: print(line, file=sys.stderr, flush=True))
    except Refused as refused:
        print(f"brr-lab train: refused {args.config}, nothing was trained:", file=sys.stderr)
        print(refused.text(), file=sys.stderr)
        return 2
    except TrainingInterrupted as stop:
        print(f"brr-lab train: interrupted after {stop.epochs_done} completed epoch(s); "
              f"{stop.epochs_left} epoch(s) not run; nothing was scored. {stop.where}",
              file=sys.stderr)
        return INTERRUPTED_EXIT
    print(result.to_text())
    Path(result.out, "result.json").write_text(strict_json.dumps(result.as_dict(), indent=1) + "\n")
    return 0
