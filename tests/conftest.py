import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """Tiny models train faster on one thread, and much faster on a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


TINY_SFREQ = 16.0
TINY_EVENT_SEIZURES = {  # event recording -> seizures (s); 600 s each, as in make_tiny_events
    "tiny_ev_00": [(100.0, 120.0), (420.0, 436.0)], "tiny_ev_01": [(250.0, 270.0)],
    "tiny_ev_02": [(60.0, 84.0), (380.0, 398.0)], "tiny_ev_03": [(500.0, 520.0)],
    "tiny_ev_04": [(150.0, 166.0)], "tiny_ev_05": [(300.0, 322.0), (540.0, 560.0)],
    "tiny_ev_06": [], "tiny_ev_07": [],
}


def seizure_rhythm(n: int) -> torch.Tensor:
    """The rhythm the tiny cohort's seizure windows carry (2 s at 16 Hz: 32 samples)."""
    return 2.0 * torch.sin(torch.arange(n) / 1.5)


def make_tiny_events(seed: int = 0, duration_s: float = 600.0):
    """Continuous 3-channel recordings at 16 Hz (a SignalSet in 'microvolts') holding the
    seizures of :data:`TINY_EVENT_SEIZURES`: noise, plus the seizure rhythm inside them."""
    from brr_lab.eeg import SignalSet

    g = torch.Generator().manual_seed(1000 + seed)
    n = int(duration_s * TINY_SFREQ)
    signals, info = {}, {}
    for name, seizures in TINY_EVENT_SEIZURES.items():
        x = torch.randn(3, n, generator=g)
        for a, b in seizures:
            i, j = int(a * TINY_SFREQ), int(b * TINY_SFREQ)
            x[:, i:j] += seizure_rhythm(j - i)
        signals[name] = x
        info[name] = {"duration_s": duration_s, "seizures": list(seizures),
                      "labels_seen": {"bckg": 1, "seiz": len(seizures)}, "extra_channels": []}
    return SignalSet(signals=signals, channels=["a", "b", "c"], sfreq=TINY_SFREQ, window_s=2.0,
                     stride_s=2.0, recording_info=info)


def make_tiny_cohort(seed: int = 0, n_recordings: int = 12, per_recording: int = 26, events: bool = True):
    """A Cohort of constructed windows (3 channels x 32 samples), split by the protocol's rule.

    Every recording but a third holds one seizure of two windows; seizure windows carry a
    rhythm, so a model can learn. Each run on it takes well under a second. ``events``:
    with 8 event recordings of 10 minutes (:func:`make_tiny_events`; 3 for calibration,
    5 for validation), so event scores rest on long recordings as in the default cohort;
    False: on the short calibration and validation recordings themselves.
    """
    import numpy as np

    from brr_lab.eeg.cohort import cohort_from_windows
    from brr_lab.eeg import WindowSet

    g = torch.Generator().manual_seed(seed)
    xs, ys, names, starts, info = [], [], [], [], {}
    for r in range(n_recordings):
        name = f"tiny_{r:02d}"
        y = torch.zeros(per_recording)
        seizures = []
        if r % 3:
            y[10:12] = 1
            seizures = [(10.5, 12.5)]
        x = torch.randn(per_recording, 3, 32, generator=g)
        x[y == 1] += seizure_rhythm(32)
        xs.append(x)
        ys.append(y)
        names += [name] * per_recording
        starts.append(np.arange(per_recording, dtype=float))
        info[name] = {"duration_s": per_recording + 1.0, "seizures": seizures,
                      "labels_seen": {"bckg": 1, "seiz": len(seizures)}, "extra_channels": []}
    y = torch.cat(ys)
    windows = WindowSet(X=torch.cat(xs), y=y, recording=names, start_s=np.concatenate(starts),
                        seizure_fraction=y.numpy().astype(float), channels=["a", "b", "c"],
                        sfreq=TINY_SFREQ, label_rule="any", recording_info=info)
    return cohort_from_windows(windows, fractions=(0.5, 0.25, 0.25), source="constructed",
                               event_recordings=make_tiny_events(seed) if events else None,
                               event_source="8 constructed recordings of 10 min")


@pytest.fixture(scope="session")
def tiny_cohort():
    return make_tiny_cohort()
