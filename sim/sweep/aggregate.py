"""Across replications: mean and confidence interval per point, strategy and metric.

Each replication is one independent observation of a metric (its run's
summary value); the intervals come from :mod:`sim.stats`:

* proportions (``deadline_miss_rate``, ``drop_rate``, ``accuracy``, ``on_time_accuracy``,
  ``accuracy_expected``, the exit shares) get the Korn-Graubard interval of the pooled rate from
  the runs' counts (:func:`sim.stats.proportion_interval`): it stays in [0, 1];
* every other metric gets the Student-t interval
  (:func:`sim.stats.t_interval`), clipped to the metric's physical range
  (``[0, 1]`` for utilisations, ``[0, inf)`` for a metric never negative);
* replications that all gave the same value are flagged ``zero_variance``
  (half-width exactly 0); one replication has no interval (NaN).

:func:`crossovers` finds where two strategies' curves cross and, given the
per-run summary, an interval for the crossing point from the replications'
own crossings.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.stats import (
    IntervalWiderThanEffect,
    format_interval,
    proportion_interval,
    t_interval,
)

__all__ = [
    "AGG_COLUMNS",
    "DEFAULT_METRICS",
    "PROPORTIONS",
    "aggregate",
    "crossovers",
    "format_table",
    "metric_bounds",
    "t_interval",
    "wide",
]

# Columns of an aggregate table that are not the swept parameters.
AGG_COLUMNS = (
    "point",
    "strategy",
    "metric",
    "n",
    "mean",
    "std",
    "half_width",
    "ci_low",
    "ci_high",
    "zero_variance",
    "method",
    "level",
)

ID_COLUMNS = ("run_id", "point", "replication", "seed", "point_label", "strategy")
EXCLUDED_METRICS = (
    "latency_mean_ci95_s",
    "deadline_miss_rate_ci95_low",
    "deadline_miss_rate_ci95_high",
)
"""Not aggregated by default: a within-run interval is not a metric to average."""
DEFAULT_METRICS = (
    "latency_mean_s",
    "deadline_miss_rate",
    "energy_whole_board_per_inference_j",
)
"""What the CLI prints and plots unless told otherwise."""

Counts = Callable[[pd.DataFrame], tuple[pd.Series, pd.Series]]


def _finished(frame: pd.DataFrame) -> pd.Series:
    return frame["completed"] + frame["completed_late"]


PROPORTIONS: dict[str, tuple[tuple[str, ...], Counts]] = {
    "deadline_miss_rate": (
        ("requests", "completed"),
        lambda f: (f["requests"] - f["completed"], f["requests"]),
    ),
    "drop_rate": (("requests", "dropped"), lambda f: (f["dropped"], f["requests"])),
    "accuracy": (
        ("accuracy", "completed", "completed_late"),
        lambda f: (f["accuracy"] * _finished(f), _finished(f)),
    ),
    "on_time_accuracy": (
        ("on_time_accuracy", "requests"),
        lambda f: (f["on_time_accuracy"] * f["requests"], f["requests"]),
    ),
    "accuracy_expected": (
        ("accuracy_expected", "completed", "completed_late"),
        lambda f: (f["accuracy_expected"] * _finished(f), _finished(f)),
    ),
    "exit_share_device": (
        ("exit_share_device", "requests"),
        lambda f: (f["exit_share_device"] * f["requests"], f["requests"]),
    ),
    "exit_share_server_early": (
        ("exit_share_server_early", "requests"),
        lambda f: (f["exit_share_server_early"] * f["requests"], f["requests"]),
    ),
}
"""Metrics that are proportions: the summary columns they need and (successes, trials) per run."""

UNIT_INTERVAL = ("server_utilisation",)
"""Metrics in [0, 1] without counts: t-interval clipped to [0, 1]."""


def with_derived(summary: pd.DataFrame) -> pd.DataFrame:
    """``summary`` plus ``drop_rate`` (dropped / requests) when its counts are there."""
    if "drop_rate" in summary.columns or not {"dropped", "requests"} <= set(summary.columns):
        return summary
    requests = summary["requests"].astype(float)
    rate = summary["dropped"] / requests.where(requests > 0)
    return summary.assign(drop_rate=rate)


def metric_bounds(metric: str, values: pd.Series | None = None) -> tuple[float, float] | None:
    """The physical range of ``metric``: [0, 1] for proportions and utilisations, [0, inf)
    for a metric whose values are all non-negative, else None (unbounded)."""
    if metric in PROPORTIONS or metric in UNIT_INTERVAL:
        return (0.0, 1.0)
    if values is not None:
        finite = pd.to_numeric(values, errors="coerce").dropna()
        if len(finite) and (finite >= 0).all():
            return (0.0, math.inf)
    return None


def metric_interval(part: pd.DataFrame, metric: str, level: float) -> dict[str, Any]:
    """The interval of ``metric`` over the runs in ``part`` (one row per replication)."""
    needs, counts = PROPORTIONS.get(metric, ((), None))
    if counts is not None and set(needs) <= set(part.columns):
        successes, trials = counts(part)
        keep = part[metric].notna()
        return proportion_interval(
            successes[keep].to_numpy(dtype=float), trials[keep].to_numpy(dtype=float), level
        )
    values = part[metric].to_numpy(dtype=float)
    return t_interval(values, level, bounds=metric_bounds(metric, part[metric]))


def metric_columns(summary: pd.DataFrame, params: Sequence[str] = ()) -> list[str]:
    """The numeric summary columns that are metrics (not ids, parameters or excluded, and not
    NaN in every run: e.g. exit shares of a sweep without progressive plans)."""
    skip = set(ID_COLUMNS) | set(params) | set(EXCLUDED_METRICS)
    return [
        c
        for c in summary.columns
        if c not in skip
        and pd.api.types.is_numeric_dtype(summary[c])
        and not pd.api.types.is_bool_dtype(summary[c])
        and summary[c].notna().any()
    ]


def aggregate(
    summary: pd.DataFrame,
    params: Sequence[str],
    metrics: Sequence[str] | None = None,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Tidy table: one row per (point, strategy, metric) with n, mean, std and the interval.

    ``summary``: one row per run and strategy, with the parameter columns
    ``params`` and a ``strategy`` column. Rows come out in point order, strategies
    in the order they first appear, metrics in the order asked. ``method`` names
    the interval ('t' or 'korn-graubard'); ``zero_variance`` flags replications
    that all gave the same value.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1) (got {level})")
    params = list(params)
    frame = with_derived(summary.copy())
    metrics = list(metrics) if metrics is not None else metric_columns(frame, params)
    missing = [m for m in metrics if m not in frame.columns]
    if missing:
        raise KeyError(f"unknown metrics {missing}; summary has {list(frame.columns)}")
    frame["strategy"] = frame["strategy"].astype(str)
    strategy_order = list(dict.fromkeys(frame["strategy"]))
    order_key = "point" if "point" in frame.columns else None
    keys = ([order_key] if order_key else []) + params + ["strategy"]
    rows = []
    for group_key, part in frame.groupby(keys, sort=False, dropna=False):
        labels = dict(
            zip(keys, group_key if isinstance(group_key, tuple) else (group_key,), strict=True)
        )
        for metric in metrics:
            ci = metric_interval(part, metric, level)
            rows.append({**labels, "metric": metric, **{c: ci[c] for c in AGG_COLUMNS if c in ci}})
    columns = [*keys, "metric", *AGG_COLUMNS[3:-1]]
    out = pd.DataFrame(rows, columns=columns)
    out["zero_variance"] = out["zero_variance"].astype(bool)
    out["level"] = level
    sort_cols = ([order_key] if order_key else []) + ["_strategy", "_metric"]
    out["_strategy"] = out["strategy"].map(strategy_order.index)
    out["_metric"] = out["metric"].map(metrics.index)
    out = out.sort_values(sort_cols, kind="stable").drop(columns=["_strategy", "_metric"])
    return out.reset_index(drop=True)


def wide(
    agg: pd.DataFrame, params: Sequence[str], metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per (point, strategy); per metric ``<metric>`` (mean), ``<metric>_ci``
    (half-width; the larger side for a bounded interval), ``<metric>_low`` and ``<metric>_high``."""
    metrics = list(metrics) if metrics is not None else list(dict.fromkeys(agg["metric"]))
    rows = agg[agg["metric"].isin(metrics)]
    index = [c for c in ("point", *params, "strategy") if c in rows.columns]
    parts = {"": "mean", "_ci": "half_width", "_low": "ci_low", "_high": "ci_high"}
    out = []
    for key, part in rows.groupby(index, sort=False, dropna=False):
        row = dict(zip(index, key if isinstance(key, tuple) else (key,), strict=True))
        by_metric = part.set_index("metric")
        for metric in metrics:
            found = metric in by_metric.index
            for suffix, column in parts.items():
                row[f"{metric}{suffix}"] = by_metric.at[metric, column] if found else math.nan
        out.append(row)
    return pd.DataFrame(out, columns=[*index, *(f"{m}{s}" for m in metrics for s in parts)])


