"""A control panel that trains one reproduction scenario live and redraws it per epoch.

Pick a scenario of :data:`brr_lab.experiments.repro.SCENARIOS`, a seed and a number of epochs, press
Train: the panel runs :func:`brr_lab.experiments.repro.run_scenario` (the same model, protocol, loss and
budget as ``brr-lab repro``) with a trainer callback that, after every epoch, moves the
progress bar and redraws AUROC and AUPRC on the monitor windows (calibration recordings;
AUPRC beside the prevalence, its value for a constant output), the predicted-positive rate
at 0.5 and the positives' share of the gradient on the logits. At the end it shows the
final figures on the validation recordings with their 95% intervals and how many
seizures they rest on; the final model's SzCORE event sensitivity and false alarms per
24 h on the validation event recordings, at the run's threshold and at the threshold
chosen on the calibration event recordings for 10 false alarms per 24 h, with their
intervals and the hours and seizures behind them; the diagnosis
(:mod:`brr_lab.training.diagnosis`) and what to check next; for ``labels-all-zero`` it shows what
the label guard said first.

The work is :meth:`TrainingPanel.train`, callable without a kernel (the Train button only
calls it), so tests and notebooks run the same code a click runs.
"""
from __future__ import annotations

import html

import ipywidgets as widgets
import torch

from brr_lab.experiments import repro
from brr_lab._validation import check_int, invalid
from brr_lab.eeg.cohort import Cohort, load_cohort
from brr_lab.training.diagnosis import diagnose_metrics
from brr_lab.training.trainer import Callback
from brr_lab.widgets.figure_output import figure_output, show_figure
from brr_lab.widgets.training_view import (PLOTTED, _controls, _epoch_line, _make_figure, _plot_value,
                                           _result, _start_lines)

__all__ = ["TrainingPanel", "SEED_RANGE", "EPOCH_RANGE", "PLOTTED"]

_WHERE = "TrainingPanel"

# Seeds as run_repro numbers them (0..n-1); an upper bound keeps the text box honest.
SEED_RANGE = (0, 9999)
# Up to repro's --long budget (5 x 6 epochs), about 10 s on one CPU thread.
EPOCH_RANGE = (1, repro.DEFAULT_EPOCHS * repro.LONG_FACTOR)

class _LiveCallback(Callback):
    """Forwards the trainer's hooks to the panel."""

    def __init__(self, panel: "TrainingPanel") -> None:
        self.panel = panel

    def on_fit_start(self, trainer) -> None:
        self.panel._on_fit_start(trainer)

    def on_epoch_end(self, trainer, record: dict) -> None:
        self.panel._on_epoch_end(record)

    def on_fit_end(self, trainer) -> None:
        self.panel._setup = trainer.setup


