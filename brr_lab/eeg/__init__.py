"""EEG data through MNE: synthetic TUSZ-like recordings, TUSZ annotations, windows, label guards,
and the one split (``cohort``).

Names are loaded on first use (PEP 562): reading annotations (``brr-lab score``) does not
pay for torch and MNE, which the loader, the windows and the plots need.
"""
from brr_lab._lazy import lazy_exports

__getattr__, __dir__, _names = lazy_exports(__name__, {
    "annotations": ("DEFAULT_BACKGROUND_LABELS", "DEFAULT_SEIZURE_LABELS", "AnnotationError",
                    "parse_annotation_file", "seizure_intervals"),
    "channels": ("STANDARD_CHANNELS", "normalise_channel_name"),
    "guards": ("SingleClassLabelsError", "check_labels"),
    "loader": ("EdfReadError", "MissingChannelsError", "load_recording", "load_recordings",
               "load_windows"),
    "plot": ("Spectrogram", "channel_spectrogram", "plot_recording", "plot_spectrogram"),
    "recording": ("Recording",),
    "report": ("DatasetReport",),
    "sample": ("make_sample",),
    "synth": ("simulate_recordings",),
    "synth_long": ("simulate_long_recordings", "iter_long_recordings"),
    "windowing": ("WindowSet", "make_windows"),
    "signals": ("SignalSet", "make_signals"),
    "cohort": ("load_cohort", "Cohort", "SyntheticCohort"),
})
__all__ = list(_names)
