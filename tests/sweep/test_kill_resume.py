"""Kill a sweep for real (a subprocess and a signal) and run it again: every run exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pandas as pd

import sim
from sim.sweep.plan import plan_sweep
from sim.sweep.runner import merge_spec
from sim.sweep.store import PART, SweepStore
from sim.sweep.worker import execute_run
from tests.sweep.conftest import RATE_KEY, SCENARIO, sim_command, subprocess_env

RUNS = 6  # 2 rates x 3 replications, ~0.3 s each
SETS = ["duration_s=4", "warmup_s=0.5", "devices.pi.count=2"]


def sweep_args(out: Path, workers: int = 1) -> list[str]:
    return sim_command(
        "sweep", SCENARIO, *(f"--set={s}" for s in SETS), f"--grid={RATE_KEY}=2e6,20e6",
        "--replications=3", f"--workers={workers}", "--quiet", "--no-plots", f"--out={out}",
    )  # fmt: skip


def start_and_stop(out: Path, sig: int, after_runs: int = 2) -> tuple[int, str]:
    """Start the sweep in its own process group; send ``sig`` to the group once
    ``after_runs`` runs are stored; return its exit code and what it printed on stderr."""
    process = subprocess.Popen(
        sweep_args(out),
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    store = SweepStore(out)
    try:
        deadline = time.monotonic() + 90
        while len(store.completed()) < after_runs:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.02)
        os.killpg(process.pid, sig)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    group_gone(process.pid)
    return process.returncode, stderr.decode()


def group_gone(pgid: int, timeout_s: float = 10.0) -> None:
    """Every process of the group has exited (the worker processes too)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.killpg(pgid, signal.SIGKILL)
    raise AssertionError(f"processes of group {pgid} outlived the sweep")


def finish(out: Path) -> str:
    """Run the same sweep again to the end (in one process: the killed run used a pool)."""
    done = subprocess.run(
        sweep_args(out, workers=0),
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def assert_every_run_once(out: Path) -> None:
    result = sim.sweep.load_sweep(out)
    ids = set(result.runs["run_id"])
    assert len(ids) == RUNS and result.complete
    for table in ("summary", "run_info", "requests", "devices", "servers", "stages"):
        partitions = list((out / table).glob("run_id=*"))
        assert {p.name.removeprefix("run_id=") for p in partitions} == ids, table
        assert all([f.name for f in p.iterdir()] == [PART] for p in partitions), table
    summary = pd.read_parquet(out / "summary")
    assert len(summary) == RUNS * 3
    assert not summary.duplicated(["run_id", "strategy"]).any()
    requests = result.table("requests")
    assert not requests.duplicated(["run_id", "strategy", "group", "device", "t_arrival"]).any()
    per_run = requests.groupby("run_id").size()
    assert set(per_run.index) == ids and (per_run > 0).all()
    assert not list(out.glob("**/.*.tmp-*"))


def test_sigkill_midway_then_rerun_completes_every_run_exactly_once(tmp_path):
    out = tmp_path / "out"
    start_and_stop(out, signal.SIGKILL)
    stored = SweepStore(out).completed()
    assert 2 <= len(stored) < RUNS  # killed midway
    printed = finish(out)
    assert f"({len(stored)} stored, {RUNS - len(stored)} to run" in printed
    assert_every_run_once(out)
    # A run stored before the kill and one done after it hold what a fresh run gives.
    plan = plan_sweep(
        sim.load(SCENARIO, SETS), merge_spec({"grid": {RATE_KEY: [2e6, 20e6]}, "replications": 3})
    )
    assert {r.run_id for r in plan.runs} == set(sim.sweep.load_sweep(out).runs["run_id"])
    before = next(iter(stored))
    after = next(r.run_id for r in plan.runs if r.run_id not in stored)
    for run_id in (before, after):
        fresh = execute_run(plan.tasks[run_id]).tables["summary"]
        assert fresh == (out / "summary" / f"run_id={run_id}" / PART).read_bytes()


def test_ctrl_c_terminates_the_workers_and_says_how_to_resume(tmp_path):
    out = tmp_path / "out"
    returncode, stderr = start_and_stop(out, signal.SIGINT)  # also checks no process outlives it
    assert returncode == 130, stderr
    assert "run the same command again to resume" in stderr
    stored = SweepStore(out).completed()
    assert 2 <= len(stored) < RUNS
    for run_id in stored:  # whatever is stored is whole
        assert len(pd.read_parquet(out / "summary" / f"run_id={run_id}" / PART)) == 3
        assert (out / "requests" / f"run_id={run_id}" / PART).is_file()