class TrainingPanel(widgets.VBox):
    """Scenario picker, seed, epochs and a Train button over :func:`brr_lab.experiments.repro.run_scenario`.

    Args:
        data: a :class:`brr_lab.eeg.cohort.Cohort` (reuse one across panels and runs), or None
            to load the default cohort with :func:`brr_lab.eeg.cohort.load_cohort` on the
            first :meth:`train`.
        scenario: a name in ``repro.SCENARIOS``.
        seed: an int in ``SEED_RANGE`` (model initialisation and batch order).
        epochs: an int in ``EPOCH_RANGE``.
        threads: torch CPU threads while training (restored after), or None to leave
            torch's setting. One by default, as ``run_repro``: on a shared 2-core machine
            two threads were measured 5-20x slower than one on this small model.

    Settings outside these ranges raise ``ValueError`` (here, in :meth:`set` and in
    :meth:`train`): an ipywidgets control would clamp them silently.

    Attributes read by tests and notebooks: ``history`` (the trainer's per-epoch records
    of the last run), ``row`` (its ``run_scenario`` row), ``diagnosis`` (a
    ``brr_lab.training.diagnosis.Diagnosis``), ``figure`` (the plotly ``Figure`` last drawn, traces named
    as in ``PLOTTED``, shown whole in ``plot``, an ``Output``: see :mod:`.figure_output`), ``progress`` (``IntProgress``), ``result`` (HTML: diagnosis and
    guard), ``out`` (``Output``: the weighting setup and one line per epoch), and the
    controls ``scenario_dropdown``, ``seed_input``, ``epochs_slider``, ``train_button``.
    """

    def __init__(self, data: Cohort | None = None, *, scenario: str = "postmortem-bug",
                 seed: int = 0, epochs: int = repro.DEFAULT_EPOCHS, threads: int | None = 1,
                 **kwargs):
        if data is not None and not isinstance(data, Cohort):
            raise invalid("data", _WHERE, "None or a brr_lab.eeg.cohort.Cohort (from load_cohort)",
                          type(data).__name__)
        if threads is not None:
            check_int(threads, "threads", _WHERE, low=1, allowed="None or an int >= 1")
        _check_scenario(scenario)
        _check_int(seed, "seed", SEED_RANGE)
        _check_int(epochs, "epochs", EPOCH_RANGE)
        self.data = data
        self.threads = threads
        self.history, self.row, self.diagnosis, self._setup = [], None, None, None

        for name, widget in _controls(scenario, seed, epochs, list(repro.SCENARIOS), EPOCH_RANGE).items():
            setattr(self, name, widget)
        self.figure, self.plot = _make_figure(self.epochs_slider.value), figure_output("brr-training-plot")

        controls = widgets.HBox([self.scenario_dropdown, self.seed_input, self.epochs_slider,
                                 self.train_button])
        super().__init__([controls, self.about, self.progress, self.plot, self.result,
                          self.out], **kwargs)
        self.add_class("brr-training-panel")
        self.scenario_dropdown.observe(self._on_scenario, names="value")
        self.train_button.on_click(self._on_click)
        self._on_scenario()
        show_figure(self.plot, self.figure)

    # ---- settings -------------------------------------------------------------------

    def settings(self) -> dict:
        """The current scenario, seed and epochs, validated."""
        scenario = self.scenario_dropdown.value
        _check_scenario(scenario)
        seed = self.seed_input.value
        _check_int(seed, "seed", SEED_RANGE)
        epochs = self.epochs_slider.value
        _check_int(epochs, "epochs", EPOCH_RANGE)
        return {"scenario": scenario, "seed": seed, "epochs": epochs}

    def set(self, *, scenario: str | None = None, seed: int | None = None,
            epochs: int | None = None) -> "TrainingPanel":
        """Set controls (None leaves one as it is); values out of range raise ``ValueError``."""
        if scenario is not None:
            _check_scenario(scenario)
        if seed is not None:
            _check_int(seed, "seed", SEED_RANGE)
        if epochs is not None:
            _check_int(epochs, "epochs", EPOCH_RANGE)
        if scenario is not None:
            self.scenario_dropdown.value = scenario
        if seed is not None:
            self.seed_input.value = seed
        if epochs is not None:
            self.epochs_slider.value = epochs
        return self

    # ---- training -------------------------------------------------------------------

    def train(self) -> dict:
        """Train the selected scenario now, redrawing after every epoch; return its row.

        The row is ``run_scenario``'s (auroc, auprc, pred_pos_rate, recall, diagnosis,
        escape_epoch, guard, ...). Invalid settings raise ``ValueError`` before training.
        """
        s = self.settings()
        if self.data is None:
            self.out.append_stdout("loading the cohort ...\n")
            self.data = load_cohort()
        self._reset(s["epochs"])
        self.train_button.disabled = True
        previous = torch.get_num_threads()
        try:
            if self.threads is not None:
                torch.set_num_threads(self.threads)
            row = repro.run_scenario(s["scenario"], self.data, seed=s["seed"],
                                     epochs=s["epochs"], callbacks=[_LiveCallback(self)])
        finally:
            torch.set_num_threads(previous)
            self.train_button.disabled = False
        self.row = row
        self.diagnosis = diagnose_metrics(row, setup=self._setup)
        self._show_result(row)
        return row

    def _on_click(self, _button) -> None:
        # An exception in a click handler only reaches the kernel's log: show it here.
        try:
            self.train()
        except Exception as err:  # noqa: BLE001 - shown to the user, not swallowed
            self.out.append_stderr(f"{type(err).__name__}: {err}\n")
            self.result.value = (f'<b class="brr-error" style="color:#b00">'
                                 f"{html.escape(type(err).__name__)}: {html.escape(str(err))}</b>")

    def _reset(self, epochs: int) -> None:
        self.history = []
        self.row = None
        self.diagnosis = None
        self.out.outputs = ()
        self.result.value = ""
        self.progress.max = epochs
        self.progress.value = 0
        self.progress.description = f"epoch 0/{epochs}"
        self.progress.bar_style = "info"
        self.figure.update_xaxes(range=[0.5, epochs + 0.5])
        self._redraw()

    def _on_fit_start(self, trainer) -> None:
        self.out.append_stdout("\n".join(_start_lines(self.settings(), self.data, trainer)) + "\n")

    def _on_epoch_end(self, record: dict) -> None:
        self.history.append(dict(record))
        self._redraw()
        epoch = record["epoch"]
        self.progress.value = epoch
        self.progress.description = f"epoch {epoch}/{self.progress.max}"
        self.out.append_stdout(_epoch_line(record))

    # ---- drawing --------------------------------------------------------------------

    def _on_scenario(self, _change=None) -> None:
        sc = repro.SCENARIOS[self.scenario_dropdown.value]
        self.about.value = (f"<b>{html.escape(sc.name)}</b>: {html.escape(sc.description)}<br>"
                            f"<i>claimed:</i> {html.escape(sc.claim)}")

    def _redraw(self) -> None:
        epochs = [r["epoch"] for r in self.history]
        columns = [[_plot_value(r.get(key)) for r in self.history] for key, *_ in PLOTTED]
        for trace, ys in zip(self.figure.data, columns):
            trace.update(x=epochs, y=ys)
        # The whole figure, each epoch: a few dozen numbers, one message (see figure_output).
        show_figure(self.plot, self.figure)

    def _show_result(self, row: dict) -> None:
        parts, text = _result(row, self.diagnosis)
        self.result.value = "".join(parts)
        self.out.append_stdout("\n".join(text) + "\n")
        self.progress.bar_style = "danger" if row.get("guard") else "success"


def _check_scenario(scenario) -> None:
    if scenario not in repro.SCENARIOS:
        raise invalid("scenario", _WHERE, f"one of {list(repro.SCENARIOS)}", scenario)


def _check_int(value, name: str, bounds: tuple[int, int]) -> None:
    check_int(value, name, _WHERE, low=bounds[0], high=bounds[1])
