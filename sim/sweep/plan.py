"""Planning a sweep: every point resolved and validated, every run given its id and seed.

Planning happens on the driver before anything runs, so a bad value anywhere
in the sweep is one :class:`~sim.errors.SimInputError` naming the point, and
nothing is started.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.errors import SimInputError, list_choices
from sim.scenario.load import Scenario, build_scenario
from sim.scenario.overrides import apply_overrides
from sim.sweep.expand import Point, expand_points, format_value, sweep_seeds
from sim.sweep.identity import run_id, scenario_key
from sim.sweep.spec import SweepSpec
from sim.sweep.worker import RunTask, pickle_scenario

if TYPE_CHECKING:  # pandas and pyarrow (~0.4 s) load when a frame or the store is used
    import pandas as pd

    from sim.sweep.store import SweepStore

FORMAT = "splitsim-sweep/1"


@dataclass(frozen=True)
class PlannedRun:
    """One (point, replication) pair and the id of its run."""

    run_id: str
    point: int
    replication: int
    seed: int


@dataclass(frozen=True)
class SweepPlan:
    """A sweep ready to execute."""

    scenario_name: str
    scenario_file: str | None
    spec: SweepSpec
    base_seed: int
    points: tuple[Point, ...]
    seeds: tuple[int, ...]
    strategies: tuple[str, ...]
    runs: tuple[PlannedRun, ...]
    tasks: dict[str, RunTask]

    @property
    def params(self) -> list[str]:
        return self.spec.keys

    @property
    def required_tables(self) -> tuple[str, ...]:
        """What a stored run needs to count as done: its summary, and its records if kept
        (a run stored by a summary-only sweep is redone when records are asked for)."""
        return ("summary", "requests") if self.spec.records else ("summary",)

    def missing(self, store: SweepStore) -> list[str]:
        """Ids of the runs ``store`` lacks, in plan order."""
        done = store.completed(self.required_tables)
        return [r.run_id for r in self.runs if r.run_id not in done]

    def runs_frame(self) -> pd.DataFrame:
        """One row per run: run_id, point, replication, seed, point_label, then one column per key."""
        return runs_frame(self.runs, self.points, self.params)

    def manifest(self) -> dict[str, Any]:
        """What ``sweep.json`` records (enough to read the results back without the scenario)."""
        from sim.provenance import provenance

        return {
            "format": FORMAT,
            "provenance": provenance(),
            "scenario": self.scenario_name,
            "scenario_file": self.scenario_file,
            "sweep": self.spec.model_dump(mode="json", by_alias=True),
            "base_seed": self.base_seed,
            "seeds": list(self.seeds),
            "strategies": list(self.strategies),
            "params": self.params,
            "points": [{"point": p.index, "params": p.params} for p in self.points],
            "runs": [
                {"run_id": r.run_id, "point": r.point, "replication": r.replication, "seed": r.seed}
                for r in self.runs
            ],
        }


def _column(values: list[Any]) -> list[Any]:
    """Numbers and strings stay as they are; anything else (or a mix) becomes text."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return values
    if all(isinstance(v, str) for v in values) or all(isinstance(v, bool) for v in values):
        return values
    return [format_value(v) for v in values]


def runs_frame(
    runs: tuple[PlannedRun, ...] | list[PlannedRun],
    points: tuple[Point, ...] | list[Point],
    params: list[str],
) -> pd.DataFrame:
    import pandas as pd

    by_index = {p.index: p for p in points}
    frame = pd.DataFrame(
        {
            "run_id": [r.run_id for r in runs],
            "point": [r.point for r in runs],
            "replication": [r.replication for r in runs],
            "seed": [r.seed for r in runs],
            "point_label": [by_index[r.point].label for r in runs],
        }
    )
    for key in params:
        frame[key] = _column([by_index[r.point].params[key] for r in runs])
    return frame