def format_table(
    agg: pd.DataFrame, params: Sequence[str], metrics: Sequence[str] | None = None
) -> str:
    """Text table per point and strategy: ``mean ± half`` (t), ``mean [low, high]`` (bounded
    or clipped), ``mean (all n equal)`` (zero variance); what the CLI prints."""
    metrics = list(metrics) if metrics is not None else list(dict.fromkeys(agg["metric"]))
    rows = agg[agg["metric"].isin(metrics)]
    index = [c for c in ("point", *params, "strategy") if c in rows.columns]
    out = []
    for key, part in rows.groupby(index, sort=False, dropna=False):
        row = dict(zip(index, key if isinstance(key, tuple) else (key,), strict=True))
        by_metric = part.set_index("metric")
        for metric in metrics:
            if metric not in by_metric.index:
                row[metric] = "-"
                continue
            r: Any = by_metric.loc[metric]
            row[metric] = format_interval(
                float(r["mean"]),
                float(r["half_width"]),
                n=int(r["n"]),
                zero_variance=bool(r.get("zero_variance", False)),
                low=float(r["ci_low"]),
                high=float(r["ci_high"]),
            )
        out.append(row)
    table = pd.DataFrame(out, columns=[*index, *metrics])
    return table.drop(columns=["point"], errors="ignore").to_string(index=False)


