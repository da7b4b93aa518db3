"""Across replications: mean and Student-t confidence interval per point, strategy and metric.

Each replication is one independent observation of a metric (its run's
summary value), so the interval is the textbook one::

    half_width = t_{(1+level)/2, n-1} * s / sqrt(n)

with ``s`` the sample standard deviation (ddof=1) of the ``n`` replications
whose value is not NaN (a strategy that finished no request has no latency).
With one replication the half-width is NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

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
    "level",
)

ID_COLUMNS = ("run_id", "point", "replication", "seed", "point_label", "strategy")
EXCLUDED_METRICS = ("latency_mean_ci95_s",)
"""Not aggregated by default: a within-run interval is not a metric to average."""
DEFAULT_METRICS = ("latency_mean_s", "deadline_miss_rate", "energy_per_inference_j")
"""What the CLI prints and plots unless told otherwise."""


def t_interval(values: Sequence[float] | np.ndarray, level: float = 0.95) -> dict[str, float]:
    """n, mean, std, half-width and bounds of the t-interval of ``values`` (NaNs dropped)."""
    data = np.asarray(values, dtype=float)
    data = data[~np.isnan(data)]
    n = int(data.size)
    mean = float(data.mean()) if n else math.nan
    std = float(data.std(ddof=1)) if n > 1 else math.nan
    if n > 1:
        half = float(stats.t.ppf(0.5 + level / 2, n - 1) * std / math.sqrt(n))
    else:
        half = math.nan
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "half_width": half,
        "ci_low": mean - half,
        "ci_high": mean + half,
    }


def metric_columns(summary: pd.DataFrame, params: Sequence[str] = ()) -> list[str]:
    """The numeric summary columns that are metrics (not ids, parameters or excluded)."""
    skip = set(ID_COLUMNS) | set(params) | set(EXCLUDED_METRICS)
    return [
        c
        for c in summary.columns
        if c not in skip
        and pd.api.types.is_numeric_dtype(summary[c])
        and not pd.api.types.is_bool_dtype(summary[c])
    ]


def aggregate(
    summary: pd.DataFrame,
    params: Sequence[str],
    metrics: Sequence[str] | None = None,
    *,
    level: float = 0.95,
) -> pd.DataFrame:
    """Tidy table: one row per (point, strategy, metric) with n, mean, std and the t-interval.

    ``summary``: one row per run and strategy, with the parameter columns
    ``params`` and a ``strategy`` column. Rows come out in point order, strategies
    in the order they first appear, metrics in the order asked.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1) (got {level})")
    params = list(params)
    metrics = list(metrics) if metrics is not None else metric_columns(summary, params)
    missing = [m for m in metrics if m not in summary.columns]
    if missing:
        raise KeyError(f"unknown metrics {missing}; summary has {list(summary.columns)}")
    frame = summary.copy()
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
            rows.append({**labels, "metric": metric, **t_interval(part[metric], level)})
    columns = [*keys, "metric", "n", "mean", "std", "half_width", "ci_low", "ci_high"]
    out = pd.DataFrame(rows, columns=columns)
    out["level"] = level
    sort_cols = ([order_key] if order_key else []) + ["_strategy", "_metric"]
    out["_strategy"] = out["strategy"].map(strategy_order.index)
    out["_metric"] = out["metric"].map(metrics.index)
    out = out.sort_values(sort_cols, kind="stable").drop(columns=["_strategy", "_metric"])
    return out.reset_index(drop=True)


def wide(
    agg: pd.DataFrame, params: Sequence[str], metrics: Sequence[str] | None = None
) -> pd.DataFrame:
    """One row per (point, strategy); per metric a ``<metric>`` (mean) and ``<metric>_ci``
    (half-width) column."""
    metrics = list(metrics) if metrics is not None else list(dict.fromkeys(agg["metric"]))
    rows = agg[agg["metric"].isin(metrics)]
    index = [c for c in ("point", *params, "strategy") if c in rows.columns]
    out = []
    for key, part in rows.groupby(index, sort=False, dropna=False):
        row = dict(zip(index, key if isinstance(key, tuple) else (key,), strict=True))
        by_metric = part.set_index("metric")
        for metric in metrics:
            found = metric in by_metric.index
            row[metric] = by_metric.at[metric, "mean"] if found else math.nan
            row[f"{metric}_ci"] = by_metric.at[metric, "half_width"] if found else math.nan
        out.append(row)
    return pd.DataFrame(out, columns=[*index, *(c for m in metrics for c in (m, f"{m}_ci"))])


def format_table(
    agg: pd.DataFrame, params: Sequence[str], metrics: Sequence[str] | None = None
) -> str:
    """Text table of ``mean ± half-width`` per point and strategy (what the CLI prints)."""
    metrics = list(metrics) if metrics is not None else list(dict.fromkeys(agg["metric"]))
    table = wide(agg, params, metrics)
    out = table[[c for c in ("point", *params, "strategy") if c in table.columns]].copy()
    for metric in metrics:
        means, halves = table[metric], table[f"{metric}_ci"]
        out[metric] = [
            f"{m:.4g}" if math.isnan(h) else f"{m:.4g} ± {h:.2g}"
            for m, h in zip(means, halves, strict=True)
        ]
    return out.drop(columns=["point"], errors="ignore").to_string(index=False)


def crossovers(
    agg: pd.DataFrame,
    metric: str,
    x: str,
    *,
    logx: bool = False,
    strategies: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Where the mean curves of two strategies cross as ``x`` varies (linear interpolation).

    One row per crossing: the other parameters' values, ``below`` (the strategy
    with the lower metric just below the crossing), ``above``, ``x`` and the
    interpolated metric ``value``. ``logx`` interpolates in log10(x).
    """
    rows = agg[agg["metric"] == metric]
    others = [c for c in rows.columns if c not in (x, *AGG_COLUMNS)]
    names = list(strategies) if strategies is not None else list(dict.fromkeys(rows["strategy"]))
    found = []
    groups = rows.groupby(others, sort=False, dropna=False) if others else [((), rows)]
    for group_key, part in groups:
        labels = dict(
            zip(others, group_key if isinstance(group_key, tuple) else (group_key,), strict=True)
        )
        curves = {
            s: part[part["strategy"] == s].groupby(x)["mean"].mean().sort_index() for s in names
        }
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                joined = pd.concat([curves[a], curves[b]], axis=1, keys=[a, b]).dropna()
                xs = joined.index.to_numpy(dtype=float)
                diff = (joined[a] - joined[b]).to_numpy()
                for k in range(len(xs) - 1):
                    d0, d1 = diff[k], diff[k + 1]
                    if d0 == 0 or d0 * d1 >= 0:
                        continue
                    u0, u1 = (np.log10(xs[k]), np.log10(xs[k + 1])) if logx else (xs[k], xs[k + 1])
                    u = u0 + (u1 - u0) * d0 / (d0 - d1)
                    at = 10**u if logx else u
                    frac = (u - u0) / (u1 - u0)
                    value = joined[a].iloc[k] + frac * (joined[a].iloc[k + 1] - joined[a].iloc[k])
                    below, above = (a, b) if d0 < 0 else (b, a)
                    found.append(
                        {
                            **labels,
                            "below": below,
                            "above": above,
                            x: float(at),
                            "value": float(value),
                        }
                    )
    return pd.DataFrame(found, columns=[*others, "below", "above", x, "value"])
