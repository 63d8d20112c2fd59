"""The notebook plot helper: traces with the seizure shaded."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import Polygon, Rectangle  # noqa: E402

from brr_lab.eeg import plot_recording, simulate_recordings  # noqa: E402


@pytest.fixture(scope="module")
def rec():
    recs = simulate_recordings(2, n_recordings=2, duration_s=60.0, target_prevalence=0.3, n_seizure_free=0)
    return recs[0]


def _shaded_spans(ax):
    spans = []
    for patch in ax.patches:
        if isinstance(patch, (Polygon, Rectangle)):
            if isinstance(patch, Polygon):
                x = patch.get_xy()[:, 0]
            else:
                x = [patch.get_x(), patch.get_x() + patch.get_width()]
            spans.append((min(x), max(x)))
    return spans


def test_seizure_is_shaded_and_channels_labelled(rec):
    fig = plot_recording(rec)
    ax = fig.axes[0]
    (start, stop), = rec.seizures
    assert _shaded_spans(ax) == [pytest.approx((start, stop))]
    assert [t.get_text() for t in ax.get_yticklabels()] == rec.raw.ch_names
    assert len(ax.lines) == 19
    plt.close(fig)


def test_window_and_channel_subset(rec):
    (start, stop), = rec.seizures
    fig = plot_recording(rec, start_s=start + 1, duration_s=2.0, channels=["O1", "Cz"])
    ax = fig.axes[0]
    assert _shaded_spans(ax) == [pytest.approx((start + 1, start + 3))]
    assert len(ax.lines) == 2
    plt.close(fig)
    fig, ax = plt.subplots()
    assert plot_recording(rec, start_s=0.0, duration_s=1.0, ax=ax) is fig  # draws into a given axes
    plt.close(fig)


@pytest.mark.parametrize("kwargs, param", [
    ({"channels": ["T7"]}, "channels"), ({"channels": []}, "channels"), ({"start_s": 60.0}, "start_s"),
    ({"duration_s": 0.0}, "duration_s"), ({"start_s": 50.0, "duration_s": 20.0}, "duration_s"),
])
def test_bad_arguments(rec, kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}' parameter of plot_recording"):
        plot_recording(rec, **kwargs)
