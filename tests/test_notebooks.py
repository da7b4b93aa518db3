"""The notebooks run end to end at reduced size (SIM_NOTEBOOK_QUICK=1), as a user would run them."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.sweep import load_sweep
from tests.conftest import REPO
from tests.notebook_runner import execute_notebook

NOTEBOOKS = [
    REPO / "notebooks" / f"{name}.ipynb"
    for name in ("01_quick_start", "02_uplink_rate_sweep", "03_edge_load_sweep")
]
"""The sweep notebooks; each reads SIM_NOTEBOOK_QUICK in its first ("parameters") cell."""


def test_the_notebooks_exist():
    assert all(path.is_file() for path in NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_small(path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    execute_notebook(
        path, {"SIM_NOTEBOOK_QUICK": "1", "SIM_NOTEBOOK_OUT": str(tmp_path / "out")}, monkeypatch
    )
    # The notebook's sweeps were stored in the test's folder (not the checkout), complete and
    # with every run's summary rows.
    stored = sorted((tmp_path / "out").rglob("sweep.json"))
    assert stored, f"{path.name} stored no sweep under SIM_NOTEBOOK_OUT"
    for marker in stored:
        result = load_sweep(marker.parent)
        assert result.complete and len(result.runs) >= 2, marker
        assert result.runs["done"].all(), marker
        assert set(result.summary["run_id"]) == set(result.runs["run_id"]), marker
