"""Train what a config file says: the engine behind ``brr-lab train``.

One file, read by the loader ``brr-lab audit`` uses (:func:`brr_lab.configs.load_config`);
refused before the first step when the audit finds an error in it (the same findings,
the same words); trained on the protocol's split (:mod:`brr_lab.eeg.cohort`) with the data
settings, loss, sampler, prior initialisation and trainer settings it names; scored by
:func:`brr_lab.experiments.evaluation.evaluate_run`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from brr_lab._validation import check_int
from brr_lab.experiments.evaluation import event_note, evidence_note

__all__ = ["Refused", "TrainingInterrupted", "TrainingResult", "train_from_config"]


class Refused(ValueError):
    """The audit found errors in the config: nothing was trained."""

    def __init__(self, findings: list) -> None:
        super().__init__("; ".join(f.message for f in findings))
        self.findings = findings

    def text(self) -> str:
        return "\n".join(f"  {f.file}:{f.line or '-'} [{f.key}] {f.message}" for f in self.findings)


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training: the history of completed epochs was written, nothing scored."""

    def __init__(self, epochs_done: int, epochs_left: int, where: str) -> None:
        super().__init__(f"interrupted after {epochs_done} epoch(s)")
        self.epochs_done, self.epochs_left, self.where = epochs_done, epochs_left, where


@dataclass
class TrainingResult:
    name: str
    out: str
    data: str                 # the cohort's description: what the figures rest on
    row: dict                 # brr_lab.experiments.evaluation.evaluate_run's row
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"name": self.name, "out": self.out, "data": self.data, "warnings": self.warnings,
                **self.row}

    def to_text(self) -> str:
        r = self.row

        def ci(pair, pct=False):
            if pair is None or any(v is None or math.isnan(v) for v in pair):
                return "n/a"
            return f"{100 * pair[0]:.1f}-{100 * pair[1]:.1f}%" if pct else f"{pair[0]:.3f}-{pair[1]:.3f}"
        lines = [f"{self.name}: trained; {self.data}",
                 f"validation ({r['n_val_recordings']} recordings, {r['n_val_seizures']} seizures, "
                 f"{r['n_val_windows']} windows): AUROC {r['auroc']:.3f} (95% CI {ci(r['auroc_ci'])}), "
                 f"AUPRC {r['auprc']:.3f} (prevalence {r['prevalence']:.3f}), predicted positive "
                 f"at {r['threshold']:g}: {100 * r['pred_pos_rate']:.1f}% "
                 f"(95% CI {ci(r['pred_pos_rate_ci'], pct=True)})",
                 _events_line(r), f"diagnosis: {r['diagnosis']}", f"evidence: {evidence_note(r)}; "
                 f"{event_note(r)}"]
        lines += [f"warning: {w}" for w in self.warnings]
        written = [f for f in ("history.json", "best.pt", "last.pt") if Path(self.out, f).is_file()]
        lines.append(f"written: {self.out}/ {', '.join(written + ['result.json'])}")
        return "\n".join(lines)


def _events_line(r: dict) -> str:
    """SzCORE event figures at the row's threshold and at the calibration threshold."""
    def point(x):
        if x["event_sensitivity"] is None or math.isnan(x["event_sensitivity"]):
            return "event sensitivity n/a"
        lo, hi = x["event_sensitivity_ci"]
        f_lo, f_hi = x["fa_per_24h_ci"]
        return (f"event sensitivity {x['event_sensitivity']:.2f} (95% CI {lo:.2f}-{hi:.2f}), "
                f"{x['fa_per_24h']:.1f} false alarms per 24 h (95% CI {f_lo:.1f}-{f_hi:.1f})")
    text = f"events (SzCORE) at {r['threshold']:g}: {point(r)}"
    moved = r.get("threshold_moved")
    if moved is not None:
        text += (f"; at {moved['threshold']:.3g}, chosen on calibration for <= "
                 f"{moved['target']['fa_per_24h']:g} per 24 h: {point(moved)}")
    return text


