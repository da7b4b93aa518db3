"""The Parquet dataset: one partition per run and table, atomic writes, skipping and resuming."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

import sim
from sim import atomic_io
from sim.sweep import executors
from sim.sweep.executors import InlineExecutor
from sim.sweep.plan import plan_sweep
from sim.sweep.result import load_sweep
from sim.sweep.runner import SweepFailed, execute_plan, merge_spec
from sim.sweep.store import PART, SweepStore, atomic_write_bytes
from sim.sweep.worker import WorkerMismatch, execute_run
from tests.sweep.conftest import RATE_KEY, small_scenario

GRID = {RATE_KEY: [2e6, 20e6]}


def partitions(out, table):
    return sorted(p.parent.name for p in (out / table).glob(f"run_id=*/{PART}"))


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A 2-point x 2-replication sweep run in this process."""
    out = tmp_path_factory.mktemp("sweep") / "out"
    result = sim.sweep(
        small_scenario(), grid=GRID, replications=2, out=out, workers=0, progress=False
    )
    return out, result


def test_every_run_lands_once_in_every_table(stored):
    out, result = stored
    assert result.executed == 4 and result.skipped == 0 and result.complete
    ids = sorted(f"run_id={r}" for r in result.runs["run_id"])
    for table in ("summary", "run_info", "requests", "devices", "servers", "stages"):
        assert partitions(out, table) == ids, table
    # A plain Parquet reader sees one dataset with the run id as a column.
    summary = pd.read_parquet(out / "summary")
    assert len(summary) == 4 * 3
    assert not summary.duplicated(["run_id", "strategy"]).any()
    assert set(summary["run_id"].astype(str)) == set(result.runs["run_id"])
    assert (out / "aggregate.csv").is_file() and (out / "sweep.json").is_file()
    assert not list(out.glob("**/.*tmp-*"))


def test_results_read_back_with_parameters(stored):
    out, _ = stored
    again = load_sweep(out)
    summary = again.summary
    assert list(summary.columns[:7]) == [
        "run_id", "point", "replication", "seed", "point_label", RATE_KEY, "strategy",
    ]  # fmt: skip
    assert list(summary["strategy"][:3]) == ["local", "offload", "bottlefit_c12"]
    requests = again.table("requests")
    assert set(requests[RATE_KEY]) == {2e6, 20e6} and len(requests) > 100
    agg = again.aggregate(["latency_mean_s"])
    assert set(agg["n"]) == {2} and len(agg) == 2 * 3


def test_rerun_skips_everything(stored):
    out, first = stored
    again = sim.sweep(
        small_scenario(), grid=GRID, replications=2, out=out, workers=0, progress=False
    )
    assert again.executed == 0 and again.skipped == 4
    pd.testing.assert_frame_equal(again.summary, first.summary)


def test_a_run_whose_summary_never_landed_is_redone_in_place(tmp_path):
    out = tmp_path / "out"
    first = sim.sweep(small_scenario(), grid=GRID, out=out, workers=0, progress=False)
    victim = first.runs["run_id"].iloc[1]
    before = pd.read_parquet(out / "requests" / f"run_id={victim}" / PART)
    # As if the driver died after writing the records but before the summary:
    (out / "summary" / f"run_id={victim}" / PART).unlink()
    stale = out / "requests" / f"run_id={victim}" / f".{PART}.tmp-deadbeef"
    stale.write_bytes(b"half a file")
    again = sim.sweep(small_scenario(), grid=GRID, out=out, workers=0, progress=False)
    assert again.executed == 1 and again.skipped == 1
    assert not stale.exists()
    after = pd.read_parquet(out / "requests" / f"run_id={victim}" / PART)
    pd.testing.assert_frame_equal(before, after)
    assert len(list((out / "requests" / f"run_id={victim}").iterdir())) == 1


def test_failed_runs_are_reported_and_the_others_kept(tmp_path, monkeypatch):
    scenario = small_scenario()
    plan = plan_sweep(scenario, merge_spec({"grid": GRID}))
    doomed = plan.runs[0].run_id

    def flaky(task):
        if task.run_id == doomed:
            raise RuntimeError("boom")
        return execute_run(task)

    monkeypatch.setattr(executors, "execute_run", flaky)
    store = SweepStore(tmp_path / "out")
    with pytest.raises(SweepFailed, match=r"1 of 2 runs failed.*boom") as err:
        execute_plan(plan, store, InlineExecutor(), progress=False)
    assert store.completed() == {plan.runs[1].run_id}
    assert not err.value.result.complete
    monkeypatch.undo()
    result = execute_plan(plan, store, InlineExecutor(), progress=False)
    assert result.executed == 1 and result.complete


def test_worker_resolves_unpicklable_scenarios_and_checks_the_key():
    plan = plan_sweep(small_scenario(), merge_spec({"grid": {RATE_KEY: [5e6]}}))
    task = next(iter(plan.tasks.values()))
    assert task.scenario_blob is not None
    from_blob = execute_run(task)
    from_raw = execute_run(dataclasses.replace(task, scenario_blob=None))
    assert from_blob.tables["summary"] == from_raw.tables["summary"]
    with pytest.raises(WorkerMismatch, match="resolved the scenario"):
        execute_run(dataclasses.replace(task, scenario_key="0" * 16))


def test_atomic_write_leaves_nothing_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "t" / "file.bin"
    atomic_write_bytes(target, b"one")

    def crash(*_args):
        raise OSError("killed before the rename")

    monkeypatch.setattr(atomic_io.os, "replace", crash)  # the writer lives in sim/atomic_io.py
    with pytest.raises(OSError, match="killed"):
        atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"one"
    assert [p.name for p in target.parent.iterdir()] == ["file.bin"]


def test_refuses_a_folder_that_is_not_a_sweeps(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(sim.SimInputError, match=r"no sweep\.json"):
        sim.sweep(small_scenario(), out=tmp_path, workers=0, progress=False)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_records_asked_after_a_summary_only_sweep_redo_its_runs(tmp_path):
    out = tmp_path / "out"
    first = sim.sweep(
        small_scenario(), seeds=[1], records=False, out=out, workers=0, progress=False
    )
    assert first.executed == 1 and not (out / "requests").exists()
    again = sim.sweep(small_scenario(), seeds=[1], out=out, workers=0, progress=False)
    assert again.executed == 1 and len(partitions(out, "requests")) == 1
    third = sim.sweep(
        small_scenario(), seeds=[1], records=False, out=out, workers=0, progress=False
    )
    assert third.executed == 0
