"""The sensitivity-and-search notebook runs end to end at reduced size."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.notebook_runner import execute_notebook

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_sensitivity_and_search_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = REPO / "notebooks" / "sensitivity_and_search.ipynb"
    execute_notebook(
        path, {"SIM_NOTEBOOK_QUICK": "1", "SIM_NOTEBOOK_OUT": str(tmp_path / "out")}, monkeypatch
    )
    out = tmp_path / "out"
    assert (out / "sensitivity" / "notebook_quick" / "indices.csv").is_file()
    assert (out / "optimize" / "notebook_quick" / "trials.csv").is_file()
