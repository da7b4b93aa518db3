"""Evaluating parameter points with the sweep machinery: one zip sweep, one row per point.

A study's points (a SALib design, an Optuna trial) become a ``zip`` sweep over
their keys (:func:`sim.sweep.runner.merge_spec`, :func:`~sim.sweep.plan.plan_sweep`,
:func:`~sim.sweep.runner.execute_plan`), so each run has the sweep's identity,
its common random numbers (the same replication seeds at every point), its
resumable Parquet store and its executors (local processes or Dask). Repeated
points (Morris trajectories share grid points) are run once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.analysis.metrics import Metric, RecordMetric, metric_name
from sim.sweep.expand import format_value


@dataclass(frozen=True)
class Execution:
    """Where runs execute (see :func:`sim.sweep.executors.make_executor`)."""

    workers: int | None = None
    scheduler: str | None = None
    local_cluster: bool = False
    retries: int = 1
    progress: bool = True


def check_execution(workers: int | None, trials_or_samples: int, option: str) -> None:
    """Counts the command line passes through: one line and exit 2 when out of range."""
    from sim.errors import SimInputError

    if workers is not None and workers < 0:
        raise SimInputError("workers must be >= 0", file="--workers", value=workers)
    if trials_or_samples < 1:
        raise SimInputError("must be >= 1", file=option, value=trials_or_samples)


def point_key(point: Mapping[str, Any]) -> str:
    """A stable text of a point's values (for removing repeats)."""
    return "|".join(f"{k}={format_value(v)}" for k, v in point.items())


def run_points(
    scenario: Any,
    points: Sequence[Mapping[str, Any]],
    *,
    metrics: Sequence[Metric],
    out: Path,
    replications: int = 1,
    seed: int | None = None,
    strategies: Sequence[str] | None = None,
    execution: Execution = Execution(),
) -> pd.DataFrame:
    """Run every point with ``replications`` seeds into the sweep store ``out``.

    Returns one row per (point index in ``points``, replication, strategy): the
    point's values, ``run_id``, ``seed`` and one column per metric. Runs already
    stored in ``out`` are not run again.
    """
    from sim.sweep.executors import make_executor
    from sim.sweep.plan import plan_sweep
    from sim.sweep.result import SweepResult
    from sim.sweep.runner import execute_plan, merge_spec
    from sim.sweep.store import SweepStore

    keys = list(points[0]) if points else []
    unique: dict[str, int] = {}
    for point in points:
        unique.setdefault(point_key(point), len(unique))
    firsts: dict[str, Any] = {}
    for point in points:
        firsts.setdefault(point_key(point), point)
    distinct = list(firsts.values())
    needs_records = any(isinstance(m, RecordMetric) for m in metrics)
    spec = merge_spec(
        None,
        zipped=[{k: [p[k] for p in distinct] for k in keys}] if keys else [],
        replications=replications,
        seed=seed,
        strategies=strategies,
        records=needs_records,
        source="study",
    )
    plan = plan_sweep(scenario, spec, progress=execution.progress)
    store = SweepStore(out)
    store.check_usable()
    executor = None
    if plan.missing(store):
        executor = make_executor(
            execution.workers,
            scheduler=execution.scheduler,
            local_cluster=execution.local_cluster,
            retries=execution.retries,
        )
    execute_plan(plan, store, executor, progress=execution.progress)
    result = SweepResult(out)
    rows = result.table("summary")
    names = [m for m in metrics if isinstance(m, str)]
    frame = rows[["run_id", "point", "replication", "seed", "strategy", *names]].copy()
    for metric in metrics:
        if isinstance(metric, RecordMetric):
            frame[metric.name] = _record_metric(result, metric, frame)
    # Back from distinct sweep points to the caller's points (repeats share runs).
    by_sweep_point = {i: part for i, part in frame.groupby("point", sort=True)}
    pieces = []
    for index, point in enumerate(points):
        part = by_sweep_point[unique[point_key(point)]].drop(columns=["point"]).copy()
        part.insert(0, "point", index)
        for offset, key in enumerate(keys):
            part.insert(1 + offset, key, [point[key]] * len(part))
        pieces.append(part)
    columns = ["point", *keys, "run_id", "replication", "seed", "strategy"]
    columns += [metric_name(m) for m in metrics]
    if not pieces:
        return pd.DataFrame(columns=columns)
    return pd.concat(pieces, ignore_index=True)[columns]


def _record_metric(result: Any, metric: RecordMetric, frame: pd.DataFrame) -> list[float]:
    table = result.store.read_table(metric.table, frame["run_id"].unique())
    values = []
    groups = {
        key: part for key, part in table.groupby(["run_id", "strategy"], sort=False, observed=True)
    }
    for run_id, strategy in zip(frame["run_id"], frame["strategy"], strict=True):
        part = groups.get((run_id, strategy))
        values.append(float(metric.fn(part)) if part is not None else math.nan)
    return values


def point_means(rows: pd.DataFrame, keys: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """Mean over replications per (point, strategy), with ``n`` and the t-interval half-width
    of each metric (``<metric>_ci``)."""
    from sim.sweep.aggregate import t_interval

    out = []
    for (point, strategy), part in rows.groupby(["point", "strategy"], sort=True):
        row: dict[str, Any] = {"point": point, "strategy": strategy}
        row.update({k: part[k].iloc[0] for k in keys})
        row["n"] = len(part)
        for metric in metrics:
            stats = t_interval(part[metric].to_numpy(dtype=float))
            row[metric] = stats["mean"]
            row[f"{metric}_ci"] = stats["half_width"]
        out.append(row)
    return pd.DataFrame(out)


STUDY_MARKER = ".splitsim-study"
"""Marker of a study's output folder (JSON: which kind of study wrote it)."""


def claim_study_folder(folder: Path, kind: str) -> Path:
    """Check that the study may write to ``folder`` (new, empty, or a ``kind`` study's own
    folder) and mark it; anything else is one SimInputError and nothing is touched."""
    import json

    from sim.errors import SimInputError
    from sim.output_target import check_place
    from sim.sweep.store import atomic_write_bytes

    allowed = f"a new or empty folder, or the folder of an earlier {kind} study"
    check_place(folder, what=f"{kind} output", allowed=allowed)
    marker = folder / STUDY_MARKER
    if folder.is_dir() and any(folder.iterdir()):
        try:
            found = json.loads(marker.read_text(encoding="utf-8")).get("kind")
        except (OSError, ValueError, AttributeError):
            found = None
        if found != kind:
            raise SimInputError(
                f"output folder holds files no {kind} study wrote; nothing was changed",
                file=folder,
                allowed=allowed,
            )
    if not marker.is_file():
        atomic_write_bytes(marker, (json.dumps({"kind": kind}) + "\n").encode("utf-8"))
    return folder
