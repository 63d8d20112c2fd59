"""Reproduce the postmortem's collapse and its fix on tiny EEG data, and say what happened.

Each scenario trains the default model (``brr_lab.models.EEGWindowCNN``) with one
weighting setup, for several seeds, and records AUROC, AUPRC, the predicted-positive
rate and recall at threshold 0.5, the diagnosis, and the first epoch at which
validation AUROC passed :data:`ESCAPE_AUROC`. :func:`summarize` then says, from the
measured numbers only, whether each scenario behaved as the postmortem claims.

Fixed choices, made before any result was seen, and never tuned per scenario:

* budget: :data:`DEFAULT_EPOCHS` = 6 epochs of Adam (lr 1e-3), batch 64, the budget of
  the measurements in docs/domain.md; ``long=True`` runs 5x that;
* split by recording (windows of one recording overlap, so a window split would
  leak): in name order, the last quarter (at least one) of the recordings with
  seizures and of those without go to validation;
* inputs standardised per channel with the training windows' mean and std;
* seeds 0..n-1 seed model initialisation and batch order; the data do not change
  with the seed (data_sample/ is the generator's seed 0; ``difficulty`` re-simulates
  that same seed in memory with another seizure amplitude).

One choice was revised after a result: the default model. The first one mixed channels
in its first layer and, on every scenario alike, learned its training recordings without
transferring to held-out ones (see :mod:`brr_lab.models`); its replacement shares filters
across channels. The budget, split, data and seeds above did not change.
"""
from __future__ import annotations

import dataclasses
import math
import statistics
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from brr_lab._validation import check_real, invalid
from brr_lab.losses import BinaryFocalLoss
from brr_lab.diagnosis import CHANCE_BAND, NO_TRANSFER, RANKS_AUROC
from brr_lab.metrics import UndefinedMetricWarning
from brr_lab.models import EEGWindowCNN
from brr_lab.trainer import Trainer, seed_everything

__all__ = [
    "DEFAULT_EPOCHS", "DEFAULT_SEEDS", "LONG_FACTOR", "ESCAPE_AUROC", "VAL_FRACTION",
    "SCENARIOS", "Scenario", "ReproData", "default_data_dir", "load_repro_data",
    "run_scenario", "run_repro", "format_table", "summarize", "verdicts",
]

DEFAULT_EPOCHS = 6      # docs/domain.md's budget ("about 0.4 s per 6 epochs")
DEFAULT_SEEDS = 3
LONG_FACTOR = 5
ESCAPE_AUROC = 0.7      # the postmortem's own success line, "AUROC > 0.7"
FIX_AUROC = 0.75        # the expectation for postmortem-fix
VAL_FRACTION = 0.25
DATA_SEED = 0           # data_sample/ is the generator's seed 0
BATCH_SIZE = 64
LR = 1e-3
_WHERE = "run_repro"


@dataclass(frozen=True)
class Scenario:
    """One weighting setup. ``pos_weight`` (when used) is n_neg/n_pos of the training windows."""

    name: str
    description: str
    claim: str                        # what the postmortem (or the issue) says happens
    alpha: float | None = None
    gamma: float = 2.0
    use_pos_weight: bool = False
    sampler_fraction: float | None = None
    logit_adjust: bool = False        # evaluate logits - log(sampler odds): back to the true prior
    allow_stacked: bool = False
    labels_all_zero: bool = False


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("bce", "plain BCE, no class weighting", gamma=0.0,
             claim="under-corrected: every window predicted 0 at the default budget"),
    Scenario("focal-alpha-0.25", "focal loss alpha=0.25, gamma=2, no pos_weight", alpha=0.25,
             claim="collapse: all predictions 0 (the postmortem's symptom, 'AUROC = 0.5')"),
    Scenario("postmortem-bug", "focal alpha=0.25, gamma=2, with pos_weight=n_neg/n_pos",
             alpha=0.25, use_pos_weight=True, allow_stacked=True,
             claim="under-corrects by 3x (ratio 4 instead of 12) and so collapses"),
    Scenario("postmortem-fix", "focal alpha=0.5, gamma=2, with pos_weight=n_neg/n_pos",
             alpha=0.5, use_pos_weight=True, allow_stacked=True,
             claim=f"learns: AUROC > {ESCAPE_AUROC:g} (issue: >= {FIX_AUROC:g})"),
    Scenario("fix-plus-sampler", "the fix plus a 50/50 balanced sampler (the postmortem's configs)",
             alpha=0.5, use_pos_weight=True, sampler_fraction=0.5, allow_stacked=True,
             claim="postmortem: trains correctly; domain.md: stacked 144:1, more than half "
                   "predicted positive"),
    Scenario("one-mechanism", "plain BCE with a 50/50 sampler only, logits adjusted back to "
             "the true prior for evaluation", gamma=0.0, sampler_fraction=0.5, logit_adjust=True,
             claim=f"learns (AUROC > {ESCAPE_AUROC:g}) without over-correction"),
    Scenario("labels-all-zero", "the annotation-parser bug: no seizure read, every label 0; "
             "trained (forced past the guard) with the postmortem's original alpha=0.25",
             alpha=0.25, labels_all_zero=True,
             claim="the guard stops it; forced past it: AUROC undefined (or 0.5), all predictions 0"),
)}


