"""Executing a notebook in the test suite: checks its shape, sets its parameters by environment."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO


def execute_notebook(path: Path, env: dict[str, str], monkeypatch: pytest.MonkeyPatch):
    """Run ``path`` with nbclient under ``env``; returns the executed notebook.

    The notebook must be committed without large outputs and take its parameters in a
    first code cell tagged ``parameters`` (read from the environment).
    """
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(path, as_version=4)
    assert sum(len(str(c.get("outputs", ""))) for c in notebook.cells) < 50_000
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", [])
    for key, value in {**env, "MPLBACKEND": "Agg"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()  # raises CellExecutionError with the cell and traceback on failure
    errors = [
        o for c in notebook.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert not errors
    return notebook
