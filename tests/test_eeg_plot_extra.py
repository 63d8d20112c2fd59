"""The spectrogram helper: dominant frequency and band power on signals whose answer is known."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import mne  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import QuadMesh  # noqa: E402

from brr_lab.eeg import Recording, simulate_recordings  # noqa: E402
from brr_lab.eeg.plot import channel_spectrogram, plot_spectrogram  # noqa: E402

FS = 256.0
DURATION_S = 40.0


@pytest.fixture(scope="module")
def tones():
    """Channel A: 6 Hz for 20 s, then 3 Hz; channel B: 10 Hz throughout (amplitudes in uV)."""
    t = np.arange(int(DURATION_S * FS)) / FS
    a = np.where(t < 20.0, 40.0 * np.sin(2 * np.pi * 6.0 * t), 40.0 * np.sin(2 * np.pi * 3.0 * t))
    b = 20.0 * np.sin(2 * np.pi * 10.0 * t)
    info = mne.create_info(["A", "B"], FS, ch_types="eeg", verbose=False)
    raw = mne.io.RawArray(np.vstack([a, b]) * 1e-6, info, verbose=False)
    return Recording(name="tones", raw=raw, seizures=[(10.0, 30.0)], labels_seen={"seiz": 1})


def test_dominant_frequency_follows_the_rhythm(tones):
    spec = channel_spectrogram(tones, "A", segment_s=2.0, step_s=0.5)
    assert spec.freqs[1] - spec.freqs[0] == pytest.approx(0.5)  # 1 / segment_s
    assert spec.dominant_frequency(2.0, 18.0) == pytest.approx(6.0)
    assert spec.dominant_frequency(22.0, 38.0) == pytest.approx(3.0)
    # A band that leaves out the 6 Hz peak finds the next strongest bin, not 6 Hz.
    assert spec.dominant_frequency(2.0, 18.0, fmin=8.0, fmax=20.0) != pytest.approx(6.0)
    other = channel_spectrogram(tones, "B")
    assert other.dominant_frequency(0.0, DURATION_S) == pytest.approx(10.0)


def test_band_power_integrates_to_the_sine_power(tones):
    # A sine of amplitude A carries A^2 / 2 of power; the density integrated over a band around it gives it.
    spec = channel_spectrogram(tones, "B", segment_s=2.0, step_s=0.5)
    df = spec.freqs[1] - spec.freqs[0]
    fmin, fmax = 8.0, 12.0
    n_bins = int(((spec.freqs >= fmin) & (spec.freqs <= fmax)).sum())
    total = spec.band_power(2.0, 38.0, fmin=fmin, fmax=fmax) * n_bins * df
    assert total == pytest.approx(20.0 ** 2 / 2, rel=0.02)
    # Outside the tone there is (almost) nothing.
    assert spec.band_power(2.0, 38.0, fmin=14.0, fmax=30.0) < 1e-3 * spec.band_power(2.0, 38.0, fmin=fmin,
                                                                                       fmax=fmax)


def test_times_are_segment_centres_in_recording_time(tones):
    spec = channel_spectrogram(tones, "A", segment_s=4.0, step_s=1.0)
    assert spec.times[0] == pytest.approx(2.0)
    np.testing.assert_allclose(np.diff(spec.times), 1.0)
    assert spec.times[-1] <= DURATION_S - 2.0 + 1e-9
    assert spec.power.shape == (spec.freqs.size, spec.times.size)
    assert spec.seizures == ((10.0, 30.0),) and spec.channel == "A" and spec.recording == "tones"


@pytest.mark.parametrize("kwargs, param", [
    ({"channel": "Cz"}, "channel"),
    ({"channel": "A", "segment_s": 0.0}, "segment_s"),
    ({"channel": "A", "segment_s": 2.0, "step_s": 3.0}, "step_s"),
    ({"channel": "A", "segment_s": float("nan")}, "segment_s"),
])
def test_bad_spectrogram_arguments_name_the_parameter(tones, kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}' parameter of channel_spectrogram"):
        channel_spectrogram(tones, **kwargs)


def test_bad_spans_and_bands_are_errors(tones):
    spec = channel_spectrogram(tones, "A")
    with pytest.raises(ValueError, match="'stop_s' parameter"):
        spec.dominant_frequency(10.0, 5.0)
    with pytest.raises(ValueError, match="at least one segment centre"):
        spec.dominant_frequency(0.0, 0.5)  # the first centre is at 1 s
    with pytest.raises(ValueError, match="'fmax' parameter"):
        spec.band_power(2.0, 18.0, fmin=5.0, fmax=5.0)
    with pytest.raises(ValueError, match="at least one frequency bin"):
        spec.band_power(2.0, 18.0, fmin=6.1, fmax=6.2)  # between two 0.5 Hz bins


def test_plot_marks_seizure_edges_inside_the_span(tones):
    spec = channel_spectrogram(tones, "A")
    fig = plot_spectrogram(spec, start_s=5.0, stop_s=25.0, fmax=12.0)
    ax = fig.axes[0]
    meshes = [c for c in ax.collections if isinstance(c, QuadMesh)]
    assert len(meshes) == 1
    edges = sorted(line.get_xdata()[0] for line in ax.lines)
    assert edges == [pytest.approx(10.0)]  # the stop at 30 s lies outside the span
    assert ax.get_ylim()[1] <= 12.0 + 0.5
    plt.close(fig)
    fig, ax = plt.subplots()
    assert plot_spectrogram(spec, ax=ax) is fig
    assert sorted(line.get_xdata()[0] for line in ax.lines) == [pytest.approx(10.0), pytest.approx(30.0)]
    plt.close(fig)
    with pytest.raises(ValueError, match="'stop_s' parameter of plot_spectrogram"):
        plot_spectrogram(spec, start_s=20.0, stop_s=10.0)


def test_simulated_seizure_slows_at_its_focus():
    # The generator slows each seizure from 6.5-8.5 Hz to 2.5-3.5 Hz; the spectrogram must see it.
    rec = next(r for r in simulate_recordings(3, n_recordings=2, duration_s=60.0, target_prevalence=0.3,
                                             n_seizure_free=0))
    event = rec.meta["seizure_events"][0]
    spec = channel_spectrogram(rec, event.focus)
    third = (event.stop_s - event.start_s) / 3
    early = spec.dominant_frequency(event.start_s, event.start_s + third)
    late = spec.dominant_frequency(event.stop_s - third, event.stop_s)
    assert early > late
    assert late <= event.freq_stop_hz + (event.freq_start_hz - event.freq_stop_hz) / 2