@dataclass
class ReproData:
    """Standardised train/validation windows and where they came from."""

    train: object           # brr_lab.eeg.WindowSet
    val: object
    source: str
    all_zero_error: str     # the guard's message on all-zero labels of this data


def default_data_dir() -> Path:
    """``data_sample/`` beside the package (a source checkout), else in the working directory."""
    beside = Path(__file__).resolve().parent.parent / "data_sample"
    return beside if beside.is_dir() else Path("data_sample")


def _split(windows) -> tuple[list[int], list[int]]:
    """Indices of train and validation windows, split by recording (see module docstring)."""
    names = sorted(windows.recordings)
    has_pos = {n: False for n in names}
    for name, label in zip(windows.recording, windows.y.tolist()):
        has_pos[name] = has_pos[name] or label > 0.5
    val_names = set()
    for group in ([n for n in names if has_pos[n]], [n for n in names if not has_pos[n]]):
        if len(group) >= 2:
            val_names.update(group[-max(1, math.ceil(VAL_FRACTION * len(group))):])
    if not any(has_pos[n] for n in val_names) or all(has_pos[n] == (n in val_names) for n in names
                                                     if has_pos[n]):
        raise invalid("data", _WHERE, "windows from at least two recordings with seizures (one "
                      "for training, one for validation)",
                      f"{sum(has_pos.values())} recording(s) with seizures among {len(names)}")
    train = [i for i, n in enumerate(windows.recording) if n not in val_names]
    val = [i for i, n in enumerate(windows.recording) if n in val_names]
    return train, val


def _standardise(train, val):
    mean = train.X.mean(dim=(0, 2), keepdim=True)
    std = train.X.std(dim=(0, 2), keepdim=True).clamp_min(1e-12)
    return (dataclasses.replace(train, X=(train.X - mean) / std),
            dataclasses.replace(val, X=(val.X - mean) / std))


def load_repro_data(data: str | Path | None = None, *, difficulty: float | None = None) -> ReproData:
    """Windows for the reproduction: a folder (default ``data_sample/``) or, with
    ``difficulty``, the generator's seed 0 simulated in memory with that seizure amplitude."""
    from brr_lab import eeg

    if difficulty is not None:
        if data is not None:
            raise invalid("difficulty", _WHERE, "None when a data folder is given (difficulty "
                          "re-simulates the sample in memory)", difficulty)
        difficulty = check_real(difficulty, "difficulty", _WHERE, low=0, low_open=True,
                                allowed="a seizure amplitude > 0 (seizure RMS over background RMS)")
        recordings = eeg.simulate_recordings(DATA_SEED, seizure_amplitude=difficulty)
        windows = eeg.make_windows(recordings)
        eeg.check_labels(windows.y, context=f"simulated, seizure amplitude {difficulty:g}")
        source = f"simulated in memory (generator seed {DATA_SEED}, seizure amplitude {difficulty:g})"
    else:
        folder = Path(data) if data is not None else default_data_dir()
        if not folder.is_dir():
            raise invalid("data", _WHERE, "a folder of EDF recordings (run `brr-lab make-sample "
                          "--out data_sample --seed 0`, or pass --data DIR)", str(folder))
        recordings = eeg.load_recordings(folder)
        windows = eeg.make_windows(recordings)
        eeg.check_labels(windows.y, context=str(folder))
        source = f"{folder} ({len(recordings)} recordings)"
    # The parser bug: no seizure event read. Same windows, every label 0; the guard's verdict.
    try:
        eeg.check_labels(torch.zeros_like(windows.y), context="labels-all-zero")
        all_zero_error = ""
    except eeg.SingleClassLabelsError as err:
        all_zero_error = f"{type(err).__name__}: {err}"
    train_idx, val_idx = _split(windows)
    train, val = _standardise(windows.subset(train_idx), windows.subset(val_idx))
    return ReproData(train=train, val=val, source=source, all_zero_error=all_zero_error)


