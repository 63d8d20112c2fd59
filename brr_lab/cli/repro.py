"""`brr-lab repro`: reproduce the collapse and the fix, scenario by scenario, and say what happened."""
from __future__ import annotations

import argparse
import sys
import time

from brr_lab.cli import INTERRUPTED_EXIT

# The keys every row is documented to carry, first; the rest follow.
_KEYS = ("scenario", "seed", "auroc", "auprc", "pred_pos_rate", "recall", "diagnosis", "escape_epoch",
         "n_val_recordings", "n_val_seizures", "n_val_windows", "auroc_ci", "auprc_ci",
         "pred_pos_rate_ci", "event_sensitivity", "event_sensitivity_ci", "fa_per_24h", "fa_per_24h_ci",
         "n_event_seizures", "event_hours", "threshold_moved")


def register(subparsers: argparse._SubParsersAction) -> None:
    from brr_lab.experiments.scenarios import DEFAULT_EPOCHS, DEFAULT_SEEDS, LONG_FACTOR, SCENARIOS

    p = subparsers.add_parser(
        "repro", help="train each weighting scenario on EEG windows and compare with the postmortem",
        description="Train the default CNN under each class-weighting scenario for several seeds "
        "on the training recordings of one cohort; score the final model on its validation "
        "recordings (AUROC, AUPRC, predicted-positive rate and recall at the threshold, each with "
        "a 95% bootstrap interval over recordings, and the number of recordings, seizures and "
        "windows behind them) and, as the field scores detectors, on its validation event "
        "recordings (SzCORE event sensitivity and false alarms per 24 h, at 0.5 and at the "
        "threshold chosen on the calibration event recordings for 10 false alarms per 24 h, "
        "with 95% intervals and the hours behind them); then say per scenario whether it "
        "behaved as claimed.",
    )
    p.add_argument("--data", metavar="DIR", default=None,
                   help="folder of EDF recordings, split by the protocol's rule (default: the "
                   "generated cohort, with long event recordings for false alarms per 24 h; every "
                   "result names the recordings, seizures and hours it rests on)")
    p.add_argument("--scenario", metavar="NAME", action="append", choices=list(SCENARIOS),
                   help=f"run only this scenario (repeatable); one of: {', '.join(SCENARIOS)}")
    p.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, metavar="N",
                   help=f"seeds 0..N-1 (default {DEFAULT_SEEDS})")
    p.add_argument("--epochs", type=int, default=None, metavar="E",
                   help=f"training budget in epochs (default {DEFAULT_EPOCHS})")
    p.add_argument("--long", action="store_true", help=f"{LONG_FACTOR}x the budget")
    p.add_argument("--difficulty", type=float, default=None, metavar="X",
                   help="seizure amplitude against the background (lower is harder) of the "
                   "generated cohort (default 3)")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="processes training side by side, one thread each (default 2)")
    p.add_argument("--json", action="store_true", help="print a JSON list of per-run objects only")
    p.set_defaults(func=_run)


def _ordered(row: dict) -> dict:
    return {**{k: row[k] for k in _KEYS}, **{k: v for k, v in row.items() if k not in _KEYS}}


def _run(args: argparse.Namespace) -> int:
    from brr_lab import strict_json
    from brr_lab.eeg.cohort import load_cohort
    from brr_lab.experiments.repro import Interrupted, format_event_table, format_table, run_repro, summarize

    t0 = time.perf_counter()
    log = None if args.json else (lambda line: print(line, file=sys.stderr, flush=True))
    cohort = load_cohort(args.data, difficulty=args.difficulty)
    if log:
        log(cohort.describe())
    try:
        rows = run_repro(cohort=cohort, scenarios=args.scenario, seeds=args.seeds,
                         epochs=args.epochs, long=args.long, workers=args.workers, log=log)
    except Interrupted as stop:
        not_run = ", ".join(f"{name} seed {seed}" for name, seed in stop.not_run)
        if args.json:
            print(strict_json.dumps({"interrupted": True, "completed": [_ordered(r) for r in stop.rows],
                                     "not_run": [{"scenario": n, "seed": s} for n, s in stop.not_run]},
                                    indent=1))
        else:
            print(f"brr-lab repro: interrupted. {len(stop.rows)} run(s) completed, "
                  f"{len(stop.not_run)} not run.")
            if stop.rows:
                print(format_table(stop.rows))
            print(f"not run: {not_run}")
        return INTERRUPTED_EXIT
    if args.json:
        print(strict_json.dumps([_ordered(r) for r in rows], indent=1))
        return 0
    print(f"brr-lab repro: {len({r['scenario'] for r in rows})} scenario(s) x {args.seeds} "
          f"seed(s), {rows[0]['epochs']} epochs each; {cohort.source}. Metrics on the validation "
          "recordings after the last epoch, at threshold 0.5 unless the scenario moves it.")
    print(format_table(rows))
    print()
    print(format_event_table(rows))
    print()
    print(summarize(rows))
    print(f"\n(total {time.perf_counter() - t0:.1f} s)")
    return 0
