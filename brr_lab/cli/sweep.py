"""`brr-lab sweep`: train a grid of weighting settings as one vectorised run."""
from __future__ import annotations

import argparse

from brr_lab._validation import invalid

# The grid the command trains when no list is given: the postmortem's settings and their
# neighbours (alpha off / "bug" 0.25 / "fix" 0.5, pos_weight off / the usual 12).
DEFAULT_ALPHA = "none,0.25,0.5"
DEFAULT_POS_WEIGHT = "none,12"


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="train a grid of alpha x pos_weight x gamma x sampler settings in one vectorised run",
        description="Train one copy of the default EEG model per setting, all at once, and "
        "print validation AUROC, AUPRC and predicted-positive rate for each, next to q*, and the "
        "SzCORE event sensitivity at 10 false alarms per 24 h (threshold chosen on calibration). "
        "Lists are comma-separated; 'none' switches alpha, pos_weight or the sampler off.",
    )
    p.add_argument("--alpha", type=_list(_optional_float), default=DEFAULT_ALPHA,
                   help=f"focal alpha values in [0, 1] or 'none' (default {DEFAULT_ALPHA})")
    p.add_argument("--pos-weight", type=_list(_optional_float), default=DEFAULT_POS_WEIGHT,
                   help=f"pos_weight values > 0 or 'none' (default {DEFAULT_POS_WEIGHT})")
    p.add_argument("--gamma", type=_list(float), default="2", help="gamma values >= 0 (default 2)")
    p.add_argument("--sampler", type=_list(_sampler), default="none",
                   help="'none', 'balanced' (50/50 batches) or a positive fraction in (0, 1) "
                   "per batch (default none)")
    p.add_argument("--seeds", type=int, default=1, metavar="N",
                   help="seeds 0..N-1 (model init and batch order), one copy each (default 1)")
    p.add_argument("--epochs", type=int, default=None, help="epochs (default 6)")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    p.add_argument("--strategy", default="auto", choices=["auto", "vmap", "per_copy"],
                   help="vectorised forward: vmap (one batched call) or per_copy (K calls per "
                   "step); auto = vmap on CUDA, per_copy on CPU, where it measured faster")
    p.add_argument("--data", default=None, metavar="DIR",
                   help="folder of EDF + TUSZ annotation files, split by the protocol's rule "
                   "(default: the generated cohort of `brr-lab repro`)")
    p.add_argument("--difficulty", type=float, default=None, metavar="X",
                   help="seizure amplitude of the generated cohort (default 3)")
    p.add_argument("--no-events", action="store_true",
                   help="skip the SzCORE event scores (event sensitivity and false alarms per 24 h "
                   "on the event recordings, at 0.5 and at the calibration threshold for 10 per 24 h)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def _optional_float(text: str) -> float | None:
    if text.strip().lower() in ("none", "off"):
        return None
    return float(text)


def _sampler(text: str) -> float | None:
    word = text.strip().lower()
    if word in ("none", "off"):
        return None
    if word in ("balanced", "on"):
        return 0.5
    return float(text)


def _list(parse):
    def parse_list(text: str) -> list:
        items = [t for t in text.split(",") if t.strip()]
        if not items:
            raise argparse.ArgumentTypeError(f"expected a comma-separated list, got {text!r}")
        try:
            return [parse(t.strip()) for t in items]
        except ValueError:
            raise argparse.ArgumentTypeError(f"could not read the list {text!r}") from None
    return parse_list


def _listed(value, parse):
    # argparse applies `type` to string defaults too; this covers programmatic Namespaces.
    return _list(parse)(value) if isinstance(value, str) else value


def run(args: argparse.Namespace) -> int:
    from brr_lab import strict_json
    from brr_lab.experiments import sweep
    from brr_lab.eeg.cohort import load_cohort

    if args.seeds < 1:
        raise invalid("--seeds", "brr-lab sweep", "an int >= 1", args.seeds)
    settings = sweep.make_grid(alpha=_listed(args.alpha, _optional_float),
                               gamma=_listed(args.gamma, float),
                               pos_weight=_listed(args.pos_weight, _optional_float),
                               sampler_fraction=_listed(args.sampler, _sampler),
                               seeds=list(range(args.seeds)))
    cohort = load_cohort(args.data, difficulty=args.difficulty)
    kwargs = {} if args.epochs is None else {"epochs": args.epochs}
    result = sweep.train_sweep(cohort, settings, device=args.device, strategy=args.strategy,
                               events=not getattr(args, "no_events", False), **kwargs)
    if args.json:
        print(strict_json.dumps(result.as_dict(), indent=2))
    else:
        print(result.to_text(cohort.describe()))
    return 0