def run_scenario(name: str, data: ReproData, *, seed: int, epochs: int = DEFAULT_EPOCHS,
                 device: str = "cpu", verbose: bool = False, progress: bool = False,
                 callbacks=()) -> dict:
    """Train one scenario with one seed; return its row (see :func:`run_repro`).

    ``callbacks``: :class:`brr_lab.trainer.Callback` instances passed to the trainer (a
    notebook panel redraws its plots from ``on_epoch_end``).
    """
    if name not in SCENARIOS:
        raise invalid("scenario", _WHERE, f"one of {list(SCENARIOS)}", name)
    sc = SCENARIOS[name]
    train, val = data.train, data.val
    guard = None
    if sc.labels_all_zero:
        guard = data.all_zero_error or "not stopped: the guard accepted all-zero labels"
        train = dataclasses.replace(train, y=torch.zeros_like(train.y))
        val = dataclasses.replace(val, y=torch.zeros_like(val.y))
    n_pos = int(train.y.sum())
    n_neg = len(train.y) - n_pos
    pos_weight = n_neg / n_pos if sc.use_pos_weight else None
    shift = 0.0
    if sc.logit_adjust:
        pi = n_pos / len(train.y)
        f = round(sc.sampler_fraction * BATCH_SIZE) / BATCH_SIZE  # what the sampler produces
        shift = -math.log((f / (1 - f)) / (pi / (1 - pi)))
    seed_everything(seed)
    model = EEGWindowCNN(n_channels=train.X.shape[1])
    loss = BinaryFocalLoss(alpha=sc.alpha, gamma=sc.gamma, pos_weight=pos_weight)
    trainer = Trainer(model, loss, epochs=epochs, batch_size=BATCH_SIZE, lr=LR, seed=seed,
                      device=device, sampler_fraction=sc.sampler_fraction,
                      allow_stacked=sc.allow_stacked, eval_logit_shift=shift,
                      progress=progress, verbose=verbose, callbacks=callbacks)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # labels-all-zero: NaN on purpose
        history = trainer.fit((train.X, train.y), (val.X, val.y))
    seconds = time.perf_counter() - t0
    last = history[-1]
    escape = next((r["epoch"] for r in history if r["val_auroc"] > ESCAPE_AUROC), None)
    setup = trainer.setup
    return {
        "scenario": name, "seed": seed, "auroc": last["val_auroc"], "auprc": last["val_auprc"],
        "pred_pos_rate": last["pred_pos_rate"], "recall": last["recall"],
        "diagnosis": last["diagnosis"], "escape_epoch": escape,
        "prevalence": last["val_prevalence"], "train_auroc": last["train_auroc"],
        "epochs": epochs, "guard": guard,
        "effective_ratio": None if setup is None else setup.effective_ratio,
        "q_star": None if setup is None else setup.q_star,
        "seconds": seconds,
    }


def run_repro(*, data: str | Path | None = None, scenarios=None, seeds: int = DEFAULT_SEEDS,
              epochs: int | None = None, long: bool = False, difficulty: float | None = None,
              device: str = "cpu", threads: int | None = 1, log=None) -> list[dict]:
    """Run scenarios x seeds; return one dict per run.

    Keys: ``scenario``, ``seed``, ``auroc``, ``auprc``, ``pred_pos_rate``, ``recall``
    (at threshold 0.5, on the validation recordings, after the last epoch),
    ``diagnosis``, ``escape_epoch`` (first epoch with AUROC > 0.7, None if none), plus
    ``prevalence`` (validation), ``train_auroc`` (running, last epoch), ``epochs``, ``guard`` (labels-all-zero: what the label
    guard said), ``effective_ratio``, ``q_star`` and ``seconds`` (training time).

    ``epochs`` defaults to :data:`DEFAULT_EPOCHS`; ``long`` multiplies it by 5. ``log``
    (e.g. ``print``) gets one line per finished run. ``threads``: torch CPU threads while
    running (restored after; None leaves torch's setting). One by default: this model's
    batches are too small to gain from intra-op threads, and on a shared 2-core machine two
    spinning threads were measured 5-20x slower than one.
    """
    names = list(SCENARIOS) if scenarios is None else (
        [scenarios] if isinstance(scenarios, str) else list(scenarios))
    for name in names:
        if name not in SCENARIOS:
            raise invalid("scenario", _WHERE, f"one of {list(SCENARIOS)}", name)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise invalid("seeds", _WHERE, "an int >= 1", seeds)
    if epochs is None:
        epochs = DEFAULT_EPOCHS
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise invalid("epochs", _WHERE, "None or an int >= 1", epochs)
    if long:
        epochs *= LONG_FACTOR
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise invalid("threads", _WHERE, "None or an int >= 1", threads)
    prepared = load_repro_data(data, difficulty=difficulty)
    rows = []
    previous = torch.get_num_threads()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        for name in names:
            for seed in range(seeds):
                row = run_scenario(name, prepared, seed=seed, epochs=epochs, device=device)
                rows.append(row)
                if log is not None:
                    log(f"{name:18s} seed {seed}: AUROC {_f(row['auroc'])}, "
                        f"{_pct(row['pred_pos_rate'])} predicted positive ({row['seconds']:.2f} s)")
    finally:
        torch.set_num_threads(previous)
    return rows


