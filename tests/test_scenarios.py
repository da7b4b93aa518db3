"""Every shipped scenario loads, runs (shortened, fixed seed) and writes a complete output folder."""

from __future__ import annotations

import json

import pytest

import sim
from tests.conftest import REPO, SHARED

SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml"))


def test_there_are_scenarios():
    assert {p.stem for p in SCENARIOS} >= {"congested_lte", "jetson_office_wifi", "light_5g"}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario_runs_short(path, tmp_path):
    if "shared/traces" in path.read_text() and not (SHARED / "traces").is_dir():
        pytest.skip(f"{path.name} replays public traces; {SHARED / 'traces'} is not available")
    spec = sim.load(path).spec
    duration = min(spec.duration_s, spec.warmup_s + 6.0)
    scenario = sim.load(path, [f"duration_s={duration}"], seed=1)
    results = sim.run(scenario)
    assert len(results.requests) > 0
    summary = results.summary
    assert list(summary["strategy"]) == scenario.strategy_labels
    assert (summary["requests"] > 0).all()
    out = results.write(tmp_path / "out", plots=True)
    meta = json.loads((out / "summary.json").read_text())
    assert meta["status"] == "complete"
    for name in meta["files"]:
        assert (out / name).is_file(), name
    assert (out / "plots" / "latency_cdf.png").stat().st_size > 1000