def point_scenario(scenario: Scenario, point: Point) -> Scenario:
    """The scenario with the point's values applied (errors name the point)."""
    try:
        data = apply_overrides(copy.deepcopy(scenario.raw), point.overrides(), source="sweep")
        return build_scenario(data, scenario.path)
    except SimInputError as exc:
        raise SimInputError(
            f"{exc.problem} [sweep point {point.index}: {point.label}]",
            file=exc.file,
            key=exc.key,
            value=exc.value,
            allowed=exc.allowed,
            line=exc.line,
        ) from None


SECONDS_PER_POINT = 0.1
"""Planning time per point [s] (resolving and hashing its scenario), order of magnitude."""


def _point_strategies(
    spec: SweepSpec, resolved: Scenario, point: Point, scenario: Scenario
) -> list[str]:
    """The strategies run at a point: the spec's subset, else all the point compares (a
    point that sweeps ``compare`` runs its own)."""
    if spec.strategies is None:
        return resolved.strategy_labels
    unknown = [s for s in spec.strategies if s not in resolved.strategy_labels]
    if unknown:
        where = "" if resolved is scenario else f" at sweep point {point.index} ({point.label})"
        raise SimInputError(
            f"unknown strategy{where}",
            file="sweep",
            key="sweep.strategies",
            value=",".join(unknown),
            allowed=list_choices(resolved.strategy_labels),
        )
    return list(spec.strategies)


def plan_sweep(scenario: Scenario, spec: SweepSpec, *, progress: bool = False) -> SweepPlan:
    """Resolve every point of ``spec`` on ``scenario`` and list its runs.

    Refuses (before resolving anything) a sweep of more than ``spec.max_points`` points,
    with the estimated planning time; ``progress`` shows a bar while points resolve.
    """
    count = spec.point_count
    if count > spec.max_points:
        raise SimInputError(
            f"sweep too large: {count:,} points x {spec.replication_count} replications "
            f"(planning alone would take about {count * SECONDS_PER_POINT / 60:,.0f} min)",
            file="sweep",
            key=", ".join(spec.keys) or None,
            allowed=f"at most max_points = {spec.max_points:,} points (fewer values, or "
            "random samples; raise sweep.max_points if you mean it)",
        )
    _point_strategies(spec, scenario, Point(0), scenario)  # a bad subset fails at once
    base_seed = spec.seed if spec.seed is not None else scenario.spec.seed
    seeds = sweep_seeds(spec, base_seed)
    points = expand_points(spec, base_seed)
    runs: list[PlannedRun] = []
    tasks: dict[str, RunTask] = {}
    seen: dict[str, Point] = {}
    all_strategies: list[str] = []
    from tqdm import tqdm

    for point in tqdm(
        points, desc="planning", unit="point", disable=not progress or len(points) < 50
    ):
        resolved = point_scenario(scenario, point)
        strategies = _point_strategies(spec, resolved, point, scenario)
        all_strategies += [s for s in strategies if s not in all_strategies]
        key = scenario_key(resolved, strategies)
        if key in seen:
            raise SimInputError(
                f"sweep points {seen[key].index} ({seen[key].label}) and {point.index} "
                "resolve to the same scenario",
                file="sweep",
                key=", ".join(point.params) or None,
                allowed="values that change the scenario",
            )
        seen[key] = point
        blob = pickle_scenario(resolved)
        for replication, seed in enumerate(seeds):
            rid = run_id(key, seed)
            runs.append(PlannedRun(rid, point.index, replication, seed))
            tasks[rid] = RunTask(
                run_id=rid,
                scenario_key=key,
                raw=resolved.raw,
                path=str(scenario.path) if scenario.path is not None else None,
                seed=seed,
                strategies=tuple(strategies),
                records=spec.records,
                scenario_blob=blob,
            )
    return SweepPlan(
        scenario_name=scenario.name,
        scenario_file=str(scenario.path) if scenario.path is not None else None,
        spec=spec,
        base_seed=base_seed,
        points=tuple(points),
        seeds=tuple(seeds),
        strategies=tuple(all_strategies),
        runs=tuple(runs),
        tasks=tasks,
    )
