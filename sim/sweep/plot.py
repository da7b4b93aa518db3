"""Metric versus a swept parameter: one line per strategy, a band for its confidence interval.

Bands are clipped to the metric's physical range (:func:`~sim.sweep.aggregate.metric_bounds`):
a miss rate's band stays in [0, 1], a latency's above 0.

When other parameters vary too, each combination of their values gets its own
panel (or fix them with ``where``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.output_columns import readable_metric
from sim.schema_doc import readable_key
from sim.sweep.aggregate import AGG_COLUMNS, metric_bounds


def _auto_log(values: np.ndarray) -> bool:
    """Log scale for positive values spanning at least two decades."""
    values = values[np.isfinite(values)]
    return bool(values.size > 2 and (values > 0).all() and values.max() / values.min() >= 100)


def _x_ticks(panel: Any, xs: np.ndarray, log: bool) -> None:
    """Log axes: ticks at the swept values (when few); large numbers in engineering notation."""
    from matplotlib.ticker import EngFormatter, NullFormatter

    values = np.unique(xs[np.isfinite(xs)])
    if log:
        panel.set_xscale("log")
        panel.xaxis.set_minor_formatter(NullFormatter())
        if 1 < values.size <= 10:  # log axes spanning under a decade get no labels otherwise
            panel.set_xticks(values)
    if values.size and np.abs(values).max() >= 1e4:
        panel.xaxis.set_major_formatter(EngFormatter(sep=""))
    if 6 < values.size <= 10:  # many labelled ticks: slant them so they never overlap
        panel.tick_params(axis="x", labelrotation=30)


def plot_metric(
    agg: pd.DataFrame,
    metric: str,
    x: str,
    *,
    where: Mapping[str, Any] | None = None,
    strategies: Sequence[str] | None = None,
    logx: bool | None = None,
    ax: Any = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
) -> Any:
    """Plot ``metric`` against parameter ``x`` from :func:`~sim.sweep.aggregate.aggregate` output.

    Returns the matplotlib Figure. ``where`` keeps rows whose parameters equal
    the given values; parameters still varying besides ``x`` give one panel per
    combination (``ax`` is only accepted when there is one panel).
    """
    from sim.figures import palette, subplots

    rows = agg[agg["metric"] == metric]
    if rows.empty:
        raise KeyError(f"no rows for metric '{metric}'; have {sorted(set(agg['metric']))}")
    if x not in rows.columns:
        raise KeyError(f"'{x}' is not a parameter of this sweep")
    for key, value in (where or {}).items():
        rows = rows[rows[key] == value]
    if rows.empty:
        raise ValueError(f"no rows left after where={dict(where or {})}")
    facets = [
        c for c in rows.columns if c not in (*AGG_COLUMNS, x) and rows[c].nunique(dropna=False) > 1
    ]
    groups = list(rows.groupby(facets, sort=False, dropna=False)) if facets else [((), rows)]
    names = list(strategies) if strategies is not None else list(dict.fromkeys(rows["strategy"]))
    if ax is not None and len(groups) > 1:
        raise ValueError(f"{len(groups)} panels needed ({facets} vary); pass where= or no ax")
    if ax is None:
        cols = min(len(groups), 3)
        nrows = math.ceil(len(groups) / cols)
        fig, axes = subplots(
            nrows, cols, figsize=(4.8 * cols, 3.4 * nrows), squeeze=False, sharey=True
        )
        axes_list = list(axes.flat)
        for extra in axes_list[len(groups) :]:
            extra.set_visible(False)
    else:
        fig, axes_list = ax.figure, [ax]
    xs_all = pd.to_numeric(rows[x], errors="coerce").to_numpy(dtype=float)
    use_log = _auto_log(xs_all) if logx is None else logx
    colors = palette()
    bounds = metric_bounds(metric, rows["mean"])
    for panel, (facet_key, part) in zip(axes_list, groups, strict=False):
        for k, strategy in enumerate(names):
            line = part[part["strategy"] == strategy].sort_values(x)
            if line.empty:
                continue
            color = colors[k % len(colors)]
            panel.plot(line[x], line["mean"], marker="o", ms=4, color=color, label=strategy)
            band = line.dropna(subset=["half_width"])
            if not band.empty:
                low, high = band["ci_low"], band["ci_high"]
                if bounds is not None:  # a band never leaves the metric's physical range
                    low, high = low.clip(lower=bounds[0]), high.clip(upper=bounds[1])
                panel.fill_between(band[x], low, high, color=color, alpha=0.2, lw=0)
        _x_ticks(panel, xs_all, use_log)
        panel.set_xlabel(xlabel or readable_key(x))
        panel.grid(True, alpha=0.3)
        if facets:
            values = facet_key if isinstance(facet_key, tuple) else (facet_key,)
            panel.set_title(
                ", ".join(f"{readable_key(f)}={v}" for f, v in zip(facets, values, strict=True)),
                fontsize=9,
            )
    axes_list[0].set_ylabel(ylabel or readable_metric(metric))
    axes_list[0].legend(fontsize=8)
    if ax is not None:  # the caller owns the figure: title the panel only if asked
        if title:
            ax.set_title(title, fontsize=10)
        return fig
    level = rows["level"].iloc[0] if "level" in rows.columns else 0.95
    fig.suptitle(
        title or f"{readable_metric(metric)}: mean, {level:.0%} CI over replications", fontsize=10
    )
    fig.tight_layout()
    return fig
