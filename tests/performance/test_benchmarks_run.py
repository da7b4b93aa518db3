"""``python -m benchmarks --quick`` runs end to end and prints every row of issue 16's table;
the Ciw yardstick models M/M/1; the profile split accounts for all profiled time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_quick_benchmark_prints_every_row(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    text = done.stdout
    for figure in (
        "yardstick: SimPy M/M/1",
        "Ciw M/M/1",
        "congested_lte, device requests per CPU s / yardstick",
        "same, dedicated constant-rate links / yardstick",
        "SimPy events per device request",
        "cost per request, 1000 vs 10 devices",
        "full records",
        "records streamed",
        "`import sim`",
        "`import sim.api`",
        "planning a sweep point",
        "city:",
        "where congested_lte's time goes",
    ):
        assert figure in text, figure
    figures = json.loads(out.read_text())["figures"]
    assert 0 < figures["congested"]["ratio"] < figures["dedicated"]["ratio"]
    assert figures["congested"]["requests"] > 0
    assert figures["scale"]["physical"]["ratio"] > 0
    assert figures["rss1m"]["peak_rss_mib"] > 50  # a Python process with numpy and pandas
    assert figures["city"]["requests"] > 0 and figures["city"]["child_peak_rss_mib"] > 50
    shares = [row["share"] for row in figures["stages"]["stages"]]
    assert sum(shares) == pytest.approx(1.0)
    if "skipped" not in figures["ciw"]:
        assert figures["ciw"]["jobs_per_cpu_s"] > 0


def test_ciw_yardstick_is_an_mm1():
    """Ciw's M/M/1 at rho = 0.5 (mu = 1/s): mean time in system 1/(mu - lambda) = 2 s
    within its 99 % batch-means interval."""
    pytest.importorskip("ciw", reason="ciw is not installed (the dev extra)")
    from benchmarks.ciw_reference import ciw_mm1

    out = ciw_mm1(40_000, rho=0.5, seed=3)
    assert out is not None and out["jobs"] >= 40_000
    sojourn = out["sojourn_s"][4_000:]
    batches = sojourn[: len(sojourn) // 20 * 20].reshape(20, -1).mean(axis=1)
    half = 2.861 * batches.std(ddof=1) / 20**0.5  # t(0.995, 19 df)
    assert abs(batches.mean() - 2.0) < half


def test_profile_split_gives_every_second_to_one_stage():
    """A profile of a small run: the stages' seconds add up to the profile's own total, and
    numpy's time lands on the simulator stages that called it (nothing left unattributed
    beyond a sliver)."""
    from benchmarks.stages import OTHER, profile_run

    prof = profile_run(["duration_s=2", "warmup_s=0.5"], "bottlefit_c12")
    total = sum(row["seconds"] for row in prof["stages"])
    assert total == pytest.approx(prof["profiled_s"], rel=1e-9)
    other = sum(row["share"] for row in prof["stages"] if row["stage"] == OTHER)
    assert other < 0.2
