"""EEG data through MNE: synthetic TUSZ-like recordings, TUSZ annotations, windows and label guards.

Names are loaded on first use (PEP 562): reading annotations (``brr-lab score``) does not
pay for torch and MNE, which the loader, the windows and the plots need.
"""
import importlib

_WHERE = {
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
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'brr_lab.eeg' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"brr_lab.eeg.{module}"), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__():
    return __all__
