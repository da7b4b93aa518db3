"""What runs on a worker (a local process or a Dask worker): one run, returned as Parquet bytes.

A task carries the resolved scenario, pickled (cloudpickle is tried when a
user's extension holds something the standard pickle refuses), so a worker needs no scenario, profile or trace
files and skips re-resolving them (about 0.5 s per run). Where the scenario
cannot be pickled the worker resolves the raw data again. Either way it checks
that the scenario hashes to the key the driver computed, so a worker with
another simulator version (or other files) fails loudly instead of storing
different results under the same id. Tables travel as compressed Parquet,
which keeps the driver's work to writing bytes.
"""

from __future__ import annotations

import io
import os
import pickle
import platform
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

RECORD_TABLES = ("requests", "devices", "servers", "batches", "background", "stages")
"""Per-run tables stored when a sweep keeps records (batches and background as the
scenario's ``outputs`` ask)."""
COMMIT_TABLE = "summary"
"""Written last: a run is complete exactly when its summary partition exists."""


class RunInterrupted(RuntimeError):
    """The run was stopped (Ctrl-C reached the worker); nothing of it is stored."""


class WorkerMismatch(RuntimeError):
    """The worker resolved the scenario to something else than the driver did."""


@dataclass(frozen=True)
class RunTask:
    """One run to execute: which scenario (raw data + its file), which seed, what to keep."""

    run_id: str
    scenario_key: str
    raw: dict[str, Any]
    path: str | None
    seed: int
    strategies: tuple[str, ...] | None
    records: bool
    scenario_blob: bytes | None = None


@dataclass(frozen=True)
class RunOutput:
    """A finished run: its tables as Parquet bytes in write order (summary last)."""

    run_id: str
    tables: dict[str, bytes]
    wall_s: float
    requests: int


def pickle_scenario(scenario: Any) -> bytes | None:
    """The resolved scenario as bytes (pickle, else cloudpickle), or None if neither can."""
    try:
        return pickle.dumps(scenario, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, AttributeError, TypeError):
        pass
    try:
        import cloudpickle
    except ImportError:
        return None
    try:
        return cloudpickle.dumps(scenario, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        return None


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def execute_run(task: RunTask) -> RunOutput:
    """Resolve the task's scenario, run it with its seed, and return its tables."""
    import pandas as pd  # here, not at the top: planning a sweep imports this module

    from sim.api import run
    from sim.provenance import provenance, version
    from sim.scenario.load import build_scenario
    from sim.sweep.identity import scenario_key

    started, started_unix_s = time.perf_counter(), time.time()
    if task.scenario_blob is not None:
        scenario = pickle.loads(task.scenario_blob)
    else:
        scenario = build_scenario(task.raw, Path(task.path) if task.path else None)
    key = scenario_key(scenario, task.strategies)
    if key != task.scenario_key:
        raise WorkerMismatch(
            f"run {task.run_id}: worker {platform.node()} resolved the scenario to {key}, "
            f"the driver to {task.scenario_key}; profiles, traces or the simulator version "
            "differ on this worker (give every worker the same files and version)"
        )
    results = run(scenario, task.strategies, seed=task.seed)
    if results.interrupted:
        raise RunInterrupted(f"run {task.run_id} was interrupted")
    outputs = scenario.spec.outputs
    frames: dict[str, pd.DataFrame] = {}
    if task.records:
        for name in RECORD_TABLES:
            if name == "batches" and not outputs.per_batch:
                continue
            if name == "background" and not outputs.background:
                continue
            frames[name] = getattr(results, name)
    else:
        frames["stages"] = results.stages
    summary = results.summary.copy()
    summary.insert(1, "seed", task.seed)
    frames[COMMIT_TABLE] = summary
    tables = {name: parquet_bytes(f) for name, f in frames.items() if len(f.columns)}
    wall_s = time.perf_counter() - started
    info = {
        "seed": task.seed,
        "scenario_key": key,
        "wall_s": wall_s,  # resolving, simulating, summarising and serialising [s]
        "started_unix_s": started_unix_s,
        "requests_simulated": len(results.requests),
        "host": platform.node(),
        "pid": os.getpid(),
        "simulator": version(),
        **{k: v for k, v in provenance().items() if k != "simulator_version"},
        "finished_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
    }
    tables["run_info"] = parquet_bytes(pd.DataFrame([info]))
    ordered = {name: tables[name] for name in tables if name != COMMIT_TABLE}
    ordered[COMMIT_TABLE] = tables[COMMIT_TABLE]
    return RunOutput(task.run_id, ordered, wall_s, len(results.requests))
