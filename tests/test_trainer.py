"""Trainer: repeatability, history, start block, checkpoints, resume, interrupt, callbacks."""
import math

import pytest
import torch

from brr_lab.losses import BinaryFocalLoss
from brr_lab.training.metrics import UndefinedMetricWarning
from brr_lab.training.models import EEGWindowCNN
from brr_lab.weighting.policy import StackedWeightingError
from brr_lab.configs import TrainConfig
from brr_lab.eeg import SingleClassLabelsError
from brr_lab.training.monitor import TrainingMonitor
from brr_lab.training.trainer import Callback, Trainer, load_checkpoint, seed_everything

pytestmark = pytest.mark.usefixtures("one_torch_thread")


HISTORY_KEYS = {"epoch", "train_loss", "train_auroc", "val_auroc", "val_auprc", "val_prevalence", "pred_pos_rate",
                "recall", "precision", "mean_prob", "pos_grad_share", "logit_std", "diagnosis"}


def _data(n=240, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = (torch.arange(n) % 8 == 0).float()
    x = torch.randn(n, 4, 64, generator=g)
    x[y == 1, :, :] += torch.sin(torch.arange(64) / 2.0)  # a learnable rhythm
    return (x[: n * 3 // 4], y[: n * 3 // 4]), (x[n * 3 // 4:], y[n * 3 // 4:])


def _trainer(loss=None, seed=0, **kw):
    seed_everything(seed)
    model = EEGWindowCNN(n_channels=4, n_filters=8)
    kw = {"epochs": 2, "batch_size": 32, "progress": False, "verbose": False, "seed": seed, **kw}
    return Trainer(model, loss or BinaryFocalLoss(gamma=0.0), **kw)


def test_history_has_every_issue_field():
    train, val = _data()
    history = _trainer().fit(train, val)
    assert [r["epoch"] for r in history] == [1, 2]
    assert HISTORY_KEYS <= set(history[-1])
    assert 0 <= history[-1]["pos_grad_share"] <= 1
    assert history[-1]["val_prevalence"] == pytest.approx(float(val[1].mean()))


def test_cpu_runs_repeat_exactly_for_a_seed():
    train, val = _data()
    a, b = _trainer(seed=3), _trainer(seed=3)
    ha, hb = a.fit(train, val), b.fit(train, val)
    assert [r["train_loss"] for r in ha] == [r["train_loss"] for r in hb]
    for pa, pb in zip(a.model.parameters(), b.model.parameters()):
        assert torch.equal(pa, pb)
    c = _trainer(seed=4)
    assert c.fit(train, val)[-1]["train_loss"] != ha[-1]["train_loss"]


def test_start_block_states_the_weighting_setup():
    lines = []
    train, val = _data()
    seed_everything(0)
    Trainer(EEGWindowCNN(n_channels=4, n_filters=8),
            BinaryFocalLoss(alpha=0.5, gamma=2.0, pos_weight=7.0), epochs=1, progress=False,
            sampler_fraction=0.5, allow_stacked=True, log=lines.append).fit(train, val)
    text = "\n".join(lines)
    assert "STACKED, opted in" in text
    assert "q* =" in text and "effective ratio" in text
    assert "32 positives + 32 negatives per batch" in text
    assert "dataset prevalence" in text


def test_stacked_weighting_is_refused_without_opt_in():
    train, val = _data()
    with pytest.raises(StackedWeightingError):
        _trainer(BinaryFocalLoss(alpha=0.25, pos_weight=7.0)).fit(train, val)


def test_sampler_batches_reach_the_gradient():
    train, val = _data()
    history = _trainer(sampler_fraction=0.5).fit(train, val)
    assert history[0]["batch_pos_fraction"] == pytest.approx(0.5)


def test_checkpoints_load_with_weights_only_and_resume_repeats_exactly(tmp_path):
    train, val = _data()
    straight = _trainer(epochs=4)
    straight.fit(train, val)

    first = _trainer(epochs=2, checkpoint_dir=str(tmp_path))
    first.fit(train, val)
    state = torch.load(tmp_path / "last.pt", weights_only=True)
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert (tmp_path / "best.pt").is_file()
    assert load_checkpoint(tmp_path / "best.pt")["best_auroc"] == pytest.approx(first.best_auroc)

    seed_everything(99)  # a different init: resume must overwrite it
    resumed = Trainer(EEGWindowCNN(n_channels=4, n_filters=8), BinaryFocalLoss(gamma=0.0),
                      epochs=4, batch_size=32, progress=False, verbose=False,
                      checkpoint_dir=str(tmp_path))
    history = resumed.fit(train, val, resume=True)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4]
    assert history[-1]["train_loss"] == straight.history[-1]["train_loss"]
    for pa, pb in zip(straight.model.parameters(), resumed.model.parameters()):
        assert torch.equal(pa, pb)


class _InterruptAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, trainer, step, loss):
        if len(trainer.history) == self.epoch - 1 and step == 1:
            raise KeyboardInterrupt


def test_keyboard_interrupt_keeps_history_and_last_checkpoint(tmp_path):
    train, val = _data()
    trainer = _trainer(epochs=5, checkpoint_dir=str(tmp_path), callbacks=[_InterruptAt(3)])
    history = trainer.fit(train, val)
    assert trainer.interrupted
    assert [r["epoch"] for r in history] == [1, 2]
    assert load_checkpoint(tmp_path / "last.pt")["epoch"] == 2


def test_callbacks_see_every_epoch_and_can_stop():
    seen = []

    class Stop(Callback):
        def on_epoch_end(self, trainer, record):
            seen.append(record["epoch"])
            trainer.stop_training = record["epoch"] == 2

    train, val = _data()
    _trainer(epochs=5, callbacks=[Stop()]).fit(train, val)
    assert seen == [1, 2]


def test_single_class_validation_is_nan_and_diagnosed():
    """Held-out labels of one class (the training labels hold both)."""
    train, val = _data()
    val = (val[0], torch.zeros_like(val[1]))
    with pytest.warns(UndefinedMetricWarning):
        history = _trainer(epochs=1).fit(train, val)
    assert math.isnan(history[-1]["val_auroc"])
    assert history[-1]["diagnosis"] == "single-class labels"


def test_logit_shift_moves_the_threshold_not_the_ranking():
    train, val = _data()
    plain = _trainer(epochs=1).fit(train, val)[-1]
    shifted = _trainer(epochs=1, eval_logit_shift=-50.0).fit(train, val)[-1]
    assert shifted["val_auroc"] == pytest.approx(plain["val_auroc"])
    assert shifted["pred_pos_rate"] == 0


@pytest.mark.parametrize("kwargs,param", [
    ({"epochs": 0}, "epochs"), ({"lr": -1.0}, "lr"), ({"device": "tpu"}, "device"),
    ({"amp": "yes"}, "amp"), ({"sampler_fraction": 1.0}, "sampler_fraction"),
])
def test_bad_config_names_the_parameter(kwargs, param):
    with pytest.raises(ValueError, match=f"'{param}'"):
        Trainer(EEGWindowCNN(n_channels=4), BinaryFocalLoss(), **kwargs)


def test_unknown_config_keys_are_an_error():
    with pytest.raises(ValueError, match="epochz"):
        Trainer(EEGWindowCNN(n_channels=4), BinaryFocalLoss(), epochz=3)
    with pytest.raises(ValueError, match="epochz"):
        Trainer(EEGWindowCNN(n_channels=4), BinaryFocalLoss(), {"trainer": {"epochz": 3}})


def test_one_config_class_reads_the_yaml_schema():
    cfg = TrainConfig.model_validate({"trainer": {"epochs": 1, "batch_size": 32, "seed": 2},
                                      "loss": {"kind": "focal", "alpha": 0.5, "gamma": 2.0},
                                      "eval": {"threshold": 0.4}})
    seed_everything(0)
    trainer = Trainer.from_config(cfg, EEGWindowCNN(n_channels=4, n_filters=8), prevalence=0.125,
                                  progress=False, verbose=False)
    assert trainer.settings.epochs == 1 and trainer.threshold == 0.4
    assert trainer.loss_fn.alpha == 0.5 and trainer.loss_fn.gamma == 2.0
    train, val = _data()
    assert len(trainer.fit(train, val)) == 1
    assert TrainConfig.model_validate(trainer.config.model_dump()) == trainer.config


def test_from_config_applies_the_prior_bias_and_refuses_models_without_a_head():
    cfg = TrainConfig.model_validate({"trainer": {"prior_bias_init": True}})
    model = EEGWindowCNN(n_channels=4, n_filters=8)
    Trainer.from_config(cfg, model, prevalence=0.1, progress=False, verbose=False)
    assert float(model.head.bias.detach()) == pytest.approx(math.log(0.1 / 0.9))
    with pytest.raises(ValueError, match="prior_bias_init"):
        Trainer.from_config(cfg, torch.nn.Sequential(torch.nn.Conv1d(4, 1, 3)), prevalence=0.1)


def test_single_class_training_labels_are_refused_unless_forced():
    train, val = _data()
    zeros = (train[0], torch.zeros_like(train[1]))
    with pytest.raises(SingleClassLabelsError, match="allow_single_class"):
        _trainer().fit(zeros, val)
    with pytest.warns(UndefinedMetricWarning):
        history = _trainer(epochs=1, allow_single_class=True).fit(zeros, (val[0], torch.zeros_like(val[1])))
    assert history[-1]["diagnosis"] == "single-class labels"


def test_interrupt_messages_say_what_the_model_holds():
    train, val = _data()
    lines = []
    _trainer(epochs=5, callbacks=[_InterruptAt(3)], verbose=True, log=lines.append).fit(train, val)
    assert any("holds part of epoch 3" in line for line in lines)

    class AfterEpoch(Callback):
        def on_epoch_end(self, trainer, record):
            if record["epoch"] == 2:
                raise KeyboardInterrupt

    lines.clear()
    t = _trainer(epochs=5, callbacks=[AfterEpoch()], verbose=True, log=lines.append)
    assert [r["epoch"] for r in t.fit(train, val)] == [1]
    assert any("holds all of epoch 2, whose diagnostics and checkpoint were not completed" in line
               for line in lines)

    class AtFirstBatch(Callback):
        def on_batch_end(self, trainer, step, loss):
            raise KeyboardInterrupt

    lines.clear()
    t = _trainer(epochs=5, callbacks=[AtFirstBatch()], verbose=True, log=lines.append)
    assert t.fit(train, val) == [] and t.interrupted
    assert any("0 completed epoch(s)" in line and "part of epoch 1" in line for line in lines)


def test_the_monitor_works_in_a_plain_loop_and_matches_the_trainer():
    """The README's plain-loop example: same figures as the trainer's history."""
    train, val = _data()
    reference = _trainer(epochs=2).fit(train, val)
    from brr_lab.training.sampler import shuffled_batches
    seed_everything(0)
    model = EEGWindowCNN(n_channels=4, n_filters=8)
    loss_fn = BinaryFocalLoss(gamma=0.0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    monitor = TrainingMonitor()
    for epoch in (1, 2):
        monitor.start_epoch()
        for idx in shuffled_batches(len(train[1]), batch_size=32, seed=0, epoch=epoch):
            logits = model(train[0][idx])
            loss = loss_fn(logits, train[1][idx])
            monitor.watch_batch(logits, train[1][idx], loss)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            record = monitor.end_epoch(model(val[0]), val[1])
        model.train()
    for key in ("train_auroc", "pos_grad_share", "val_auroc", "pred_pos_rate"):
        assert record[key] == pytest.approx(reference[-1][key], rel=1e-5), key
    assert record["diagnosis"] == reference[-1]["diagnosis"]
    assert record["train_loss"] == pytest.approx(reference[-1]["train_loss"], rel=1e-5)


def test_model_with_wrong_output_shape_is_named():
    train, val = _data()
    seed_everything(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4 * 64, 1))
    with pytest.raises(ValueError, match="'model'"):
        Trainer(model, BinaryFocalLoss(), epochs=1, progress=False, verbose=False).fit(train, val)


def test_progress_bar_and_per_step_history(capsys):
    train, val = _data()
    trainer = _trainer(epochs=2, progress=True, log_every_n_steps=2)
    trainer.fit(train, val)
    steps = trainer.step_history
    assert [s["step"] for s in steps if s["epoch"] == 1] == [0, 2, 4]  # 180 windows / 32 = 6 steps
    assert all(math.isfinite(s["loss"]) for s in steps)


def test_fit_again_starts_a_fresh_history():
    train, val = _data()
    trainer = _trainer(epochs=2)
    trainer.fit(train, val)
    assert [r["epoch"] for r in trainer.fit(train, val)] == [1, 2]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (no GPU on CI machines)")
@pytest.mark.parametrize("diagnostics", [False, True])
def test_training_steps_never_synchronise_the_gpu(diagnostics):
    """Every step of an epoch runs under set_sync_debug_mode("error"): no host sync in the
    hot path (the loss's value checks run on CPU tensors only). The epoch's one sync, the
    loss total, comes after the last step, where the mode is switched off again."""
    (x, y), _ = _data()
    n_steps = math.ceil(len(y) / 64)

    class SyncGuard(Callback):
        def on_epoch_start(self, trainer, epoch):
            torch.cuda.set_sync_debug_mode("error")

        def on_batch_end(self, trainer, step, loss):
            if step == n_steps - 1:
                torch.cuda.set_sync_debug_mode(0)

    seed_everything(0)
    trainer = Trainer(EEGWindowCNN(n_channels=x.shape[1]), BinaryFocalLoss(alpha=0.75, gamma=2.0),
                      device="cuda", epochs=1, batch_size=64, callbacks=[SyncGuard()],
                      diagnostics=diagnostics, progress=False, verbose=False)
    try:
        history = trainer.fit((x, y))
    finally:
        torch.cuda.set_sync_debug_mode(0)
    assert len(history) == 1 and math.isfinite(history[0]["train_loss"])


def test_monitor_refuses_logits_and_targets_of_different_shapes():
    # (B, 1) logits against (B,) targets broadcast to (B, B): a gradient "share" of 6.0 was reported.
    monitor = TrainingMonitor()
    logits = torch.zeros(8, 1, requires_grad=True)
    with pytest.raises(ValueError, match=r"shapes \(8, 1\) and \(8,\)"):
        monitor.watch_batch(logits, torch.zeros(8))
    with pytest.raises(ValueError, match=r"'threshold' parameter of TrainingMonitor"):
        TrainingMonitor(threshold=float("nan"))
