"""Figures of a study: sensitivity indices with their intervals, a Pareto front, a history.

Every function returns a :class:`matplotlib.figure.Figure` built without
pyplot, so nothing touches global state or the backend.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import sim.figures as figures
from sim.figures import new_figure


def _figure(width_in: float, height_in: float) -> Any:
    return new_figure(width_in, height_in, layout="constrained")


def save_figure(fig: Any, path: Path, dpi: int = 120) -> Path:
    """PNG written atomically (sim/figures.py's one save helper, at 120 dpi)."""
    return figures.save_figure(fig, path, dpi=dpi)


def plot_indices(indices: pd.DataFrame, method: str, metric: str) -> Any:
    """One panel per strategy: a bar per parameter and index, the interval as an error bar.

    Sobol: S1 and ST (fractions of the output variance; intervals at the study's
    confidence level). Morris: mu* with its interval, and sigma.
    """
    rows = indices[indices["metric"] == metric]
    strategies = list(dict.fromkeys(rows["strategy"]))
    shown = ("S1", "ST") if method == "sobol" else ("mu_star", "sigma")
    params = list(dict.fromkeys(rows["param"]))
    fig = _figure(max(5.0, 1.2 + 1.1 * len(params)), 1.0 + 2.6 * len(strategies))
    axes = fig.subplots(len(strategies), 1, squeeze=False, sharex=True)[:, 0]
    width = 0.8 / len(shown)
    xs = np.arange(len(params))
    for ax, strategy in zip(axes, strategies, strict=True):
        part = rows[rows["strategy"] == strategy]
        for k, index in enumerate(shown):
            values = part[part["index"] == index].set_index("param").reindex(params)
            conf = values["conf"].to_numpy(dtype=float)
            ax.bar(
                xs + (k - (len(shown) - 1) / 2) * width,
                values["value"].to_numpy(dtype=float),
                width,
                yerr=np.where(np.isfinite(conf), conf, 0.0),
                capsize=3,
                label=index.replace("mu_star", "μ*").replace("sigma", "σ"),
            )
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_title(f"{metric} — {strategy}", fontsize=10)
        ax.set_ylabel("index" if method == "sobol" else f"effect on {metric}")
        ax.legend(fontsize=8)
    axes[-1].set_xticks(xs, [_short(p) for p in params], rotation=20, ha="right", fontsize=8)
    level = rows["conf_level"].iloc[0] if "conf_level" in rows and len(rows) else 0.95
    name = "Sobol'" if method == "sobol" else "Morris"
    fig.suptitle(f"{name} indices, {level:.0%} intervals", fontsize=11)
    return fig


def _short(key: str, limit: int = 38) -> str:
    return key if len(key) <= limit else "…" + key[-(limit - 1) :]


def pareto_mask(values: np.ndarray, maximise: Sequence[bool]) -> np.ndarray:
    """Rows of ``values`` [n x k] that no other row dominates (NaN rows never are on it)."""
    signs = np.where(np.asarray(maximise), -1.0, 1.0)
    costs = values * signs
    ok = np.isfinite(costs).all(axis=1)
    mask = np.zeros(len(costs), dtype=bool)
    for i in np.flatnonzero(ok):
        others = costs[ok]
        dominated = ((others <= costs[i]).all(axis=1) & (others < costs[i]).any(axis=1)).any()
        mask[i] = not dominated
    return mask


def plot_pareto(trials: pd.DataFrame, objectives: Sequence[str], maximise: Sequence[bool]) -> Any:
    """Two objectives: every trial (infeasible ones hollow), the feasible Pareto front joined.

    One objective: the objective per trial and the best feasible so far.
    """
    fig = _figure(6.0, 4.2)
    ax = fig.subplots()
    feasible = trials["feasible"].to_numpy(dtype=bool)
    if len(objectives) == 1:
        (name,) = objectives
        y = trials[name].to_numpy(dtype=float)
        x = trials["trial"].to_numpy()
        ax.scatter(x[feasible], y[feasible], s=18, label="feasible trial")
        ax.scatter(
            x[~feasible],
            y[~feasible],
            s=18,
            facecolors="none",
            edgecolors="grey",
            label="infeasible trial",
        )
        best = np.full(len(y), math.nan)
        current = math.nan
        for i in range(len(y)):
            if (
                feasible[i]
                and math.isfinite(y[i])
                and (math.isnan(current) or (y[i] > current if maximise[0] else y[i] < current))
            ):
                current = y[i]
            best[i] = current
        ax.step(x, best, where="post", color="C3", label="best feasible so far")
        ax.set_xlabel("trial")
        ax.set_ylabel(name)
    else:
        a, b = objectives[:2]
        values = trials[[a, b]].to_numpy(dtype=float)
        ax.scatter(values[feasible, 0], values[feasible, 1], s=18, label="feasible trial")
        ax.scatter(
            values[~feasible, 0],
            values[~feasible, 1],
            s=18,
            facecolors="none",
            edgecolors="grey",
            label="infeasible trial",
        )
        front = np.zeros(len(values), dtype=bool)
        if feasible.any():
            front[np.flatnonzero(feasible)] = pareto_mask(values[feasible], maximise[:2])
        order = np.argsort(values[front, 0])
        ax.plot(
            values[front, 0][order],
            values[front, 1][order],
            "o-",
            color="C3",
            label="Pareto front (feasible)",
        )
        ax.set_xlabel(f"{a} ({'max' if maximise[0] else 'min'})")
        ax.set_ylabel(f"{b} ({'max' if maximise[1] else 'min'})")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig
