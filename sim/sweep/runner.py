"""The sweep driver: plan, skip what is stored, execute the rest, store each run as it lands.

The driver alone writes to the output folder; workers return Parquet bytes.
Ctrl-C (or a kill) loses at most the runs in flight: every stored run is
whole, and running the same sweep again executes only what is missing.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.api_checks import check_each_strategy_once, check_strings
from sim.errors import SimInputError, did_you_mean
from sim.scenario.load import Scenario, load
from sim.sweep.executors import Executor, make_executor
from sim.sweep.plan import SweepPlan, plan_sweep
from sim.sweep.result import SweepResult
from sim.sweep.spec import SweepFile, SweepSpec
from sim.sweep.store import SweepStore
from sim.validation import validate_data
from sim.yamlio import read_yaml


class SweepFailed(RuntimeError):
    """Some runs raised; the others are stored (run the sweep again to retry the failed ones)."""

    def __init__(self, result: SweepResult, failures: list[tuple[str, BaseException]]) -> None:
        self.result = result
        self.failures = failures
        run, exc = failures[0]
        super().__init__(
            f"{len(failures)} of {len(result.runs)} runs failed (the rest are stored in "
            f"{result.out}); first: run {run}: {type(exc).__name__}: {exc}"
        )


def default_out(scenario: Scenario) -> Path:
    """``results/sweeps/<scenario name>`` under the working directory."""
    return Path("results") / "sweeps" / scenario.name


def merge_spec(
    base: SweepSpec | Mapping[str, Any] | None,
    *,
    grid: Mapping[str, Sequence[Any]] | None = None,
    zipped: Sequence[Mapping[str, Sequence[Any]]] = (),
    random: Mapping[str, Any] | None = None,
    replications: int | None = None,
    seeds: Sequence[int] | None = None,
    seed: int | None = None,
    strategies: Sequence[str] | None = None,
    records: bool | None = None,
    source: str = "sweep",
) -> SweepSpec:
    """``base`` with keyword parts added; a key given here replaces the base's use of it."""
    if isinstance(base, SweepSpec):
        data = base.model_dump(by_alias=True, exclude_unset=True)
    elif base is None or isinstance(base, Mapping):
        data = dict(base or {})
    else:
        raise SimInputError(
            "not a sweep spec",
            file=source,
            key="spec",
            value=base,
            allowed="a SweepSpec, a mapping such as {'grid': {...}, 'replications': 5}, or None",
        )
    for name, value in (("grid", grid), ("random", random)):
        if value is not None and not isinstance(value, Mapping):
            raise SimInputError(
                "not a mapping",
                file=source,
                key=name,
                value=value,
                allowed="a mapping of dotted keys to lists of values",
            )
    if seeds is not None and (isinstance(seeds, str) or not isinstance(seeds, Sequence)):
        raise SimInputError(
            "not a list of seeds",
            file=source,
            key="seeds",
            value=seeds,
            allowed="a list of integers >= 0",
        )
    if strategies is not None:
        strategies = check_strings(strategies, source, "strategies")
        check_each_strategy_once(strategies, source)
    new_keys = set(grid or {}) | {k for group in zipped for k in group}
    if random is not None:
        new_keys |= set(random.get("params", {}))
    if new_keys:
        data["grid"] = {k: v for k, v in (data.get("grid") or {}).items() if k not in new_keys}
        groups = data.get("zip") or []
        groups = [groups] if isinstance(groups, Mapping) else groups
        kept = [{k: v for k, v in g.items() if k not in new_keys} for g in groups]
        data["zip"] = [g for g in kept if g]
        old_random = data.get("random")
        if isinstance(old_random, Mapping) and random is None:
            params = {k: v for k, v in old_random.get("params", {}).items() if k not in new_keys}
            data["random"] = {**old_random, "params": params} if params else None
    if grid:
        data["grid"] = {**data.get("grid", {}), **{k: list(v) for k, v in grid.items()}}
    if zipped:
        data["zip"] = [*data.get("zip", []), *({k: list(v) for k, v in g.items()} for g in zipped)]
    if random is not None:
        data["random"] = dict(random)
    if seeds is not None:
        data["seeds"] = list(seeds)
        data.pop("replications", None)
    if replications is not None:
        data["replications"] = replications
        if seeds is None:
            data.pop("seeds", None)
    extras: tuple[tuple[str, Any], ...] = (("seed", seed), ("records", records))
    for name, value in extras:
        if value is not None:
            data[name] = value
    if strategies is not None:
        data["strategies"] = list(strategies)
    return validate_data(SweepSpec, data, file=source)


def check_metrics(metrics: Sequence[str], summary: pd.DataFrame, params: Sequence[str]) -> None:
    """Refuse metric names the summary does not have (one line listing those it has)."""
    from sim.sweep.aggregate import metric_columns

    known = metric_columns(summary, params)
    unknown = [m for m in metrics if m not in known]
    if unknown:
        raise SimInputError(
            f"unknown metric{did_you_mean(unknown[0], known)}",
            file="--metrics",
            value=",".join(unknown),
            allowed=", ".join(known),
        )