def _data_folder(given, cfg_path: str | None, config_file: Path) -> Path | None:
    """``--data``, else the config's ``data.path`` (relative to the working directory, or
    else to the config's folder); None: the generated cohort."""
    if given is not None:
        return Path(given)
    if cfg_path is None:
        return None
    path = Path(cfg_path).expanduser()
    for candidate in (path, config_file.parent / path):
        if candidate.is_dir():
            return candidate
    from brr_lab._validation import invalid
    raise invalid("data.path", str(config_file), "a folder of EDF recordings, relative to the "
                  "working directory or to the config's folder (or pass --data DIR)", cfg_path)


def _refuse_flagged(audit_config, loaded, prevalence: float) -> list:
    """The audit's findings at ``prevalence``; :class:`Refused` when any is an error."""
    _, findings = audit_config(loaded, prevalence=prevalence)
    errors = [f for f in findings if f.severity == "error"]
    if errors:
        raise Refused(errors)
    return findings


def train_from_config(path, *, data=None, out=None, epochs: int | None = None, log=print,
                      progress: bool = True) -> TrainingResult:
    """Audit, then train and score the config at ``path``; see the module docstring."""
    from brr_lab import strict_json
    from brr_lab.configs.audit import DEFAULT_PREVALENCE, audit_config
    from brr_lab.eeg.cohort import load_cohort
    from brr_lab.configs import TrainConfig, load_config
    from brr_lab.experiments.evaluation import evaluate_run, monitor_windows
    from brr_lab.training.models import EEGWindowCNN
    from brr_lab.training.trainer import Trainer, seed_everything

    loaded = load_config(path)
    cfg = loaded.config
    if epochs is not None:
        epochs = check_int(epochs, "epochs", "train_from_config", low=1, allowed="an integer >= 1")
        dumped = cfg.model_dump()
        dumped["trainer"]["epochs"] = epochs
        cfg = TrainConfig.model_validate(dumped)
    # The audit first at its default prevalence (a stacked config is refused before any data
    # are read), then again at the training data's own prevalence once they are loaded.
    _refuse_flagged(audit_config, loaded, DEFAULT_PREVALENCE)
    d = cfg.data
    windowing = {"window_s": d.window_s, "stride_s": d.stride_s, "label_rule": d.label_rule,
                 "min_fraction": d.min_fraction, "sfreq": d.sfreq, "l_freq": d.l_freq,
                 "h_freq": d.h_freq}
    cohort = load_cohort(_data_folder(data, d.path, Path(path)), windowing=windowing)
    pi = float(cohort.train.y.mean())
    findings = _refuse_flagged(audit_config, loaded, pi)
    name = cfg.name or Path(path).stem
    if out is None and (Path(name).name != name or name in (".", "..")):
        from brr_lab._validation import invalid
        raise invalid("name", str(path), "a plain name (it becomes the folder runs/<name>; or "
                      "pass --out DIR)", name)
    folder = Path(out) if out is not None else Path("runs") / name
    for stale in ("result.json", "history.json", "best.pt", "last.pt"):
        (folder / stale).unlink(missing_ok=True)  # never beside a new, perhaps cut-short, run
    dumped = cfg.model_dump()
    dumped["trainer"]["checkpoint_dir"] = str(folder)
    cfg = TrainConfig.model_validate(dumped)
    for line in cohort.describe().splitlines():
        log(line)
    seed_everything(cfg.trainer.seed)
    model = EEGWindowCNN(n_channels=cohort.train.X.shape[1])  # from_config applies prior_bias_init
    trainer = Trainer.from_config(cfg, model, prevalence=pi, log=log, progress=progress)
    monitor = monitor_windows(cohort.calibration)
    history = trainer.fit(cohort.train, (monitor.X, monitor.y))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "history.json").write_text(strict_json.dumps(history, indent=1) + "\n")
    if trainer.interrupted:
        done = len(history)
        raise TrainingInterrupted(done, cfg.trainer.epochs - done,
                                  f"History of completed epochs: {folder / 'history.json'}.")
    row = evaluate_run(trainer, history, cohort.validation,
                       event_parts=(cohort.event_part("calibration"), cohort.event_part("validation")))
    return TrainingResult(name=name, out=str(folder), data=cohort.source, row=row,
                          warnings=[f.message for f in findings if f.severity == "warning"])
