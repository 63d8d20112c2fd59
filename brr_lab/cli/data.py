"""`brr-lab make-sample` (write the synthetic sample) and `brr-lab inspect` (report and label guards).

Options left out fall back to the library defaults (`simulate_recordings`, `make_windows`),
so the numbers live in one place; `inspect` prints the windowing it used. Nothing from
`brr_lab.eeg` (torch, MNE) is imported until a sub-command runs.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

_DEFAULT = argparse.SUPPRESS  # absent from args unless given: the library default applies


def register(subparsers: argparse._SubParsersAction) -> None:
    make = subparsers.add_parser(
        "make-sample", help="write synthetic TUSZ-style EEG (EDF + .csv_bi + .csv) to a folder",
        description="Simulate TUSZ-like recordings (deterministic for --seed) and write them as EDF "
        "with TUSZ .csv_bi and per-channel .csv annotation files.",
    )
    make.add_argument("--out", required=True, help="folder to write to (created if missing)")
    make.add_argument("--seed", type=int, required=True, help="random seed (integer >= 0)")
    make.add_argument("--n-recordings", type=int, default=_DEFAULT,
                      help="number of recordings (default: the generator's, 8)")
    make.add_argument("--duration-s", type=float, default=_DEFAULT,
                      help="length of each recording in seconds (default: the generator's, 150)")
    make.add_argument("--seizure-amplitude", type=float, default=_DEFAULT,
                      help="seizure RMS over background RMS on the focus channel; lower is harder "
                      "(default: the generator's, 3)")
    make.add_argument("--overwrite", action="store_true", help="replace files of the same names")
    make.set_defaults(func=_make_sample)

    inspect = subparsers.add_parser(
        "inspect", help="report windows, classes and labels of an EEG folder; exit 1 on a guard failure",
        description="Load every EDF under DIR with its annotations, cut windows, print the dataset "
        "report, and fail (non-zero exit) on any guard: unreadable files, bad annotation rows, "
        "missing channels, unknown labels (exit 2), single-class labels (exit 1).",
    )
    inspect.add_argument("folder", metavar="DIR")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.add_argument("--window-s", type=float, default=_DEFAULT,
                         help="window length in seconds (default 2)")
    inspect.add_argument("--stride-s", type=float, default=_DEFAULT,
                         help="step between windows in seconds (default 1)")
    inspect.add_argument("--label-rule", default=_DEFAULT,
                         help="'any' (default): positive if the window touches a seizure; 'fraction': "
                         "if its seizure fraction is >= --min-fraction")
    inspect.add_argument("--min-fraction", type=float, default=_DEFAULT,
                         help="for --label-rule fraction (default 0.5)")
    inspect.add_argument("--sfreq", type=float, default=_DEFAULT,
                         help="resample to this rate through MNE; 0 keeps the native rate (default 64)")
    inspect.add_argument("--l-freq", type=float, default=_DEFAULT, help="high-pass edge in Hz (MNE filter)")
    inspect.add_argument("--h-freq", type=float, default=_DEFAULT, help="low-pass edge in Hz (MNE filter)")
    inspect.add_argument("--seizure-labels", default=None,
                         help="comma-separated seizure labels (default: seiz and the TUSZ seizure types)")
    inspect.add_argument("--background-labels", default=None, help="comma-separated (default: bckg)")
    inspect.set_defaults(func=_inspect)


def _given(args: argparse.Namespace, *names: str) -> dict:
    return {name: getattr(args, name) for name in names if hasattr(args, name)}


def _make_sample(args: argparse.Namespace) -> int:
    from brr_lab.eeg.sample import make_sample

    paths = make_sample(args.out, args.seed, overwrite=args.overwrite,
                        **_given(args, "n_recordings", "duration_s", "seizure_amplitude"))
    size = sum(p.stat().st_size for p in paths)
    print(f"wrote {len(paths)} files ({size / 1e6:.1f} MB) to {args.out}")
    return 0


def _labels(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if text is None:
        return default
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _inspect(args: argparse.Namespace) -> int:
    from brr_lab.eeg.annotations import DEFAULT_BACKGROUND_LABELS, DEFAULT_SEIZURE_LABELS
    from brr_lab.eeg.guards import SingleClassLabelsError, check_labels
    from brr_lab import strict_json
    from brr_lab.eeg.loader import check_band, load_recordings
    from brr_lab.eeg.windowing import make_windows

    # Checked before the (slow) loading: swapped edges would make MNE build a band-stop, and
    # with label rule 'any' a min fraction would be ignored without a word.
    if hasattr(args, "min_fraction") and getattr(args, "label_rule", "any") == "any":
        from brr_lab._validation import invalid

        raise invalid("--min-fraction", "brr-lab inspect", "a value only with --label-rule fraction "
                      "('any' labels a window on any overlap and would ignore it)", args.min_fraction)
    check_band(getattr(args, "l_freq", None), getattr(args, "h_freq", None), "--l-freq", "--h-freq",
               "brr-lab inspect")
    recordings = load_recordings(
        args.folder, seizure_labels=_labels(args.seizure_labels, DEFAULT_SEIZURE_LABELS),
        background_labels=_labels(args.background_labels, DEFAULT_BACKGROUND_LABELS),
    )
    window_kwargs = _given(args, "window_s", "stride_s", "label_rule", "min_fraction", "sfreq", "l_freq",
                           "h_freq")
    if window_kwargs.get("sfreq") == 0:
        window_kwargs["sfreq"] = None
    windows = make_windows(recordings, **window_kwargs)
    report = windows.report()
    report = dataclasses.replace(report, label_sources={
        rec.name: {"source": rec.meta.get("label_source"), "file": rec.meta.get("annotation_file"),
                   "notes": list(rec.meta.get("annotation_notes", []))} for rec in recordings})
    error = None
    try:
        check_labels(windows.y, context=args.folder, labels_seen=report.labels_seen)
    except SingleClassLabelsError as err:
        error = str(err)
    if args.json:
        out = report.as_dict()
        out["ok"] = error is None
        out["errors"] = [] if error is None else [error]
        print(strict_json.dumps(out, indent=2))
    else:
        print(report.to_text())
    if error is not None:
        print(f"brr-lab inspect: error: {error}", file=sys.stderr)
        return 1
    return 0
