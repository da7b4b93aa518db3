"""Constrained configuration search with Optuna, each trial a sweep of one point.

A trial's configuration runs with ``replications`` seeds, the same seeds in
every trial (common random numbers, so noise does not pick the winner), through
the sweep machinery: its runs land in ``OUT/runs/<config hash>/`` under their
run identity, so a configuration tried twice, or a trial cut short and retried,
reuses every run already stored. Objectives and constraints read the mean over
the replications.

Samplers: TPE for one objective, NSGA-II for several (a Pareto front); both
take the constraints (Optuna's ``Trial.set_constraint``: a trial is feasible when
every ``metric - bound`` is <= 0). The study lives in an Optuna storage:
SQLite in ``OUT/study.db`` by default, or any SQLAlchemy URL (a PostgreSQL
URL for drivers on several machines). Several processes pointed at the same
storage and study name share it; each runs trials until the study holds
``trials`` complete ones. Running the same command again resumes: complete
trials are kept, a trial that was interrupted (Ctrl-C) is retried with the same
configuration, and a driver killed outright is detected by the storage's
heartbeat and its trial retried the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pandas as pd

from sim.analysis.evaluate import (
    Execution,
    check_execution,
    claim_study_folder,
    point_key,
    run_points,
)
from sim.analysis.metrics import (
    Constraint,
    Objective,
    parse_constraint,
    parse_objective,
    split_list,
)
from sim.analysis.params import (
    STRATEGY,
    Choice,
    Param,
    check_params,
    parse_param,
    restore_value,
    storable_value,
)
from sim.analysis.params import overrides as point_overrides
from sim.errors import SimInputError

HEARTBEAT_S = 30
"""Seconds between a running trial's heartbeats; a trial silent for 4 heartbeats is failed
and retried (Optuna's RDB heartbeat)."""
MAX_FAILED_IN_A_ROW = 3


@dataclass
class OptimizeResult:
    """The study's complete trials as a table, its Pareto front, and the files written."""

    study_name: str
    storage: str
    params: list[Param]
    objectives: list[Objective]
    constraints: list[Constraint]
    trials: pd.DataFrame
    out: Path
    best_file: Path | None = None
    files: list[Path] = field(default_factory=list)

    @property
    def feasible(self) -> pd.DataFrame:
        return self.trials[self.trials["feasible"]]

    @property
    def pareto(self) -> pd.DataFrame:
        """Feasible trials no other feasible trial dominates (one objective: the best)."""
        return self.trials[self.trials["pareto"]]

    @property
    def best(self) -> pd.Series | None:
        """The best feasible trial (several objectives: the front's best in the first)."""
        front = self.pareto
        if front.empty:
            return None
        first = self.objectives[0]
        order = front[first.metric].sort_values(ascending=not first.maximise, kind="stable")
        return front.loc[order.index[0]]

    def plot(self) -> Any:
        from sim.analysis.plots import plot_pareto

        return plot_pareto(
            self.trials, [o.metric for o in self.objectives], [o.maximise for o in self.objectives]
        )

    def format(self) -> str:
        """The Pareto front (or best trial) as a text table."""
        columns = ["trial", *[p.key for p in self.params]]
        for metric in dict.fromkeys(
            [o.metric for o in self.objectives] + [c.metric for c in self.constraints]
        ):
            columns += [metric, f"{metric}_ci"]
        front = self.pareto[[c for c in columns if c in self.pareto.columns]]
        return front.to_string(index=False, float_format=lambda v: f"{v:.4g}")


def default_storage(out: Path) -> str:
    return f"sqlite:///{(out / 'study.db').resolve()}"


def open_storage(url: str) -> Any:
    """An Optuna RDB storage with heartbeats; stale trials are retried once.

    SQLite: writers wait up to 60 s for the file's lock, and two drivers creating the
    same new file at once (one loses the race to create the tables) try again.
    """
    import time
    import warnings

    import optuna

    sqlite = url.startswith("sqlite:")
    engine = {"connect_args": {"timeout": 60}} if sqlite else None
    for attempt in range(6 if sqlite else 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url,
                    engine_kwargs=engine,
                    heartbeat_interval=HEARTBEAT_S,
                    grace_period=4 * HEARTBEAT_S,
                    heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                        max_retry=1
                    ),
                )
        except Exception as exc:  # bad URL, missing driver, unreachable database, a race
            if sqlite and attempt < 5:
                time.sleep(0.2 * (attempt + 1))
                continue
            raise SimInputError(
                f"cannot open the study storage ({type(exc).__name__}: {str(exc).splitlines()[0]})",
                file="--storage",
                value=url,
                allowed="sqlite:///path/study.db or postgresql://user@host/db",
            ) from None
    raise AssertionError("unreachable")


