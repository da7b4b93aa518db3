"""What an optimisation study writes: its trials table, Pareto front, plot and scenario files.

``OUT/trials.{parquet,csv}`` (one row per complete trial: parameters, metric
means and 95 % half-widths over the replications, constraint violations,
``feasible``, ``pareto``), ``OUT/pareto.csv``, ``OUT/plots/pareto.png``,
``OUT/best.yaml`` and, with several objectives, ``OUT/pareto/trial-<n>.yaml``
for each member of the front.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.analysis.metrics import Constraint, Objective
from sim.analysis.params import Param, Range
from sim.analysis.params import overrides as point_overrides

if TYPE_CHECKING:
    from sim.analysis.optimize import OptimizeResult


def trials_table(
    study: Any, space: Sequence[Param], goals: Sequence[Objective], limits: Sequence[Constraint]
) -> pd.DataFrame:
    """One row per complete trial: parameters, metric means and half-widths, feasibility,
    Pareto membership."""
    import numpy as np
    from optuna.trial import TrialState

    from sim.analysis.params import restore_value, storable_value
    from sim.analysis.plots import pareto_mask

    rows = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        row: dict[str, Any] = {"trial": trial.number}
        for p in space:
            value = restore_value(p, trial.params[p.key])
            row[p.key] = value if not isinstance(value, list | dict) else storable_value(value)
        row["strategy_run"] = trial.user_attrs.get("strategy")
        for key, value in trial.user_attrs.items():
            if key not in ("constraint", "runs", "strategy", "retry_of"):
                row[key] = value
        violations = trial.user_attrs.get("constraint", [])
        for c, v in zip(limits, violations, strict=False):
            row[f"violation:{c.label}"] = v
        row["feasible"] = all(v <= 0 for v in violations)
        row["runs"] = trial.user_attrs.get("runs")
        rows.append(row)
    table = pd.DataFrame(rows)
    if table.empty:
        table = pd.DataFrame(columns=["trial", *[p.key for p in space], "feasible", "pareto"])
        return table
    table = table.sort_values("trial").reset_index(drop=True)
    # A configuration proposed again reuses its stored runs: the same numbers, one entry
    # on the front (its first trial); ``repeat_of`` names that trial.
    keys = [p.key for p in space]
    signature = table[keys].astype(str).agg("|".join, axis=1)
    first = signature.map(dict(zip(signature[::-1], table["trial"][::-1], strict=True)))
    table["repeat_of"] = [
        None if f == t else int(f) for f, t in zip(first, table["trial"], strict=True)
    ]
    table["pareto"] = False
    candidates = table["feasible"].to_numpy(dtype=bool) & table["repeat_of"].isna().to_numpy()
    if candidates.any():
        values = table.loc[candidates, [g.metric for g in goals]].to_numpy(dtype=float)
        mask = pareto_mask(values, [g.maximise for g in goals])
        table.loc[np.flatnonzero(candidates)[mask], "pareto"] = True
    return table


def write_outputs(
    result: OptimizeResult, scenario: Any, base: Sequence[str], *, plots: bool = True
) -> None:
    """Tables, the plot, and the best configuration (and each Pareto member) as scenarios."""
    from sim.analysis.plots import save_figure
    from sim.analysis.scenario_file import write_scenario
    from sim.sweep.store import atomic_write_bytes
    from sim.sweep.worker import parquet_bytes

    out = result.out
    table = result.trials
    for name, frame in (("trials", table), ("pareto", result.pareto)):
        text = frame.copy()
        atomic_write_bytes(out / f"{name}.csv", text.to_csv(index=False).encode("utf-8"))
        result.files.append(out / f"{name}.csv")
    atomic_write_bytes(out / "trials.parquet", parquet_bytes(_parquet_safe(table)))
    result.files.append(out / "trials.parquet")
    if plots and not table.empty:
        result.files.append(save_figure(result.plot(), out / "plots" / "pareto.png"))
    best = result.best
    if best is None:
        return
    members = [best] if len(result.objectives) == 1 else [r for _, r in result.pareto.iterrows()]
    for row in members:
        values = [row[p.key] for p in result.params]
        point = point_overrides(
            result.params, [_parse_back(p, v) for p, v in zip(result.params, values, strict=True)]
        )
        header = _header(result, row)
        if row["trial"] == best["trial"]:
            result.best_file = write_scenario(
                scenario, point, out / "best.yaml", header=header, suffix="best"
            )
            result.files.append(result.best_file)
        if len(result.objectives) > 1:
            result.files.append(
                write_scenario(
                    scenario,
                    point,
                    out / "pareto" / f"trial-{int(row['trial'])}.yaml",
                    header=header,
                    suffix=f"trial{int(row['trial'])}",
                )
            )


def _parse_back(param: Param, value: Any) -> Any:
    from sim.analysis.params import restore_value

    if isinstance(param, Range):
        return int(value) if param.integer else float(value)
    return restore_value(param, value)


def _header(result: OptimizeResult, row: pd.Series) -> list[str]:
    lines = [
        f"Trial {int(row['trial'])} of study '{result.study_name}' ({result.storage}).",
        "Objectives (mean ± 95 % half-width over the replications): "
        + "; ".join(
            f"{o.direction} {o.metric} = {row[o.metric]:.6g} ± {row.get(o.metric + '_ci', math.nan):.2g}"
            for o in result.objectives
        ),
    ]
    if result.constraints:
        lines.append(
            "Constraints: "
            + "; ".join(f"{c.label} (got {row[c.metric]:.6g})" for c in result.constraints)
        )
    lines.append("Parameters: " + ", ".join(f"{p.key}={row[p.key]}" for p in result.params))
    return lines


def _parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """Mixed-type columns (categorical values of several types) as text for Parquet."""
    out = frame.copy()
    for column in out.columns:
        kinds = {type(v) for v in out[column] if v is not None}
        if len(kinds) > 1 and not kinds <= {int, float}:
            out[column] = out[column].map(str)
    return out
