"""Checkpoint files: atomic writes that leave nothing behind, and loads that name the file.

:func:`atomic_save` writes ``.<name>.<pid>.tmp`` in the target's folder, flushes it to
disk and renames it over the target, so a reader sees the old file or the new one,
never half of one. The temporary file is removed on any exception (KeyboardInterrupt
from SIGINT included) and on SIGTERM (caught during the write, then re-delivered); a
SIGKILL cannot be caught, so each save first removes temporary files of the same
target left by processes that no longer run.

:func:`load` reads with ``torch.load(..., weights_only=True)`` (tensors and plain data,
no code) and turns every failure into a :class:`CheckpointError` naming the file,
its size and what is wrong (empty, truncated, not a checkpoint).
"""
from __future__ import annotations

import os
import re
import signal
import threading
from pathlib import Path
from typing import Any

import torch

from brr_lab._validation import BrrLabError

__all__ = ["CheckpointError", "atomic_save", "load", "temp_path", "remove_stale_temps",
           "trainer_state", "save_epoch", "resume"]


class CheckpointError(BrrLabError):
    """A checkpoint file that cannot be loaded; the message names it."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem}")


def temp_path(path: Path, pid: int | None = None) -> Path:
    return path.with_name(f".{path.name}.{os.getpid() if pid is None else pid}.tmp")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (another user's), or unknown: leave its file alone
    return True


def remove_stale_temps(path: Path) -> list[Path]:
    """Remove ``.<name>.<pid>.tmp`` files next to ``path`` whose process no longer runs."""
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.(\d+)\.tmp$")
    removed = []
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry.name)
        if match and not _alive(int(match.group(1))):
            try:
                entry.unlink()
                removed.append(entry)
            except OSError:
                pass
    return removed


class _Signalled(BaseException):
    def __init__(self, signum: int):
        self.signum = signum


_CAUGHT = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None))
                if s is not None)


def atomic_save(obj: Any, path: Path | str) -> None:
    """``torch.save`` to ``path`` through a temporary file; nothing is left on failure."""
    path = Path(path)
    remove_stale_temps(path)
    tmp = temp_path(path)
    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        def handler(signum, frame):
            raise _Signalled(signum)
        for sig in _CAUGHT:
            # Only default handlers are replaced: a program's own handler keeps working.
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                previous[sig] = signal.signal(sig, handler)
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        try:
            tmp.unlink()
        except OSError:
            pass
        for sig, old in previous.items():
            signal.signal(sig, old)
        previous.clear()
        if isinstance(err, _Signalled):
            signal.raise_signal(err.signum)  # the default action, now the file is gone
        raise
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def load(path: Path | str, map_location: Any = "cpu") -> dict:
    """Load a checkpoint with ``weights_only=True``; any failure is a :class:`CheckpointError`."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise CheckpointError(path, f"cannot read the checkpoint ({err.strerror or err}).") from None
    if size == 0:
        raise CheckpointError(path, "the checkpoint is empty (0 bytes): its write was interrupted, "
                                    "or it is not a checkpoint. Use another one (best.pt / last.pt).")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises RuntimeError, EOFError, UnpicklingError, ...
        detail = " ".join(str(err).split())
        if len(detail) > 300:
            detail = detail[:300] + " ..."
        raise CheckpointError(
            path, f"cannot load this checkpoint ({size} bytes): it is truncated, corrupt or not a "
                  f"torch checkpoint ({type(err).__name__}: {detail}).") from None
    if not isinstance(state, dict):
        raise CheckpointError(path, f"a checkpoint must hold a dict. Got a {type(state).__name__}.")
    return state


# ---------------------------------------------------------------------- a trainer's files
def trainer_state(trainer, record: dict) -> dict:
    """What ``last.pt``/``best.pt`` hold: weights, optimiser, scaler, history, config."""
    return {
        "model": trainer.model.state_dict(),
        "optimizer": trainer.optimizer.state_dict(),
        "scaler": trainer.scaler.state_dict(),
        "epoch": record["epoch"],
        "history": [dict(r) for r in trainer.history],
        "best_auroc": trainer.best_auroc,
        "config": trainer.config.model_dump(),
    }


def save_epoch(trainer, record: dict, folder: Path, improved: bool) -> None:
    """``last.pt`` after every completed epoch; ``best.pt`` too when the held-out AUROC improved."""
    folder.mkdir(parents=True, exist_ok=True)
    state = trainer_state(trainer, record)
    atomic_save(state, folder / "last.pt")
    if improved:
        atomic_save(state, folder / "best.pt")


def resume(trainer, resume: bool | str | os.PathLike) -> int:
    """Load ``resume`` (True: ``<checkpoint_dir>/last.pt``) into ``trainer``; return its epoch."""
    from brr_lab._validation import invalid

    if resume is True:
        if not trainer.settings.checkpoint_dir:
            raise invalid("resume", "Trainer.fit", "a checkpoint path, or True with "
                          "config.checkpoint_dir set", resume)
        resume = Path(trainer.settings.checkpoint_dir) / "last.pt"
    path = Path(resume)
    if not path.is_file():
        raise invalid("resume", "Trainer.fit", "an existing checkpoint file", str(path))
    state = load(path, map_location=trainer.device)
    trainer.model.load_state_dict(state["model"])
    trainer.optimizer.load_state_dict(state["optimizer"])
    trainer.scaler.load_state_dict(state["scaler"])
    trainer.history = list(state["history"])
    trainer.best_auroc = state["best_auroc"]
    trainer.log(f"[brr-lab] resumed from {path} after epoch {state['epoch']}")
    return int(state["epoch"])
