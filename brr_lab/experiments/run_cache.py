"""Finished runs kept on disk: one JSON file per trained model and seed, in a folder keyed by
the cohort, the budget, the library versions and the source of every layer a run imports."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch

from brr_lab.eeg.cohort import Cohort, cache_dir

__all__ = ["results_cache", "run_code_digest", "read_cached", "write_cached"]

_ABOVE_RUNS = ("widgets", "app", "cli", "postmortem", "__main__.py")


def run_code_digest(package: Path) -> str:
    """The source of every layer of ``package`` a run can import (docs/architecture.md;
    tests/test_layout.py holds the layers to it). The panels, lessons, report card and
    command line sit above the runs and cannot change one, so editing them keeps the cache."""
    code = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        if source.relative_to(package).parts[0] not in _ABOVE_RUNS:
            code.update(source.relative_to(package).as_posix().encode())
            code.update(source.read_bytes())
    return code.hexdigest()


def results_cache(cohort: Cohort, epochs: int, device: str) -> Path | None:
    """Where finished runs of this code on this cohort are kept (``cache=True``), or None."""
    if cohort.key is None:
        return None
    import numpy
    import sklearn

    code = hashlib.sha256(run_code_digest(Path(__file__).resolve().parents[1]).encode())
    code.update(f"{torch.__version__} {numpy.__version__} {sklearn.__version__}".encode())
    for part in (cohort.train, cohort.calibration, cohort.validation):  # the data themselves
        code.update(part.y.numpy().tobytes())
        code.update(part.X[::97].numpy().tobytes())
    if cohort.events is not None:
        for name in ("calibration", "validation"):
            for rec, x in cohort.events.part(name).signals.items():
                code.update(rec.encode())
                code.update(x[:, ::997].numpy().tobytes())
    folder = cache_dir() / "runs" / f"{cohort.key}-e{epochs}-{device}-{code.hexdigest()[:16]}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


def read_cached(folder: Path | None, names: tuple[str, ...], seed: int) -> list[dict] | None:
    """The rows of ``names`` for ``seed`` from the cache, or None. A file written for a group
    that trained the same model for more scenarios serves any of them (``brr-lab repro``
    trains bce once for bce and threshold-moved; the report card asks for bce alone)."""
    if folder is None:
        return None
    for path in sorted(folder.glob(f"*-seed{seed}.json")):
        if set(names) <= set(path.name[:-len(f"-seed{seed}.json")].split("+")):
            rows = [r for r in json.loads(path.read_text()) if r["scenario"] in names]
            if len(rows) == len(names):
                return rows
    return None


def write_cached(folder: Path | None, names: tuple[str, ...], seed: int, rows: list[dict]) -> None:
    """Keep ``rows`` (one group's runs for ``seed``); atomic, so a reader never sees half a file."""
    if folder is None:
        return
    path = folder / f"{'+'.join(names)}-seed{seed}.json"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(rows))  # NaN stays NaN: this file is read back by Python only
    os.replace(tmp, path)
