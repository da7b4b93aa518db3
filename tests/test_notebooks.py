"""The notebooks run end to end at reduced size (SIM_NOTEBOOK_QUICK=1), as a user would run them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = [
    REPO / "notebooks" / f"{name}.ipynb"
    for name in ("01_quick_start", "02_uplink_rate_sweep", "03_edge_load_sweep")
]
"""The sweep notebooks; each reads SIM_NOTEBOOK_QUICK in its first ("parameters") cell."""


def test_the_notebooks_exist():
    assert all(path.is_file() for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_small(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    notebook = nbformat.read(path, as_version=4)
    # Committed without outputs (or with small ones), and parametrised by its first code cell.
    assert sum(len(str(c.get("outputs", ""))) for c in notebook.cells) < 50_000
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert "parameters" in first_code.metadata.get("tags", [])
    monkeypatch.setenv("SIM_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("SIM_NOTEBOOK_OUT", str(tmp_path / "out"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
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
    assert (tmp_path / "out").is_dir()  # sweeps wrote to the test's folder, not the checkout