# ---------------------------------------------------------------- crossings


def _crossings(xs: np.ndarray, diff: np.ndarray) -> list[tuple[int, float]]:
    """(bracket index k, fraction in [0, 1)) where ``diff`` changes sign between xs[k], xs[k+1]."""
    found = []
    for k in range(len(xs) - 1):
        d0, d1 = diff[k], diff[k + 1]
        if d0 == 0 or d0 * d1 >= 0 or math.isnan(d0) or math.isnan(d1):
            continue
        found.append((k, d0 / (d0 - d1)))
    return found


def _replication_crossings(
    runs: pd.DataFrame, metric: str, x: str, a: str, b: str, logx: bool
) -> list[float | None]:
    """Per replication, the single crossing of a and b along x (in the interpolation
    coordinate), or None when that replication's curves do not cross exactly once."""
    found: list[float | None] = []
    for _, rep in runs.groupby("replication", sort=True):
        curves = rep.pivot_table(index=x, columns="strategy", values=metric, aggfunc="mean")
        if a not in curves or b not in curves:
            found.append(None)
            continue
        joined = curves[[a, b]].dropna().sort_index()
        xs = joined.index.to_numpy(dtype=float)
        us = np.log10(xs) if logx else xs
        hits = _crossings(xs, (joined[a] - joined[b]).to_numpy())
        if len(hits) != 1:
            found.append(None)
            continue
        k, frac = hits[0]
        found.append(float(us[k] + frac * (us[k + 1] - us[k])))
    return found


def _crossing_interval(
    runs: pd.DataFrame | None, metric: str, x: str, a: str, b: str, logx: bool, level: float
) -> tuple[float, float, int, str]:
    """(low, high, replications, note) of the crossing point from per-replication crossings."""
    if runs is None or "replication" not in runs.columns:
        return math.nan, math.nan, 0, "no interval: pass the per-run summary (replications)"
    per_rep = _replication_crossings(runs, metric, x, a, b, logx)
    missing = sum(u is None for u in per_rep)
    if len(per_rep) < 2:
        return math.nan, math.nan, len(per_rep), "no interval: one replication"
    if missing:
        return (
            math.nan,
            math.nan,
            len(per_rep),
            f"no interval: {missing} of {len(per_rep)} replications do not cross exactly once",
        )
    ci = t_interval([u for u in per_rep if u is not None], level)
    low, high = float(ci["ci_low"]), float(ci["ci_high"])
    if logx:
        low, high = 10**low, 10**high
    note = f"all {len(per_rep)} replications cross at the same x" if ci["zero_variance"] else ""
    return low, high, len(per_rep), note


