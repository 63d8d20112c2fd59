"""EEG data through MNE: synthetic TUSZ-like recordings, TUSZ annotations, windows and label guards."""
from brr_lab.eeg.annotations import (
    DEFAULT_BACKGROUND_LABELS, DEFAULT_SEIZURE_LABELS, AnnotationError, parse_annotation_file,
    seizure_intervals,
)
from brr_lab.eeg.channels import STANDARD_CHANNELS, normalise_channel_name
from brr_lab.eeg.guards import SingleClassLabelsError, check_labels
from brr_lab.eeg.loader import (
    EdfReadError, MissingChannelsError, load_recording, load_recordings, load_windows,
)
from brr_lab.eeg.plot import Spectrogram, channel_spectrogram, plot_recording, plot_spectrogram
from brr_lab.eeg.recording import Recording
from brr_lab.eeg.report import DatasetReport
from brr_lab.eeg.sample import make_sample
from brr_lab.eeg.synth import simulate_recordings
from brr_lab.eeg.windowing import WindowSet, make_windows

__all__ = [
    "AnnotationError", "DEFAULT_BACKGROUND_LABELS", "DEFAULT_SEIZURE_LABELS", "DatasetReport",
    "EdfReadError", "MissingChannelsError", "Recording", "STANDARD_CHANNELS", "SingleClassLabelsError",
    "WindowSet", "check_labels", "load_recording", "load_recordings", "load_windows", "make_sample",
    "make_windows", "normalise_channel_name", "parse_annotation_file", "plot_recording", "plot_spectrogram", "channel_spectrogram", "Spectrogram",
    "seizure_intervals", "simulate_recordings",
]
