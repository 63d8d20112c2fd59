"""Seizure-detection scoring as the field does it: SzCORE event scores (via timescoring) with intervals."""
from brr_lab.scoring.events import (
    EventScorer, SzcoreParameters, score, score_predictions, score_windowset,
)
from brr_lab.scoring.files import InputFileError, load_scoring_data, read_predictions, read_truth
from brr_lab.scoring.inputs import Predictions, RecordingTruth, ScoringData, from_windowset, scoring_data
from brr_lab.scoring.intervals import binomial_ci, poisson_rate_ci
from brr_lab.scoring.masks import MASK_RULE, PostProcessing, second_probabilities
from brr_lab.scoring.results import EventScores, RecordingCounts, WindowScores
from brr_lab.scoring.threshold import (
    ThresholdChoice, ValidatedThreshold, choose_threshold, validate_threshold,
)

__all__ = [
    "EventScorer", "EventScores", "InputFileError", "MASK_RULE", "PostProcessing", "Predictions",
    "RecordingCounts", "RecordingTruth", "ScoringData", "SzcoreParameters", "ThresholdChoice",
    "ValidatedThreshold", "WindowScores", "binomial_ci", "choose_threshold", "from_windowset",
    "load_scoring_data", "poisson_rate_ci", "read_predictions", "read_truth", "score",
    "score_predictions", "score_windowset", "scoring_data", "second_probabilities",
    "validate_threshold",
]
