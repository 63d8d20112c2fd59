"""The trainer's hooks: subclass :class:`Callback` and pass instances to ``Trainer(callbacks=...)``."""
from __future__ import annotations

from typing import TYPE_CHECKING

from torch import Tensor

if TYPE_CHECKING:
    from brr_lab.training.trainer import Trainer

__all__ = ["Callback"]


class Callback:
    """Hooks into the loop. Set ``trainer.stop_training = True`` to stop after this epoch.

    ``on_batch_forward`` runs after the loss and before ``backward`` (register tensor
    hooks on ``logits`` there); ``on_epoch_end`` may add keys to ``record`` before it
    enters the history and the checkpoint.
    """

    def on_fit_start(self, trainer: "Trainer") -> None: ...
    def on_epoch_start(self, trainer: "Trainer", epoch: int) -> None: ...
    def on_batch_forward(self, trainer: "Trainer", step: int, logits: Tensor, targets: Tensor,
                         loss: Tensor) -> None: ...
    def on_batch_end(self, trainer: "Trainer", step: int, loss: Tensor) -> None: ...
    def on_epoch_end(self, trainer: "Trainer", record: dict) -> None: ...
    def on_fit_end(self, trainer: "Trainer") -> None: ...