# ---------------------------------------------------------------------- reporting
def _f(x, digits=3) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _pct(x) -> str:
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def format_table(rows: list[dict]) -> str:
    """A fixed-width table, one line per scenario and seed."""
    head = (f"{'scenario':18s} {'seed':>4s} {'AUROC':>6s} {'AUPRC':>6s} {'prev':>6s} "
            f"{'pred+':>6s} {'recall':>6s} {'escape':>6s}  diagnosis")
    lines = [head, "-" * len(head)]
    for r in rows:
        escape = "-" if r["escape_epoch"] is None else str(r["escape_epoch"])
        lines.append(f"{r['scenario']:18s} {r['seed']:4d} {_f(r['auroc']):>6s} {_f(r['auprc']):>6s} "
                     f"{_f(r['prevalence']):>6s} {_pct(r['pred_pos_rate']):>6s} "
                     f"{_f(r['recall'], 2):>6s} {escape:>6s}  {r['diagnosis']}")
    return "\n".join(lines)


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def _verdict(name: str, rs: list[dict], all_rows: list[dict]) -> tuple[str, str]:
    """(agreement, sentence) for one scenario from its measured rows."""
    n = len(rs)
    aurocs = [r["auroc"] for r in rs if not _nan(r["auroc"])]
    med = statistics.median(aurocs) if aurocs else math.nan
    rng = f"AUROC median {_f(med)} (range {_f(min(aurocs))}-{_f(max(aurocs))})" if aurocs else "AUROC undefined"
    rates = [r["pred_pos_rate"] for r in rs]
    rate_txt = f"predicted positive {_pct(min(rates))}-{_pct(max(rates))}"
    escaped = sum(r["escape_epoch"] is not None for r in rs)
    zero = sum(r["pred_pos_rate"] == 0 for r in rs)  # no window called positive: a count test
    stats = (f"final {rng}, {rate_txt}; AUROC passed {ESCAPE_AUROC:g} at some epoch in "
             f"{escaped}/{n} seeds")

    def agree(k: int, what: str, counter: str) -> tuple[str, str]:
        if k == n:
            return "agrees", f"as claimed, {what} in all {n} seeds"
        if k == 0:
            return "DISAGREES", f"not as claimed: {counter} in all {n} seeds"
        return "MIXED", f"partly as claimed: {what} in {k} of {n} seeds"

    if name in ("bce", "focal-alpha-0.25"):
        verdict, text = agree(zero, "every window predicted 0", "some windows predicted positive")
        ranks = sum(r["auroc"] > ESCAPE_AUROC for r in rs if not _nan(r["auroc"]))
        inverted = sum(r["auroc"] < 0.5 - CHANCE_BAND for r in rs if not _nan(r["auroc"]))
        if zero and ranks:
            text += (f"; but AUROC > {ESCAPE_AUROC:g} in {ranks}/{n} seeds: the model ranks and sits "
                     "below the 0.5 threshold, which is not the postmortem's 'AUROC = 0.5'")
        if inverted:
            text += (f"; AUROC below {0.5 - CHANCE_BAND:g} in {inverted}/{n} seeds: the model ranks "
                     "seizure windows BELOW background, which is not the postmortem's "
                     "'AUROC = 0.5' either")
    elif name == "postmortem-bug":
        stalled = sum(r["escape_epoch"] is None for r in rs)
        verdict, text = agree(stalled, "it stalled (AUROC never passed 0.7)",
                              "it learned (AUROC passed 0.7)")
        text += ("; " + ("validation AUROC stayed below 0.7 within this budget on this task"
                 if stalled == n else "the 3x under-correction did not stop learning on this task"
                 if stalled == 0 else "learning was stopped for some seeds only"))
        fix = [r for r in all_rows if r["scenario"] == "postmortem-fix"]
        if stalled and fix and all(r["escape_epoch"] is None or r["auroc"] < ESCAPE_AUROC
                                   for r in fix):
            verdict = "UNCLEAR"
            text += ("; the fix did not end above 0.7 either, so this run does not show that the "
                     "under-correction is what stopped it: the symptom matches, the cause is unshown")
    elif name == "postmortem-fix":
        ok = sum(r["auroc"] >= FIX_AUROC for r in rs if not _nan(r["auroc"]))
        verdict, text = agree(ok, f"AUROC >= {FIX_AUROC:g}", f"AUROC below {FIX_AUROC:g}")
    elif name == "fix-plus-sampler":
        over = sum(r["pred_pos_rate"] > 0.5 for r in rs)
        if over == n:
            verdict, text = "DISAGREES", (f"the postmortem says this trains correctly, but more than "
                                          f"half the windows were predicted positive in all {n} seeds "
                                          "(stacked over-correction, as domain.md expects)")
        else:
            ok = sum(r["pred_pos_rate"] <= 0.5 and not _nan(r["auroc"]) and r["auroc"] > ESCAPE_AUROC
                     for r in rs)
            verdict, text = agree(ok, f"it trained (AUROC > {ESCAPE_AUROC:g}, at most half "
                                      "predicted positive)", "it did not train correctly")
            text += (f"; more than half the windows predicted positive in {over}/{n} seeds "
                     "(domain.md and the issue expect that over-correction in all)")
    elif name == "one-mechanism":
        ok = sum((not _nan(r["auroc"])) and r["auroc"] > ESCAPE_AUROC
                 and r["pred_pos_rate"] <= 2 * r["prevalence"] for r in rs)
        verdict, text = agree(ok, "it learned without over-correction (AUROC > 0.7, predicted "
                                  "positive <= 2x prevalence)", "it failed that")
    elif name == "labels-all-zero":
        stopped = sum(bool(r["guard"]) and r["guard"].startswith("SingleClassLabelsError") for r in rs)
        signature = sum((_nan(r["auroc"]) or abs(r["auroc"] - 0.5) < 1e-9) and r["pred_pos_rate"] == 0
                        for r in rs)
        ok = min(stopped, signature)
        verdict, text = agree(ok, "the guard stopped it, and forced past it the run shows AUROC "
                                  "undefined with all predictions 0", "that signature was missing")
        text += f" (guard stopped {stopped}/{n}; signature {signature}/{n})"
    else:  # pragma: no cover - every scenario has a branch
        verdict, text = "n/a", ""
    no_transfer = sum(r["diagnosis"] == NO_TRANSFER for r in rs)
    if no_transfer:
        text += (f". In {no_transfer}/{n} seeds the training AUROC passed {RANKS_AUROC:g} while "
                 "validation did not ('does not generalise'): the model learned its training "
                 "recordings and that did not carry over to the held-out ones, which no class "
                 "weighting explains")
    return verdict, f"{stats}. {text}."


def verdicts(rows: list[dict]) -> dict[str, tuple[str, str]]:
    """Per scenario: ``(verdict, sentence)`` from the rows.

    Verdicts: "agrees" (every seed as claimed), "DISAGREES" (no seed), "MIXED" (some),
    "UNCLEAR" (postmortem-bug stalled, but the fix failed too, so the claimed cause is unshown).
    """
    by_name: dict[str, list[dict]] = {}
    for r in rows:
        by_name.setdefault(r["scenario"], []).append(r)
    return {name: _verdict(name, rs, rows) for name, rs in by_name.items()}


def summarize(rows: list[dict]) -> str:
    """In words, per scenario: what was measured, and whether it matches the claim."""
    lines = []
    for name, (verdict, text) in verdicts(rows).items():
        sc = SCENARIOS[name]
        lines.append(f"{name} [{verdict}] - claim: {sc.claim}.")
        lines.append(f"    measured: {text}")
    return "\n".join(lines)