def execute_plan(
    plan: SweepPlan,
    store: SweepStore,
    executor: Executor | None,
    *,
    progress: bool = True,
    metrics: Sequence[str] | None = None,
) -> SweepResult:
    """Run the plan's runs that ``store`` lacks with ``executor``, storing each as it finishes.

    ``executor`` may be None when nothing is left to run. Raises
    :class:`SweepFailed` if any run raised (after every other run is stored).
    ``metrics``: names checked against the first stored summary, so a misspelt metric
    stops the sweep after one run, not after all of them.
    """
    import io

    from tqdm import tqdm

    started = time.perf_counter()
    failures: list[tuple[str, BaseException]] = []
    executed = 0
    bar = None
    try:
        store.check_usable([r.run_id for r in plan.runs])
        store.clean_temporary()
        store.write_manifest(plan.manifest(), plan.runs_frame())
        todo = [plan.tasks[run_id] for run_id in plan.missing(store)]
        bar = tqdm(
            total=len(plan.runs),
            initial=len(plan.runs) - len(todo),
            unit="run",
            desc=f"sweep {plan.scenario_name}",
            disable=not progress,
            smoothing=0.1,
        )
        if todo and executor is None:
            raise ValueError("runs are left to do but no executor was given")
        for task, output in executor.run(todo) if todo and executor else ():
            if isinstance(output, BaseException):
                failures.append((task.run_id, output))
                bar.set_postfix(failed=len(failures))
            else:
                store.write_run(output)
                executed += 1
                if metrics and executed == 1:
                    summary = pd.read_parquet(io.BytesIO(output.tables["summary"]))
                    check_metrics(metrics, summary, plan.params)
            bar.update()
    finally:
        if bar is not None:
            bar.close()
        if executor is not None:
            executor.close()
    result = SweepResult(
        store.root,
        executed=executed,
        skipped=len(plan.runs) - len(todo),
        failed=failures,
        wall_s=time.perf_counter() - started,
        executor=executor.description if executor is not None and todo else "",
    )
    if failures:
        raise SweepFailed(result, failures)
    aggregated = result.aggregate()
    store.write_frame("aggregate", aggregated, csv=True)
    return result


def open_target(
    target: Scenario | str | Path, overrides: Sequence[str] = ()
) -> tuple[Scenario, SweepSpec | None, Path]:
    """(scenario, its sweep spec or None, default output folder) from a scenario or a file.

    A file with a top-level ``scenario:`` key is a sweep file
    (:class:`~sim.sweep.spec.SweepFile`): its scenario path is relative to it,
    its ``set:`` overrides come before ``overrides``, and results default to
    ``results/sweeps/<sweep file name>``. Any other file is a scenario, whose
    ``sweep:`` block (if any) is the spec.
    """
    from sim.api_checks import check_path

    overrides = check_strings(overrides, "sim.sweep", "overrides")
    if isinstance(target, Scenario):
        scenario = target.with_overrides(list(overrides)) if overrides else target
        return scenario, scenario.spec.sweep, default_out(scenario)
    check_path(target, "sim.sweep", "scenario")
    path = Path(target)
    doc = read_yaml(path)
    if isinstance(doc.data, dict) and "scenario" in doc.data:
        sweep_file = validate_data(SweepFile, doc.data, file=path, doc=doc)
        scenario = load(path.parent / sweep_file.scenario, [*sweep_file.overrides, *overrides])
        return scenario, sweep_file.sweep_spec(), Path("results") / "sweeps" / path.stem
    scenario = load(path, list(overrides))
    return scenario, scenario.spec.sweep, default_out(scenario)


def sweep(
    scenario: Scenario | str | Path,
    spec: SweepSpec | Mapping[str, Any] | None = None,
    *,
    overrides: Sequence[str] = (),
    grid: Mapping[str, Sequence[Any]] | None = None,
    zip: Mapping[str, Sequence[Any]] | None = None,  # named like the YAML key
    random: Mapping[str, Any] | None = None,
    replications: int | None = None,
    seeds: Sequence[int] | None = None,
    seed: int | None = None,
    strategies: Sequence[str] | None = None,
    records: bool | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    local_cluster: bool = False,
    retries: int = 1,
    progress: bool = True,
) -> SweepResult:
    """Run a parameter sweep with replications and return its (stored) results.

    ``scenario``: a :class:`~sim.scenario.load.Scenario`, a scenario file, or a
    sweep file (see :func:`open_target`); ``overrides``: 'dotted.key=value'
    applied to the scenario for every run. ``spec``: a
    :class:`~sim.sweep.spec.SweepSpec` or mapping (default: the file's sweep);
    ``grid``, ``zip``, ``random``, ``replications``, ``seeds``, ``seed``,
    ``strategies`` and ``records`` add to or replace its parts. Results go to
    ``out`` (default ``results/sweeps/<scenario or sweep file name>``); runs
    already stored there are skipped.

    Execution: ``workers`` local processes (default: one per CPU; 0 runs in
    this process), or Dask: ``scheduler="tcp://host:8786"``, or
    ``local_cluster=True`` for a LocalCluster of ``workers`` processes;
    ``retries``: Dask retries of a failed run.
    """
    from sim.api_checks import check_path

    if out is not None:
        check_path(out, "sim.sweep", "out")
    resolved, file_spec, default = open_target(scenario, overrides)
    merged = merge_spec(
        spec if spec is not None else file_spec,
        grid=grid,
        zipped=[zip] if zip else [],
        random=random,
        replications=replications,
        seeds=seeds,
        seed=seed,
        strategies=strategies,
        records=records,
    )
    plan = plan_sweep(resolved, merged)
    store = SweepStore(out if out is not None else default)
    store.check_usable([r.run_id for r in plan.runs])
    executor = (
        make_executor(workers, scheduler=scheduler, local_cluster=local_cluster, retries=retries)
        if plan.missing(store)
        else None
    )
    return execute_plan(plan, store, executor, progress=progress)
