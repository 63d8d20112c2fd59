"""Committed notebooks carry no outputs and no widget state (see notebooks/README.md).

Outputs would only be stale copies of what nbval recomputes, and a saved FigureWidget
embeds a ~5 MB JavaScript bundle. Strip with
``jupyter nbconvert --clear-output --inplace notebooks/NAME.ipynb``.
"""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
MAX_BYTES = 200_000


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} have outputs or execution counts"
    assert "widgets" not in nb.metadata, f"{path.name} holds saved widget state"
    # A kernelspec lets JupyterLab start the kernel without asking.
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", path.name
    assert path.stat().st_size < MAX_BYTES, f"{path.name} is {path.stat().st_size} bytes"