def _suggest(trial: Any, param: Param) -> Any:
    """The trial's value of ``param`` (Optuna's suggest API: enqueued values are honoured)."""
    if isinstance(param, Choice):
        return trial.suggest_categorical(param.key, [storable_value(v) for v in param.values])
    if param.integer:
        return trial.suggest_int(param.key, int(param.low), int(param.high), log=param.log)
    return trial.suggest_float(param.key, param.low, param.high, log=param.log)


def config_folder(out: Path, point: dict[str, Any]) -> Path:
    """``OUT/runs/<16 hex>``: one sweep store per configuration."""
    digest = hashlib.blake2b(point_key(point).encode("utf-8"), digest_size=8).hexdigest()
    return out / "runs" / digest


def _signature(
    scenario: Any,
    params: Sequence[Param],
    objectives: Sequence[Objective],
    constraints: Sequence[Constraint],
    replications: int,
    seed: int,
) -> dict[str, Any]:
    from sim.sweep.identity import scenario_key

    return {
        "scenario": scenario.name,
        "scenario_key": scenario_key(scenario),
        "params": [p.label for p in params],
        "objectives": [f"{o.direction}:{o.metric}" for o in objectives],
        "constraints": [c.label for c in constraints],
        "replications": replications,
        "seed": seed,
    }


def _check_signature(study: Any, signature: dict[str, Any], name: str, url: str) -> None:
    stored = study.user_attrs.get("signature")
    if stored is None:
        study.set_user_attr("signature", signature)
        return
    changed = [k for k in signature if stored.get(k) != signature[k]]
    if changed:
        raise SimInputError(
            f"study '{name}' in this storage was made with other {', '.join(changed)} "
            f"(stored: {', '.join(f'{k}={stored.get(k)}' for k in changed)})",
            file="--study",
            value=name,
            allowed=f"the same settings to resume it, or a new --study name (storage {url})",
        )


def _retry_interrupted(study: Any) -> int:
    """Enqueue, with the same parameters, each failed trial nobody retried yet."""
    import warnings

    import optuna
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    covered = {t.user_attrs.get("retry_of") for t in trials}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        covered |= {RetryHeartbeatStaleTrialCallback.retried_trial_number(t) for t in trials}
    queued = 0
    for trial in trials:
        if trial.state == TrialState.FAIL and trial.number not in covered and trial.params:
            study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
            queued += 1
    return queued