def crossovers(
    agg: pd.DataFrame,
    metric: str,
    x: str,
    *,
    logx: bool = False,
    strategies: Sequence[str] | None = None,
    summary: pd.DataFrame | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Where the mean curves of two strategies cross as ``x`` varies (linear interpolation).

    One row per crossing: the other parameters' values, ``below`` (the strategy
    with the lower metric just below the crossing), ``above``, ``x`` and the
    interpolated metric ``value``; ``logx`` interpolates in log10(x).
    With ``summary`` (the per-run table with a ``replication`` column), each
    replication's own curves give its crossing (common random numbers make a
    replication's curve coherent along ``x``); ``x_low``/``x_high`` is the
    Student-t interval of those crossings (in log10 x when ``logx``), and
    ``note`` says why none can be given (a replication that does not cross, or
    crosses more than once, or one replication only). ``note`` also warns when
    the curves' difference at the neighbouring points is within its interval
    (the crossing's very existence is not resolved).
    """
    rows = agg[agg["metric"] == metric]
    if "half_width" not in rows.columns:
        rows = rows.assign(half_width=math.nan)
    others = [c for c in rows.columns if c not in (x, *AGG_COLUMNS)]
    names = list(strategies) if strategies is not None else list(dict.fromkeys(rows["strategy"]))
    found = []
    groups = rows.groupby(others, sort=False, dropna=False) if others else [((), rows)]
    for group_key, part in groups:
        labels = dict(
            zip(others, group_key if isinstance(group_key, tuple) else (group_key,), strict=True)
        )
        runs = None
        if summary is not None:
            runs = summary
            for key, value in labels.items():
                if key in runs.columns:
                    runs = runs[runs[key] == value]
        curves = {
            s: part[part["strategy"] == s].groupby(x)[["mean", "half_width"]].mean().sort_index()
            for s in names
        }
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                joined = pd.concat([curves[a], curves[b]], axis=1, keys=[a, b]).dropna(
                    subset=[(a, "mean"), (b, "mean")]
                )
                xs = joined.index.to_numpy(dtype=float)
                mean_a = joined[(a, "mean")].to_numpy()
                mean_b = joined[(b, "mean")].to_numpy()
                for k, frac in _crossings(xs, mean_a - mean_b):
                    u0, u1 = (np.log10(xs[k]), np.log10(xs[k + 1])) if logx else (xs[k], xs[k + 1])
                    u = u0 + (u1 - u0) * frac
                    value = mean_a[k] + frac * (mean_a[k + 1] - mean_a[k])
                    d0 = mean_a[k] - mean_b[k]
                    below, above = (a, b) if d0 < 0 else (b, a)
                    low, high, n, note = _crossing_interval(runs, metric, x, a, b, logx, level)
                    halves = [
                        joined[(s, "half_width")].to_numpy()[j] for s in (a, b) for j in (k, k + 1)
                    ]
                    gaps = [abs(mean_a[j] - mean_b[j]) for j in (k, k + 1)]
                    if all(not math.isnan(h) for h in halves) and all(
                        gap <= halves[0 + j] + halves[2 + j] for j, gap in enumerate(gaps)
                    ):
                        text = (
                            f"{a} and {b} differ by less than their intervals at both "
                            f"neighbouring {x} values: the crossing is not resolved"
                        )
                        warnings.warn(f"{metric}: {text}", IntervalWiderThanEffect, stacklevel=2)
                        note = f"{note}; {text}" if note else text
                    found.append(
                        {
                            **labels,
                            "below": below,
                            "above": above,
                            x: float(10**u if logx else u),
                            "value": float(value),
                            "x_low": low,
                            "x_high": high,
                            "replications": n,
                            "note": note,
                        }
                    )
    return pd.DataFrame(
        found,
        columns=[*others, "below", "above", x, "value", "x_low", "x_high", "replications", "note"],
    )
