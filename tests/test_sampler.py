"""BalancedBatchSampler: exact batch mix, coverage, determinism, and the policy counting it."""
import pytest
import torch

from brr_lab.weighting.policy import StackedWeightingError, resolve_weighting
from brr_lab._validation import MAX_SEED
from brr_lab.training.sampler import BalancedBatchSampler, batch_composition, shuffled_batches
from brr_lab.training.inputs import seed_everything


def _labels(n_pos=20, n_neg=240):
    return torch.cat([torch.ones(n_pos), torch.zeros(n_neg)])[torch.randperm(n_pos + n_neg, generator=torch.Generator().manual_seed(1))]


@pytest.mark.parametrize("fraction,batch_size", [(0.5, 64), (0.25, 32), (0.1, 50)])
def test_every_batch_has_the_target_mix(fraction, batch_size):
    y = _labels()
    sampler = BalancedBatchSampler(y, batch_size=batch_size, pos_fraction=fraction)
    batches = sampler.epoch_batches(0)
    assert batches.shape == (len(sampler), batch_size)
    per_batch = y[batches].sum(dim=1)
    assert torch.all(per_batch == round(fraction * batch_size))
    comp = batch_composition(y, batches)
    assert comp["min"] == comp["max"] == pytest.approx(sampler.batch_fraction)


def test_report_states_mix_prevalence_and_odds():
    y = _labels(20, 240)
    report = BalancedBatchSampler(y, batch_size=64).report()
    assert (report.n_pos_per_batch, report.n_neg_per_batch) == (32, 32)
    assert report.prevalence == pytest.approx(20 / 260)
    assert report.odds_factor == pytest.approx(240 / 20)  # 50/50 at 1:12 multiplies odds by 12
    assert report.n_batches == 5  # ceil(260 / 64)
    assert report.positive_repeats == pytest.approx(5 * 32 / 20)
    text = report.describe()
    assert "32 positives + 32 negatives" in text and "7.69%" in text


def test_positives_are_drawn_evenly():
    y = _labels(20, 240)
    batches = BalancedBatchSampler(y, batch_size=64).epoch_batches(3)
    pos_draws = torch.bincount(batches.flatten(), minlength=len(y))[y == 1]
    assert pos_draws.max() - pos_draws.min() <= 1  # whole passes over the positives


def test_same_seed_same_epoch_repeats_and_epochs_differ():
    y = _labels()
    a = BalancedBatchSampler(y, seed=7)
    b = BalancedBatchSampler(y, seed=7)
    assert torch.equal(a.epoch_batches(2), b.epoch_batches(2))
    assert not torch.equal(a.epoch_batches(1), a.epoch_batches(2))


def test_works_as_dataloader_batch_sampler():
    y = _labels()
    data = torch.utils.data.TensorDataset(torch.arange(len(y)), y)
    sampler = BalancedBatchSampler(y, batch_size=16)
    loader = torch.utils.data.DataLoader(data, batch_sampler=sampler)
    got = [batch[1].sum().item() for batch in loader]
    assert len(got) == len(sampler) and set(got) == {8.0}


def test_policy_counts_the_sampler_as_a_mechanism():
    y = _labels(20, 240)
    sampler = BalancedBatchSampler(y)
    prevalence = float(y.mean())
    setup = resolve_weighting(sampler_fraction=sampler.batch_fraction, prevalence=prevalence)
    assert setup.active_names == ["sampler"]
    assert setup.effective_ratio == pytest.approx(12.0)
    with pytest.raises(StackedWeightingError):
        resolve_weighting(pos_weight=12.0, sampler_fraction=sampler.batch_fraction, prevalence=prevalence)


@pytest.mark.parametrize("kwargs,param", [
    ({"pos_fraction": 0.0}, "pos_fraction"),
    ({"pos_fraction": 1.0}, "pos_fraction"),
    ({"pos_fraction": 0.001}, "pos_fraction"),  # rounds to 0 positives per batch
    ({"batch_size": 1}, "batch_size"),
    ({"n_batches": 0}, "n_batches"),
    ({"seed": -1}, "seed"),
    ({"seed": MAX_SEED + 1}, "seed"),  # past it, torch's generator seed overflows
])
def test_bad_settings_name_the_parameter(kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}'"):
        BalancedBatchSampler(_labels(), **kwargs)


def test_single_class_labels_are_refused():
    with pytest.raises(ValueError, match="both classes"):
        BalancedBatchSampler(torch.zeros(100))
    with pytest.raises(ValueError, match="0/1 labels"):
        BalancedBatchSampler(torch.tensor([0.0, 2.0, 1.0]))


@pytest.mark.parametrize("labels, shown", [
    (torch.nn.functional.one_hot(torch.tensor([0] * 90 + [1] * 10), 2), "shape (100, 2)"),
    (torch.zeros(2, 3, 4), "shape (2, 3, 4)"),
])
def test_one_hot_or_nd_labels_are_refused_not_flattened(labels, shown):
    # Flattened, a one-hot (N, 2) is 2N labels with every example a positive.
    with pytest.raises(ValueError, match=r"one 0/1 label per example") as info:
        BalancedBatchSampler(labels, batch_size=8)
    assert shown in str(info.value)
    with pytest.raises(ValueError, match=r"'labels' parameter of batch_composition"):
        batch_composition(labels, [[0, 1]])


def test_column_labels_are_one_label_per_example():
    y = torch.tensor([0] * 90 + [1] * 10)
    a, b = BalancedBatchSampler(y, batch_size=8), BalancedBatchSampler(y[:, None], batch_size=8)
    assert torch.equal(a.epoch_batches(0), b.epoch_batches(0))


@pytest.mark.parametrize("kwargs, param", [
    ({"batch_size": 0}, "batch_size"),      # was a raw error from torch's split
    ({"seed": 2**70}, "seed"),              # was a raw overflow from torch's generator
    ({"seed": True}, "seed"),
    ({"epoch": -1}, "epoch"),
    ({"n": 2.5}, "n"),
])
def test_shuffled_batches_names_a_bad_argument(kwargs, param):
    args = {"n": 10, "batch_size": 4, "seed": 0, "epoch": 0, **kwargs}
    with pytest.raises(ValueError, match=f"'{param}' parameter of shuffled_batches") as info:
        shuffled_batches(**args)
    assert repr(kwargs[param]) in str(info.value)


def test_the_largest_seed_works_everywhere():
    batches = shuffled_batches(10, batch_size=4, seed=MAX_SEED, epoch=10**6)
    assert sorted(torch.cat(batches).tolist()) == list(range(10))
    BalancedBatchSampler(_labels(), seed=MAX_SEED).epoch_batches(10**6)
    seed_everything(MAX_SEED)
    with pytest.raises(ValueError, match="'seed' parameter of seed_everything"):
        seed_everything(MAX_SEED + 1)


def test_an_empty_batch_is_named_not_indexed():
    with pytest.raises(ValueError, match="an empty batch at position 1"):
        batch_composition([0, 1, 0], [[0, 1], []])
