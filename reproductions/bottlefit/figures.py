"""Figures of the BottleFit reproduction: reductions vs uplink rate with the named points'
intervals, and the winner maps. Built on :class:`matplotlib.figure.Figure` (no pyplot state,
no backend switch); each function returns the Figure and writes it when given a path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from reproductions.bottlefit.claims import reduction_intervals, reductions, winners
from reproductions.bottlefit.data import ABSTRACT, BOTTLEFIT

STYLE = {"wifi": "-", "wifi_awake": "--", "lte": ":"}
PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3")


def save(fig: Figure, path: str | Path | None, **kwargs) -> Figure:
    """Write ``fig`` to ``path`` (folders created) when a path is given; return it."""
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110, **kwargs)
    return fig


def plot_reductions(frame: pd.DataFrame, path: str | Path | None = None) -> Figure:
    """Reduction vs uplink rate (idle server): rows latency / power, columns local / offload /
    autoencoder. Lines: the rate curves, per board and model (colour) and radio (style); error
    bars: the named operating points' intervals; black line: the abstract's figure."""
    curves = reductions(frame[frame["kind"] == "curves"])
    points = reduction_intervals(frame[frame["kind"] == "points"])
    baselines = [b for b in ("local", "offload", "autoencoder") if (curves["baseline"] == b).any()]
    metrics = ("latency_s", "power_w")
    fig = Figure(figsize=(4.3 * max(len(baselines), 1), 7.4))
    axes = fig.subplots(len(metrics), max(len(baselines), 1), squeeze=False, sharex=True)
    pairs = sorted({(d, m) for d, m in zip(curves["device"], curves["model"], strict=True)})
    colour: dict[Any, str] = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(pairs)}
    for r, metric in enumerate(metrics):
        for c, baseline in enumerate(baselines):
            ax = axes[r, c]
            part = curves[(curves["baseline"] == baseline) & (curves["metric"] == metric)]
            for (device, model, radio), curve in part.groupby(["device", "model", "radio"]):
                curve = curve.sort_values("rate_bps")
                ax.plot(
                    curve["rate_bps"] / 1e6,
                    np.maximum(100 * curve["reduction"], -100),
                    STYLE.get(str(radio), "-"),
                    color=colour[(device, model)],
                    lw=1.1,
                )
            dots = points[(points["baseline"] == baseline) & (points["metric"] == metric)]
            dots = dots[(dots["load"] == 0) & dots["mean"].notna()]
            for _, d in dots.iterrows():
                key = (d["device"], d["model"])
                ax.errorbar(
                    d["rate_bps"] / 1e6,
                    100 * d["mean"],
                    yerr=[[100 * (d["mean"] - d["ci_low"])], [100 * (d["ci_high"] - d["mean"])]],
                    fmt="o",
                    ms=3,
                    color=colour.get(key, "k"),
                    capsize=2,
                )
            for claim in ABSTRACT:
                if claim.metric == metric and claim.baseline == baseline:
                    ax.axhline(100 * claim.value, color="k", lw=1.0, alpha=0.7)
                    ax.text(
                        0.01,
                        100 * claim.value,
                        f" abstract {claim.value:.0%}"
                        + (f" ({claim.board})" if claim.board else ""),
                        fontsize=7,
                        va="bottom",
                        transform=ax.get_yaxis_transform(),
                    )
            ax.set_xscale("log")
            ax.set_ylim(-100, 100)
            ax.grid(alpha=0.3, which="both")
            what = "latency" if metric == "latency_s" else "power in flight"
            ax.set_title(f"{what}: BottleFit C=12 vs {baseline}", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"reduction in {what.split()[0]} [%]")
            if r == len(metrics) - 1:
                ax.set_xlabel("uplink rate [Mbit/s]")
    handles = [Line2D([], [], color=colour[k], label=f"{k[0]} {k[1]}") for k in pairs]
    handles += [Line2D([], [], color="grey", ls=ls, label=radio) for radio, ls in STYLE.items()]
    handles.append(Line2D([], [], color="grey", marker="o", ls="", label="named point (interval)"))
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=7)
    fig.suptitle("BottleFit's reductions in simulation (idle edge server)", fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 0.97))
    return save(fig, path)


def plot_winners(
    frame: pd.DataFrame, metric: str = "latency_s", path: str | Path | None = None
) -> Figure:
    """A map of the best strategy per uplink rate (columns) and board/model/radio (rows)."""
    table = winners(frame, metric)
    names = ["local", "offload", BOTTLEFIT, "autoencoder"]
    colours = dict(zip(names, ("#4C72B0", "#DD8452", "#55A868", "#C44E52"), strict=True))
    codes = table.map(lambda s: names.index(s) if s in names else np.nan).to_numpy(dtype=float)
    fig = Figure(figsize=(1.8 + 0.75 * table.shape[1], 0.9 + 0.28 * table.shape[0]))
    ax = fig.subplots()
    ax.imshow(
        codes, cmap=ListedColormap([colours[n] for n in names]), vmin=0, vmax=3, aspect="auto"
    )
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=45, fontsize=7)
    ax.set_yticks(range(table.shape[0]), [" ".join(i) for i in table.index], fontsize=7)
    handles = [Rectangle((0, 0), 1, 1, color=colours[n]) for n in names]
    ax.legend(handles, names, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    label = {"latency_s": "latency", "energy_whole_board_j": "whole-board energy"}.get(
        metric, metric
    )
    ax.set_title(f"least {label} per inference (idle server)", fontsize=9)
    return save(fig, path, bbox_inches="tight")
