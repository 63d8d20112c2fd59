"""Notebook widgets: thin ipywidgets/plotly panels over the tested brr_lab functions."""
from brr_lab.widgets.threshold_explorer import (ThresholdExplorer, points_from_rows, readable,
                                                run_predictions)
from brr_lab.widgets.training_panel import EPOCH_RANGE, PLOTTED, SEED_RANGE, TrainingPanel
from brr_lab.widgets.weights_explorer import CURVE_SCALES, SLIDER_RANGES, WeightsExplorer
from brr_lab.widgets.p_vs_q import PVsQ, Q_SCALES, THRESHOLD_RANGE

__all__ = ["WeightsExplorer", "SLIDER_RANGES", "CURVE_SCALES",
           "TrainingPanel", "SEED_RANGE", "EPOCH_RANGE", "PLOTTED",
           "PVsQ", "THRESHOLD_RANGE", "Q_SCALES",
           "ThresholdExplorer", "points_from_rows", "readable", "run_predictions"]
