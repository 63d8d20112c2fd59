"""`brr-lab sweep`: train a grid of weighting settings as one vectorised run, or benchmark it."""
from __future__ import annotations

import argparse
from brr_lab import strict_json

from brr_lab import sweep
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
        "print validation AUROC, AUPRC and predicted-positive rate for each, next to q*. "
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
    p.add_argument("--seeds", type=_list(int), default="0",
                   help="seeds (model init and batch order), one copy each (default 0)")
    p.add_argument("--epochs", type=int, default=sweep.SweepConfig.epochs, help="epochs (default 6)")
    p.add_argument("--batch-size", type=int, default=sweep.SweepConfig.batch_size,
                   help="batch size (default 64)")
    p.add_argument("--lr", type=float, default=sweep.SweepConfig.lr, help="Adam learning rate (default 1e-3)")
    p.add_argument("--device", default="auto", help="auto (CUDA when available), cpu or cuda")
    p.add_argument("--strategy", default="auto", choices=list(sweep.STRATEGIES),
                   help="vectorised forward: vmap (one batched call) or per_copy (K calls per "
                   "step); auto = vmap on CUDA, per_copy on CPU, where it measured faster")
    p.add_argument("--data", default=None, metavar="DIR",
                   help="folder of EDF + TUSZ annotation files (e.g. data_sample); default: "
                   "simulate recordings in memory (the generator behind data_sample)")
    p.add_argument("--sim-seed", type=int, default=0, help="seed of the simulated recordings (default 0)")
    p.add_argument("--n-recordings", type=int, default=None,
                   help="simulated recordings (default: the generator's)")
    p.add_argument("--duration-s", type=float, default=None,
                   help="length of each simulated recording in seconds (default: the generator's)")
    p.add_argument("--val-every", type=int, default=3,
                   help="hold out every N-th recording for validation (default 3)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--benchmark", action="store_true",
                   help="train the grid both ways (plain DataLoader loop, one setting at a time, "
                   "and vectorised) and print wall times and their ratio as JSON")
    p.add_argument("--repeat", type=int, default=1,
                   help="with --benchmark: timed runs of each way; medians are reported (default 1)")
    p.add_argument("--loop-subset", type=int, default=None, metavar="N",
                   help="with --benchmark: time the plain loop on the first N settings only and "
                   "scale to the grid (default: all)")
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


def load_data(args: argparse.Namespace):
    """``(train, val)`` WindowSets from ``--data`` or from simulated recordings."""
    from brr_lab.eeg import check_labels, load_windows, make_windows, simulate_recordings
    if args.data is not None:
        windows = load_windows(args.data)
    else:
        kwargs = {}
        if args.n_recordings is not None:
            kwargs["n_recordings"] = args.n_recordings
        if args.duration_s is not None:
            kwargs["duration_s"] = args.duration_s
        windows = make_windows(simulate_recordings(args.sim_seed, **kwargs))
    train, val = sweep.split_by_recording(windows, val_every=args.val_every)
    check_labels(train.y, context="sweep training windows")
    check_labels(val.y, context=f"sweep validation windows (recordings held out by "
                 f"--val-every {args.val_every}; try another value)")
    return train, val


def run(args: argparse.Namespace) -> int:
    settings = sweep.make_grid(alpha=_listed(args.alpha, _optional_float),
                               gamma=_listed(args.gamma, float),
                               pos_weight=_listed(args.pos_weight, _optional_float),
                               sampler_fraction=_listed(args.sampler, _sampler),
                               seeds=_listed(args.seeds, int))
    config = sweep.SweepConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr)
    device = sweep.resolve_device(args.device)
    # Checked before the data are loaded, so a typo fails in a second, not after loading.
    if args.repeat < 1:
        raise invalid("--repeat", "brr-lab sweep", "an int >= 1", args.repeat)
    if args.loop_subset is not None and not 1 <= args.loop_subset <= len(settings):
        raise invalid("--loop-subset", "brr-lab sweep", f"an int in [1, {len(settings)}]",
                      args.loop_subset)
    train, val = load_data(args)
    data = (train.X, train.y, val.X, val.y)
    if args.benchmark:
        print(strict_json.dumps(sweep.benchmark(*data, settings, config=config, device=device,
                                         repeat=args.repeat, loop_subset=args.loop_subset,
                                         strategy=args.strategy),
                         indent=2))
        return 0
    result = sweep.train_sweep(*data, settings, config=config, device=device,
                               strategy=args.strategy)
    if args.json:
        print(strict_json.dumps(result.as_dict(), indent=2))
    else:
        print(format_table(result))
    return 0


def format_table(result: sweep.SweepResult) -> str:
    rows = result.rows()
    head = (f"{'alpha':>6} {'gamma':>5} {'pos_w':>6} {'sampler':>7} {'seed':>4} "
            f"{'q*':>6} {'AUROC':>6} {'AUPRC':>6} {'pred+':>6}")
    lines = [f"{len(rows)} settings, {result.config.epochs} epochs, {result.n_train} training / "
             f"{result.n_val} validation windows (prevalence {result.train_prevalence:.3f} / "
             f"{result.val_prevalence:.3f}), {result.seconds:.1f} s on {result.device}", "", head]

    def fmt(v, spec):
        return "none" if v is None else format(v, spec)
    for r in rows:
        lines.append(f"{fmt(r['alpha'], 'g'):>6} {r['gamma']:>5g} {fmt(r['pos_weight'], 'g'):>6} "
                     f"{fmt(r['sampler_fraction'], 'g'):>7} {r['seed']:>4} {r['q_star']:>6.3f} "
                     f"{r['auroc']:>6.3f} {r['auprc']:>6.3f} {r['predicted_positive_rate']:>6.1%}")
    lines += ["", f"AUPRC of a constant model = validation prevalence ({result.val_prevalence:.3f}); "
              "pred+ = share of validation windows with p > 0.5; q* = posterior above which the "
              "loss minimiser says positive at 0.5."]
    return "\n".join(lines)
