import pytest
import torch


@pytest.fixture
def one_torch_thread():
    """Tiny models train faster on one thread, and much faster on a shared 2-core machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def make_tiny_cohort(seed: int = 0, n_recordings: int = 12, per_recording: int = 26):
    """A Cohort of constructed windows (3 channels x 32 samples), split by the protocol's rule.

    Every recording but a third holds one seizure of two windows; seizure windows carry a
    rhythm, so a model can learn. Each run on it takes well under a second.
    """
    import numpy as np

    from brr_lab.cohort import cohort_from_windows
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
        x[y == 1] += 2.0 * torch.sin(torch.arange(32) / 1.5)
        xs.append(x)
        ys.append(y)
        names += [name] * per_recording
        starts.append(np.arange(per_recording, dtype=float))
        info[name] = {"duration_s": per_recording + 1.0, "seizures": seizures,
                      "labels_seen": {"bckg": 1, "seiz": len(seizures)}, "extra_channels": []}
    y = torch.cat(ys)
    windows = WindowSet(X=torch.cat(xs), y=y, recording=names, start_s=np.concatenate(starts),
                        seizure_fraction=y.numpy().astype(float), channels=["a", "b", "c"],
                        sfreq=16.0, label_rule="any", recording_info=info)
    return cohort_from_windows(windows, fractions=(0.5, 0.25, 0.25), source="constructed")


@pytest.fixture(scope="session")
def tiny_cohort():
    return make_tiny_cohort()