def _count_complete(study: Any) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def optimize(
    scenario: Any,
    params: Sequence[Param | str],
    *,
    objectives: Sequence[str] | str = ("energy_above_idle_per_inference_j",),
    constraints: Sequence[str] | str = (),
    trials: int = 50,
    replications: int = 3,
    seed: int | None = None,
    strategy: str | None = None,
    overrides: Sequence[str] = (),
    storage: str | None = None,
    study: str | None = None,
    out: str | Path | None = None,
    population: int | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    plots: bool = True,
    announce: Callable[[str], None] | None = None,
) -> OptimizeResult:
    """Search ``params`` for the configuration that optimises ``objectives`` under ``constraints``.

    ``params``: :class:`~sim.analysis.params.Range`/``Choice`` objects or
    ``'key=LOW:HIGH[:log][:int]'`` / ``'key=a,b,c'`` (``strategy=a,b`` picks the
    strategy; when no strategy is given and the scenario compares several, the
    search chooses among them). ``objectives``: metric names (minimised, or
    ``max:NAME``); ``constraints``: ``'metric<=bound'``. ``trials``: complete
    trials the study must hold (a resumed study runs only the rest).
    Writes ``OUT/trials.{parquet,csv}``, ``OUT/pareto.csv``,
    ``OUT/plots/pareto.png`` and ``OUT/best.yaml`` (a ready scenario).
    """
    import optuna
    from tqdm.auto import tqdm

    from sim.sweep.runner import open_target

    base = [*overrides, *([f"compare=[{strategy}]"] if strategy else [])]
    resolved, _, _ = open_target(scenario, base)
    space = [p if not isinstance(p, str) else parse_param(p) for p in params]
    goals = [parse_objective(o) for o in split_list(objectives)]
    if not goals:
        raise SimInputError("no objective given", file="--objective")
    if len({o.metric for o in goals}) != len(goals):
        raise SimInputError("an objective is given twice", file="--objective")
    limits = [parse_constraint(c) for c in split_list(constraints)]
    check_execution(workers, trials, "--trials")
    if replications < 1:
        raise SimInputError("replications must be >= 1", file="--replications", value=replications)
    if not any(p.key == STRATEGY for p in space) and len(resolved.strategy_labels) > 1:
        space.append(Choice(STRATEGY, tuple(resolved.strategy_labels)))
    check_params(resolved, space)
    base_seed = seed if seed is not None else resolved.spec.seed
    folder = Path(out) if out is not None else Path("results") / "optimize" / resolved.name
    claim_study_folder(folder, "optimize")
    url = storage or default_storage(folder)
    name = study or resolved.name
    rdb = open_storage(url)
    if len(goals) == 1:
        sampler: Any = optuna.samplers.TPESampler(
            seed=base_seed,
            multivariate=True,
            n_startup_trials=min(10, max(2, trials // 4)),
        )
    else:
        size = population or min(50, max(6, trials // 5))
        sampler = optuna.samplers.NSGAIISampler(population_size=size, seed=base_seed)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    the_study = optuna.create_study(
        storage=rdb,
        study_name=name,
        sampler=sampler,
        directions=[cast(Any, g.direction) for g in goals],  # "minimize" | "maximize"
        load_if_exists=True,
    )
    _check_signature(
        the_study, _signature(resolved, space, goals, limits, replications, base_seed), name, url
    )
    _retry_interrupted(the_study)
    metrics = list(dict.fromkeys([g.metric for g in goals] + [c.metric for c in limits]))
    execution = Execution(workers, scheduler, progress=False)

    def objective(trial: Any) -> Any:
        values = [restore_value(p, _suggest(trial, p)) for p in space]
        point = point_overrides(space, values)
        run_folder = config_folder(folder, point)
        trial.set_user_attr("runs", str(run_folder.relative_to(folder)))
        rows = evaluate_config(
            resolved, point, metrics, run_folder, replications, base_seed, execution
        )
        means = {}
        for metric in metrics:
            stats = _t(rows[metric].to_numpy(dtype=float))
            means[metric] = stats["mean"]
            trial.set_user_attr(metric, stats["mean"])
            trial.set_user_attr(f"{metric}_ci", stats["half_width"])
        trial.set_user_attr("strategy", str(rows["strategy"].iloc[0]))
        if limits:
            violations = [c.violation(means[c.metric]) for c in limits]
            trial.set_user_attr("constraint", violations)
            for limit, violation in zip(limits, violations, strict=True):
                trial.set_constraint(limit.label, violation)  # Optuna: feasible when all <= 0
        results = [means[g.metric] for g in goals]
        return results[0] if len(results) == 1 else results

    done = _count_complete(the_study)
    if announce is not None:
        announce(
            f"optimize {resolved.name}: {len(goals)} objective(s) "
            f"({', '.join(f'{g.direction} {g.metric}' for g in goals)}), "
            f"constraints: {', '.join(c.label for c in limits) or 'none'}; "
            f"{len(space)} parameters ({', '.join(p.label for p in space)}); "
            f"{done}/{trials} trials complete, {replications} replication(s) each; "
            f"study '{name}' in {url}"
        )
    bar = tqdm(
        total=trials,
        initial=min(done, trials),
        unit="trial",
        desc=f"optimize {name}",
        disable=not progress,
    )
    failed_in_a_row = 0
    try:
        while done < trials:
            from sim.sweep.runner import SweepFailed

            before = _count_complete(the_study)
            the_study.optimize(objective, n_trials=1, catch=(SweepFailed,))
            done = _count_complete(the_study)
            if done == before:
                failed_in_a_row += 1
                if failed_in_a_row >= MAX_FAILED_IN_A_ROW:
                    raise RuntimeError(
                        f"{MAX_FAILED_IN_A_ROW} trials in a row failed; see the runs under "
                        f"{folder / 'runs'} (the study is kept: fix the cause and run again)"
                    )
            else:
                failed_in_a_row = 0
            bar.update(min(done, trials) - bar.n)
    finally:
        bar.close()
    from sim.analysis.study_outputs import trials_table, write_outputs

    table = trials_table(the_study, space, goals, limits)
    result = OptimizeResult(name, url, space, goals, limits, table, folder)
    write_outputs(result, resolved, base, plots=plots)
    return result


def _t(values: Any) -> dict[str, float]:
    from sim.sweep.aggregate import t_interval

    return t_interval(values)


def evaluate_config(
    scenario: Any,
    point: dict[str, Any],
    metrics: Sequence[str],
    folder: Path,
    replications: int,
    seed: int,
    execution: Execution,
) -> pd.DataFrame:
    """One configuration with ``replications`` seeds: one row per replication (its strategy's)."""
    from sim.sweep.expand import yaml_text
    from sim.sweep.runner import SweepFailed
    from sim.sweep.worker import RunInterrupted

    rest = {k: v for k, v in point.items() if k != "compare"}
    if "compare" in point:  # the strategy: part of the scenario the one-point sweep varies
        scenario = scenario.with_overrides([f"compare={yaml_text(point['compare'])}"])
    try:
        rows = run_points(
            scenario,
            [rest],
            metrics=metrics,
            out=folder,
            replications=replications,
            seed=seed,
            execution=execution,
        )
    except SweepFailed as exc:
        if any(isinstance(e, RunInterrupted) for _, e in exc.failures):
            raise KeyboardInterrupt from exc  # Ctrl-C reached an in-process run
        raise
    strategies = rows["strategy"].unique()
    if len(strategies) != 1:
        raise RuntimeError(f"a trial must run one strategy; it ran {list(strategies)}")
    return rows
