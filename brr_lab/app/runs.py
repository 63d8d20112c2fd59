"""Slow work on a lesson page starts with a button, shows a progress bar, then its result.

A page never trains or grades while it loads: it builds a :class:`ButtonRun` around a
function of the library, and the class presses the button. Errors become one readable
line on the page (no traceback), and the button comes back for another try.
"""
from __future__ import annotations

import html
import time
from typing import Callable

import ipywidgets as widgets

from brr_lab.app.render import note

__all__ = ["ButtonRun"]


def _seconds(s: float) -> str:
    return f"{s:.1f} s" if s < 10 else f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"


class ButtonRun(widgets.VBox):
    """A button, a progress bar and a result area for ``work``.

    Args:
        label: the button's text ("Train", "Grade", ...).
        work: ``work(step)`` does the job and returns what to show: a widget, an HTML
            string, or a list of them. It calls ``step(text)`` before each of its
            ``n_steps`` stages, so the bar moves and says what is running.
        n_steps: how many times ``work`` calls ``step``.
        controls: widgets shown before the button (a scenario picker, ...).

    Read by tests: ``button``, ``progress``, ``status`` (HTML), ``result`` (VBox).
    """

    def __init__(self, label: str, work: Callable, *, n_steps: int, controls=(), **kwargs):
        self.work = work
        # width auto: the label in full ("Grade the postmortem" was cut to its first words).
        self.button = widgets.Button(description=label, button_style="primary", icon="play",
                                     layout=widgets.Layout(width="auto"))
        self.button.add_class("brr-run-button")
        self.progress = widgets.IntProgress(value=0, min=0, max=n_steps, description="",
                                            layout=widgets.Layout(width="30em"))
        self.progress.add_class("brr-run-progress")
        self.status = widgets.HTML()
        self.status.add_class("brr-run-status")
        self.result = widgets.VBox()
        self.result.add_class("brr-run-result")
        super().__init__([widgets.HBox([*controls, self.button]),
                          widgets.HBox([self.progress, self.status]), self.result], **kwargs)
        self.add_class("brr-button-run")
        self.button.on_click(lambda _b: self.run())

    def _step(self, text: str) -> None:
        self.progress.value = min(self.progress.value + 1, self.progress.max)
        self.status.value = (f"<span class='brr-running'>{html.escape(text)} "
                             f"(step {self.progress.value} of {self.progress.max})</span>")

    def run(self) -> None:
        """What a click does: reset, run ``work`` with the bar moving, show its result."""
        self.button.disabled = True
        self.progress.value, self.progress.bar_style = 0, "info"
        self.result.children = ()
        t0 = time.monotonic()
        try:
            shown = self.work(self._step)
        except Exception as err:  # noqa: BLE001 - shown on the page, where the class looks
            self.progress.bar_style = "danger"
            self.status.value = ""
            self.result.children = (widgets.HTML(note(f"{type(err).__name__}: {err}", "error",
                                                      css="brr-error")),)
        else:
            self.progress.value, self.progress.bar_style = self.progress.max, "success"
            # The time it took, measured here: a class learns what a cached run saves.
            took = _seconds(time.monotonic() - t0)
            self.status.value = f"<span class='brr-done'>done in {took}</span>"
            items = shown if isinstance(shown, (list, tuple)) else [shown]
            self.result.children = tuple(widgets.HTML(x) if isinstance(x, str) else x
                                         for x in items)
        finally:
            self.button.disabled = False
