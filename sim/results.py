"""Results of running a scenario: one RunResult per strategy, and the tidy tables across them."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import pandas as pd

from sim.engine import RunResult
from sim.metrics import stage_breakdown, summarize
from sim.scenario.model import Scenario


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    combined = pd.concat(frames, ignore_index=True)
    for column in combined.columns:
        if column == "strategy" or any(
            isinstance(f[column].dtype, pd.CategoricalDtype) for f in frames if column in f
        ):
            combined[column] = combined[column].astype("category")
    return combined


@dataclass
class Results:
    """All strategies of one scenario run with one seed."""

    scenario: Scenario
    seed: int
    runs: dict[str, RunResult]
    wall_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def strategies(self) -> list[str]:
        return list(self.runs)

    @property
    def interrupted(self) -> bool:
        return any(r.interrupted for r in self.runs.values())

    @cached_property
    def requests(self) -> pd.DataFrame:
        """One row per request, all strategies (``strategy`` column first)."""
        return _concat([r.requests for r in self.runs.values()])

    @cached_property
    def batches(self) -> pd.DataFrame:
        return _concat([r.batches for r in self.runs.values()])

    @cached_property
    def background(self) -> pd.DataFrame:
        return _concat([r.background for r in self.runs.values()])

    @cached_property
    def devices(self) -> pd.DataFrame:
        return _concat([r.devices for r in self.runs.values()])

    @cached_property
    def servers(self) -> pd.DataFrame:
        return _concat([r.servers for r in self.runs.values()])

    @cached_property
    def links(self) -> pd.DataFrame:
        """One row per backhaul link direction and strategy (links.parquet)."""
        return _concat([r.links for r in self.runs.values()])

    @cached_property
    def summary(self) -> pd.DataFrame:
        """One row per strategy (see :func:`sim.metrics.summarize`)."""
        if any(r.streamed for r in self.runs.values()):  # records on disk: a few columns at a time
            from sim.record_summary import streamed_summary

            return streamed_summary(self)
        return summarize(
            self.requests, self.devices, self.servers, self.batches, windows=self.windows
        )

    @property
    def windows(self) -> dict[str, tuple[float, float]]:
        """Each strategy's measurement window [warmup_s, end_s) [s] (shorter if interrupted)."""
        return {name: (r.window.start_s, r.window.end_s) for name, r in self.runs.items()}

    def in_window(self) -> pd.DataFrame:
        """The requests that arrived inside their strategy's measurement window."""
        requests = self.requests
        arrival = requests["t_arrival"]
        parts = [  # strategy and window in one selection: one copy of the records
            requests[(requests["strategy"] == name) & (arrival >= start) & (arrival < end)]
            for name, (start, end) in self.windows.items()
        ]
        return pd.concat(parts) if parts else self.requests

    @cached_property
    def stages(self) -> pd.DataFrame:
        """Mean latency per stage [s], per strategy."""
        if any(r.streamed for r in self.runs.values()):
            from sim.record_summary import streamed_stages

            return streamed_stages(self)
        return stage_breakdown(self.in_window())

    def write(self, out_dir, *, csv: bool | None = None, plots: bool | None = None):
        """Write records, summary, resolved scenario and plots to ``out_dir`` (atomically)."""
        from sim.output import write_results

        return write_results(self, out_dir, csv=csv, plots=plots)
