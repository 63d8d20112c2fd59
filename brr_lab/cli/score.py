"""`brr-lab score`: SzCORE event scores of any model's window predictions against TUSZ annotations.

Exit codes: 0 scored; 2 bad input (a message names the file and line). Nothing
heavy is imported until the command runs.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "score", help="SzCORE event scores (sensitivity, precision, F1, FA/24h) of window predictions",
        description="Score per-window seizure probabilities against TUSZ .csv_bi annotations the way "
        "the field does: SzCORE event scoring (timescoring; 30 s/60 s tolerance, merge < 90 s, split "
        "> 5 min), micro-averaged over recordings, with 95% intervals and the hours behind them. "
        "Predictions: CSV with header recording,start_s,stop_s,probability (recording = EDF stem). "
        "Overlapping windows: each second takes the highest probability of the windows covering it.",
    )
    p.add_argument("--annotations", required=True, metavar="DIR",
                   help="folder holding <recording>.csv_bi files (searched recursively)")
    p.add_argument("--predictions", required=True, metavar="FILE", help="predictions CSV to score")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--threshold", type=float, default=None,
                     help="decision threshold above 0: a second is positive if probability >= T (default 0.5)")
    how.add_argument("--target-fa-per-24h", type=float, default=None, metavar="X",
                     help="choose the threshold on --calibration for at most X false alarms per 24 h")
    p.add_argument("--calibration", default=None, metavar="FILE",
                   help="predictions CSV (other recordings or times) to choose the threshold on; "
                        "required by --target-fa-per-24h")
    p.add_argument("--min-event-s", type=float, default=0.0,
                   help="post-processing beyond SzCORE: drop detections shorter than this (default off)")
    p.add_argument("--smoothing-s", type=float, default=0.0,
                   help="post-processing beyond SzCORE: moving mean over this many seconds (default off)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from brr_lab import strict_json
    from brr_lab._validation import check_real, invalid
    from brr_lab.scoring import PostProcessing, choose_threshold, load_scoring_data, validate_threshold
    from brr_lab.scoring.events import EventScorer

    # Checked before the files are read (the library checks the same values only after loading).
    where = "brr-lab score"
    for flag, value, low_open in (("--threshold", args.threshold, True),
                                  ("--target-fa-per-24h", args.target_fa_per_24h, False),
                                  ("--smoothing-s", args.smoothing_s, False),
                                  ("--min-event-s", args.min_event_s, False)):
        if value is not None:
            check_real(value, flag, where, low=0.0, low_open=low_open)
    post = PostProcessing(smoothing_s=args.smoothing_s, min_event_s=args.min_event_s)
    if args.target_fa_per_24h is None and args.calibration is not None:
        raise invalid("--calibration", "brr-lab score", "used only with --target-fa-per-24h",
                      args.calibration)
    if args.target_fa_per_24h is not None:
        if args.calibration is None:
            raise invalid("--calibration", "brr-lab score",
                          "a separate predictions file when --target-fa-per-24h is given: a threshold "
                          "chosen on the data it is scored on reports an optimistic false-alarm rate",
                          None)
        if Path(args.calibration).resolve() == Path(args.predictions).resolve():
            raise invalid("--calibration", "brr-lab score",
                          "a different file from --predictions: a threshold chosen on the data it is "
                          "scored on reports an optimistic false-alarm rate", args.calibration)
    data, unscored = load_scoring_data(args.annotations, args.predictions)
    if args.target_fa_per_24h is not None:
        cal, _ = load_scoring_data(args.annotations, args.calibration)
        unscored = [name for name in unscored if name not in cal.truth]  # scored for the choice
        choice = choose_threshold(cal, target_fa_per_24h=args.target_fa_per_24h, postprocessing=post)
        result = validate_threshold(choice, data)
        out, text = result.as_dict(), result.to_text()
    else:
        threshold = 0.5 if args.threshold is None else args.threshold
        scores = EventScorer(data, postprocessing=post).score(threshold)
        out, text = scores.as_dict(), scores.to_text()
    # Annotated recordings no predictions name: left out of every figure, and named here.
    out["unscored_annotation_files"] = len(unscored)
    out["unscored_recordings"] = list(unscored)
    if args.json:
        print(strict_json.dumps(out, indent=2))  # a NaN (no seizure, no detection) is null
    else:
        print(text)
        if unscored:
            shown = ", ".join(unscored[:10]) + (f" and {len(unscored) - 10} more" if len(unscored) > 10 else "")
            print(f"note: {len(unscored)} annotated recording(s) have no predictions and were not "
                  f"scored (their seizures are in no figure above): {shown}")
    return 0
