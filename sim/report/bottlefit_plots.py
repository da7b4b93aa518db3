"""Figures of the BottleFit reproduction: reductions vs uplink rate, and the winner map.

Both read the tidy sweep table of :func:`sim.report.bottlefit_table.sweep` and write PNG
files (matplotlib, Agg backend).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.report.bottlefit_table import ABSTRACT, BOTTLEFIT, reductions, winners


def plot_reductions(frame: pd.DataFrame, path: Path, load: float = 0.0) -> Path:
    """Reduction vs uplink rate: rows latency / power, columns local / offload / autoencoder.

    One line per board and model (colour) and radio state (line style); the abstract's
    figure as a black line. Reductions below -100 % are clipped to the axis.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    red = reductions(frame)
    red = red[red["load"] == load]
    baselines = [b for b in ("local", "offload", "autoencoder") if (red["baseline"] == b).any()]
    metrics = ("latency_s", "power_w")
    fig, axes = plt.subplots(
        len(metrics),
        len(baselines),
        figsize=(4.3 * len(baselines), 7.2),
        squeeze=False,
        sharex=True,
    )
    curves = sorted({(d, m) for d, m in zip(red["device"], red["model"], strict=True)})
    palette = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour = {c: palette[i % len(palette)] for i, c in enumerate(curves)}
    style = {"wifi": "-", "wifi_awake": "--", "lte": ":"}
    for r, metric in enumerate(metrics):
        for c, baseline in enumerate(baselines):
            ax = axes[r, c]
            part = red[(red["baseline"] == baseline) & (red["metric"] == metric)]
            for (device, model, radio), curve in part.groupby(["device", "model", "radio"]):
                curve = curve.sort_values("rate_bps")
                ax.plot(
                    curve["rate_bps"] / 1e6,
                    np.maximum(100 * curve["reduction"], -100),
                    style.get(radio, "-"),
                    color=colour[(device, model)],
                    lw=1.2,
                )
            for claim in ABSTRACT:
                if claim.metric == metric and claim.baseline == baseline:
                    ax.axhline(100 * claim.value, color="k", lw=1.2, alpha=0.7)
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
            what = "latency" if metric == "latency_s" else "power"
            ax.set_title(f"{what}: BottleFit C=12 vs {baseline}", fontsize=9)
            if c == 0:
                ax.set_ylabel(f"reduction in {what} [%]")
            if r == len(metrics) - 1:
                ax.set_xlabel("uplink rate [Mbit/s]")
    handles = [plt.Line2D([], [], color=colour[k], label=f"{k[0]} {k[1]}") for k in curves]
    handles += [plt.Line2D([], [], color="grey", ls=ls, label=radio) for radio, ls in style.items()]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=7)
    fig.suptitle(f"BottleFit's reductions in simulation (edge server background load {load:.0%})")
    fig.tight_layout(rect=(0, 0.08, 1, 0.97))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_winners(
    frame: pd.DataFrame, path: Path, metric: str = "latency_s", load: float = 0.0
) -> Path:
    """A map of the best strategy per uplink rate (columns) and board/model/radio (rows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = winners(frame, metric, load)
    names = ["local", "offload", BOTTLEFIT, "autoencoder"]
    colours = {
        "local": "#4C72B0",
        "offload": "#DD8452",
        BOTTLEFIT: "#55A868",
        "autoencoder": "#C44E52",
    }
    codes = table.map(lambda s: names.index(s) if s in names else -1).to_numpy(dtype=float)
    fig, ax = plt.subplots(figsize=(1.2 + 0.7 * table.shape[1], 0.8 + 0.28 * table.shape[0]))
    from matplotlib.colors import ListedColormap

    ax.imshow(
        codes, cmap=ListedColormap([colours[n] for n in names]), vmin=0, vmax=3, aspect="auto"
    )
    ax.set_xticks(range(table.shape[1]), table.columns, rotation=45, fontsize=7)
    ax.set_yticks(range(table.shape[0]), [" ".join(i) for i in table.index], fontsize=7)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours[n]) for n in names]
    ax.legend(handles, names, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(f"least {metric.split('_')[0]} (server load {load:.0%})", fontsize=9)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path
