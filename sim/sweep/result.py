"""A sweep's results, read back from its output folder (in the notebook, after the CLI, anywhere)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from sim.sweep.aggregate import aggregate, crossovers, format_table, wide, with_derived
from sim.sweep.plot import plot_metric
from sim.sweep.store import SweepStore


class SweepResult:
    """The runs of one sweep as stored in ``out`` (see :mod:`sim.sweep.store`).

    ``runs``: one row per run (point, replication, seed, parameters, ``done``);
    ``summary``: one row per run and strategy with the parameters;
    :meth:`aggregate`: mean and interval across replications (:mod:`sim.stats`); :meth:`plot`.
    """

    def __init__(
        self,
        out: str | Path,
        *,
        executed: int = 0,
        skipped: int = 0,
        failed: Sequence[tuple[str, BaseException]] = (),
        wall_s: float = 0.0,
        executor: str = "",
    ) -> None:
        self.store = SweepStore(out)
        self.manifest: dict[str, Any] = self.store.read_manifest()
        self.executed = executed
        self.skipped = skipped
        self.failed = list(failed)
        self.wall_s = wall_s
        self.executor = executor

    @property
    def out(self) -> Path:
        return self.store.root

    @property
    def params(self) -> list[str]:
        """The swept dotted keys (parameter columns)."""
        return list(self.manifest["params"])

    @property
    def strategies(self) -> list[str]:
        return list(self.manifest["strategies"])

    @property
    def name(self) -> str:
        return str(self.manifest["scenario"])

    @cached_property
    def runs(self) -> pd.DataFrame:
        runs = self.store.read_runs()
        done = self.store.completed()
        runs["done"] = runs["run_id"].isin(done)
        return runs

    @property
    def complete(self) -> bool:
        return bool(self.runs["done"].all())

    def table(self, name: str) -> pd.DataFrame:
        """A per-run table (``summary``, ``requests``, ``devices``, ...) of this sweep's runs,
        with point, replication, seed and parameter columns in front."""
        runs = self.runs.drop(columns=["done"])
        frame = self.store.read_table(name, runs["run_id"])
        if "seed" in frame.columns:
            frame = frame.drop(columns=["seed"])
        merged = runs.merge(frame, on="run_id", how="inner", sort=False)
        if "strategy" in merged.columns:
            merged["strategy"] = merged["strategy"].astype(str)
            rank = {s: i for i, s in enumerate(self.strategies)}
            merged["_rank"] = merged["strategy"].map(rank)
            merged = merged.sort_values(["point", "replication", "_rank"], kind="stable")
            merged = merged.drop(columns=["_rank"])
        return merged.reset_index(drop=True)

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per run and strategy: parameters, then :func:`sim.metrics.summarize` metrics."""
        return self.table("summary")

    def aggregate(
        self, metrics: Sequence[str] | None = None, *, level: float = 0.95
    ) -> pd.DataFrame:
        """Mean and ``level`` interval across replications, per point, strategy and metric
        (bounded for proportions; see :mod:`sim.sweep.aggregate`)."""
        return aggregate(self.summary, self.params, metrics, level=level)

    def wide(self, metrics: Sequence[str] | None = None, *, level: float = 0.95) -> pd.DataFrame:
        """One row per point and strategy: ``<metric>`` (mean) and ``<metric>_ci`` (half-width)."""
        from sim.sweep.aggregate import DEFAULT_METRICS

        chosen = list(metrics) if metrics is not None else list(DEFAULT_METRICS)
        return wide(self.aggregate(chosen, level=level), self.params, chosen)

    def format(self, metrics: Sequence[str] | None = None, *, level: float = 0.95) -> str:
        """Text table of mean and interval per point and strategy."""
        from sim.sweep.aggregate import DEFAULT_METRICS

        chosen = list(metrics) if metrics is not None else list(DEFAULT_METRICS)
        return format_table(self.aggregate(chosen, level=level), self.params, chosen)

    def plot(self, metric: str, x: str | None = None, **kwargs: Any) -> Any:
        """:func:`~sim.sweep.plot.plot_metric` of ``metric`` against ``x`` (default: the first key)."""
        x = x or self._first_param()
        return plot_metric(self.aggregate([metric]), metric, x, **kwargs)

    def crossovers(
        self, metric: str, x: str | None = None, *, logx: bool = False, level: float = 0.95
    ) -> pd.DataFrame:
        """Where strategies' mean ``metric`` curves cross along ``x``, with an interval for
        the crossing point from the replications' own crossings (or a note why none)."""
        x = x or self._first_param()
        agg = self.aggregate([metric], level=level)
        runs = with_derived(self.summary)  # drop_rate is derived from the counts
        return crossovers(agg, metric, x, logx=logx, summary=runs, level=level)

    def _first_param(self) -> str:
        if not self.params:
            raise ValueError("this sweep varies no parameter (replications only)")
        return self.params[0]

    def __repr__(self) -> str:
        runs = self.runs
        return (
            f"SweepResult({self.name!r}, {runs['point'].nunique()} points x "
            f"{runs['replication'].nunique()} replications, {int(runs['done'].sum())}/"
            f"{len(runs)} runs done, out={str(self.out)!r})"
        )


def load_sweep(out: str | Path) -> SweepResult:
    """Open the results of a sweep written to ``out`` (complete or not)."""
    return SweepResult(out)
