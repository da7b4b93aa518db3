"""Every column a run writes is in the output data dictionary (sim/output_columns.py)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

import sim
from sim.output_columns import SUMMARY_JSON, TABLES, markdown
from tests.conftest import REPO

# Short runs that together write every table: decision policies (their per-device counters),
# background tenants and batches, a progressive (early-exit) plan when a scenario has one.
SCENARIOS = ["policy_congested", "early_exit_jetson", "congested_lte"]


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> list:
    folders = []
    for name in SCENARIOS:
        path = REPO / "scenarios" / f"{name}.yaml"
        if not path.exists():
            continue
        scenario = sim.load(path, ["duration_s=3", "warmup_s=1", "devices.0.count=2"])
        out = tmp_path_factory.mktemp(name) / "run"
        sim.run(scenario).write(out, plots=False)
        folders.append(out)
    assert folders
    return folders


def test_every_written_column_is_documented(written):
    undocumented = []
    for folder in written:
        for table in TABLES:
            file = folder / table.file
            if not file.exists():
                continue
            columns = pd.read_parquet(file).columns
            undocumented += [f"{table.file}: {c}" for c in columns if not table.documents(c)]
    assert not undocumented, (
        "document these columns in sim/output_columns.py (unit, meaning, which requests):\n"
        + "\n".join(sorted(set(undocumented)))
    )


def test_every_summary_json_key_is_documented(written):
    for folder in written:
        keys = set(json.loads((folder / "summary.json").read_text()))
        assert keys <= set(SUMMARY_JSON), sorted(keys - set(SUMMARY_JSON))


def test_every_documented_table_is_written(written):
    files = {p.name for folder in written for p in folder.iterdir()}
    assert {t.file for t in TABLES} <= files


def test_the_page_lists_every_column():
    page = markdown()
    for table in TABLES:
        assert f"## `{table.file}`" in page
        for column in table.columns:
            assert f"| `{column}` |" in page
