"""Plots of one scenario's results (matplotlib Figures, no pyplot; PNG files via sim/figures.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle

from sim.figures import palette, save_figure, subplots
from sim.metrics import finished, latency_s
from sim.report.channel_plot import write_channel_plot

PLOT_STAGES = (
    ("device queue", "t_arrival", "t_head_start", "#AEC7E8"),
    ("compute on device", "t_head_start", "t_head_end", "#4C72B0"),
    ("radio queue + promotion", "t_head_end", "t_tx_start", "#F5C99B"),
    ("on air", "t_tx_start", "t_uplink_end", "#DD8452"),
    ("network", "t_uplink_end", "t_server_arrival", "#937860"),
    ("server queue", "t_server_arrival", "t_service_start", "#C44E52"),
    ("GPU service", "t_service_start", "t_service_end", "#55A868"),
    ("back to device", "t_service_end", "t_done", "#8172B3"),
)
"""Consecutive stages of a request's life as plotted: the device's processor queue apart from
its compute, and the radio's queue and promotion apart from the time on air (metrics.STAGES
lumps each pair together)."""

STAGE_COLOURS = {name: colour for name, _, _, colour in PLOT_STAGES}


def _log_ticks(axis, low: float, high: float) -> None:
    """Plain-number labels on a log axis, at 1-2-5 steps when it spans under two decades;
    minor ticks unlabelled, so labels never crowd or overlap."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    decades = np.log10(high / low) if low > 0 and high > low else 3.0
    subs = (1.0, 2.0, 5.0) if decades < 2.0 else (1.0,)
    axis.set_major_locator(LogLocator(base=10.0, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _strategy_colours(strategies: list[str]) -> dict[str, str]:
    colours = palette()
    return {s: colours[i % len(colours)] for i, s in enumerate(strategies)}


def latency_cdf(results, ax) -> None:
    req = results.in_window()
    colours = _strategy_colours(results.strategies)
    for strategy in results.strategies:
        part = req[req["strategy"] == strategy]
        lat = np.sort(latency_s(finished(part)).to_numpy())
        if not len(part) or not lat.size:
            continue
        # CDF over all requests: unfinished ones never reach 1.
        y = np.arange(1, lat.size + 1) / len(part)
        ax.step(lat * 1000, y, where="post", label=strategy, color=colours[strategy])
    for deadline in sorted({g.spec.deadline_s for g in results.scenario.groups}):
        ax.axvline(deadline * 1000, color="grey", ls="--", lw=1)
        ax.text(deadline * 1000, 0.02, " deadline", color="grey", fontsize=8)
    ax.set_xscale("log")
    low, high = ax.get_xlim()
    _log_ticks(ax.xaxis, low, high)
    ax.set_xlabel("latency [ms] (log)")
    ax.set_ylabel("fraction of requests finished")
    ax.set_ylim(0, 1.02)
    ax.set_title("Latency CDF (dropped/failed never finish)")
    ax.grid(alpha=0.3, which="both")
    ax.legend()


def stage_means_s(results) -> dict[str, dict[str, float]]:
    """strategy -> stage -> mean seconds over the finished requests of the window (a stage a
    request skipped counts 0); the stages sum to the mean latency."""
    done = finished(results.in_window())
    means = {}
    for strategy in results.strategies:
        part = done[done["strategy"] == strategy]
        means[strategy] = {
            name: float((part[b] - part[a]).fillna(0.0).clip(lower=0).mean()) if len(part) else 0.0
            for name, a, b, _ in PLOT_STAGES
        }
    return means


def stage_bars(results, ax) -> None:
    means = stage_means_s(results)
    x = np.arange(len(results.strategies))
    bottom = np.zeros(len(x))
    for name, _, _, colour in PLOT_STAGES:
        values = np.array([means[s][name] for s in results.strategies]) * 1000
        ax.bar(x, values, bottom=bottom, label=name, color=colour)
        bottom += values
    _strategy_ticks(ax, x, results.strategies)
    ax.set_ylabel("mean latency of finished requests [ms]")
    ax.set_title("Where the time goes (finished requests in the window)")
    ax.set_ylim(0, max(float(bottom.max()), 1e-9) * 1.05)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)


def _strategy_ticks(ax, x, names) -> None:
    long = max((len(str(n)) for n in names), default=0) > 12
    ax.set_xticks(x, names, rotation=25 if long else 15, ha="right" if long else "center")


def energy_bars(results, ax) -> None:
    """Energy per finished inference on both bases (docs/energy.md): bars above idle (compute
    + radio), the board's idle share on top of them, so the full bar is the whole board."""
    summary = results.summary.set_index("strategy").reindex(results.strategies)
    x = np.arange(len(summary))
    compute = summary["energy_above_idle_compute_per_inference_j"].fillna(0).to_numpy()
    radio = summary["energy_above_idle_radio_per_inference_j"].fillna(0).to_numpy()
    whole = summary["energy_whole_board_per_inference_j"].fillna(0).to_numpy()
    idle = np.clip(whole - compute - radio, 0.0, None)
    ax.bar(x, compute, label="above idle: compute", color="#4C72B0")
    ax.bar(
        x,
        radio,
        bottom=compute,
        label="above idle: radio (promotion, transfer, tail)",
        color="#DD8452",
    )
    ax.bar(
        x,
        idle,
        bottom=compute + radio,
        label="board idle draw (shared per inference)",
        color="#C8C8C8",
    )
    ax.plot(
        x,
        summary["energy_whole_board_metered_per_inference_j"],
        "kD",
        label="whole board, metered over the window",
    )
    _strategy_ticks(ax, x, list(summary.index))
    ax.set_ylabel("device energy per finished inference [J]")
    ax.set_title("Device energy per inference: whole board (full bar), above idle (coloured)")
    metered = summary["energy_whole_board_metered_per_inference_j"].to_numpy(dtype=float)
    tallest = np.nanmax(np.concatenate([compute + radio + idle, metered, [1e-9]]))
    ax.set_ylim(0, tallest * 1.08)  # every bar and marker inside the axes
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.grid(axis="y", alpha=0.3)


def miss_bars(results, ax) -> None:
    summary = results.summary.set_index("strategy").reindex(results.strategies)
    x = np.arange(len(summary))
    n = summary["requests"].replace(0, np.nan)
    bottom = np.zeros(len(summary))
    for column, colour in (
        ("completed_late", "#DD8452"),
        ("dropped", "#C44E52"),
        ("failed", "#8C8C8C"),
    ):
        values = (summary[column] / n).fillna(0).to_numpy()
        ax.bar(x, values, bottom=bottom, label=column.replace("_", " "), color=colour)
        bottom += values
    _strategy_ticks(ax, x, list(summary.index))
    ax.set_ylabel("fraction of requests")
    ax.set_ylim(0, 1)
    ax.set_title("Deadline misses by outcome")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)


def timeline(results, path: Path, devices: int = 4, span_s: float = 6.0) -> None:
    """Each request of a few devices as a bar per stage, one panel per strategy."""
    spec = results.scenario.spec
    start = spec.warmup_s
    req = results.requests
    chosen = sorted(req["device"].unique())[:devices]
    strategies = results.strategies
    fig, axes = subplots(
        len(strategies),
        1,
        figsize=(11, 1.0 + 1.1 * devices * len(strategies) / 2),
        sharex=True,
        squeeze=False,
    )
    for ax, strategy in zip(axes[:, 0], strategies, strict=True):
        part = req[
            (req["strategy"] == strategy)
            & req["device"].isin(chosen)
            & (req["t_arrival"] >= start)
            & (req["t_arrival"] < start + span_s)
        ]
        for lane, device in enumerate(chosen):
            rows = part[part["device"] == device]
            for _name, a, b, colour in PLOT_STAGES:
                s0 = rows[a].to_numpy()
                s1 = rows[b].to_numpy()
                ok = np.isfinite(s0) & np.isfinite(s1) & (s1 > s0)
                ax.broken_barh(
                    list(zip(s0[ok], s1[ok] - s0[ok], strict=True)),
                    (lane - 0.35, 0.7),
                    facecolors=colour,
                )
            bad = rows[rows["outcome"].isin(["dropped", "failed"])]
            ax.plot(bad["t_done"], np.full(len(bad), lane), "kx", ms=6)
            ax.plot(rows["t_arrival"], np.full(len(rows), lane - 0.45), "|", color="k", ms=5)
        ax.set_yticks(range(len(chosen)), [f"dev {d}" for d in chosen])
        ax.set_title(strategy, fontsize=9, loc="left")
        ax.set_xlim(start, start + span_s)
    handles = [Rectangle((0, 0), 1, 1, color=c) for c in STAGE_COLOURS.values()]
    # Above the panels, never over a device's lane.
    fig.legend(handles, list(STAGE_COLOURS), ncol=4, fontsize=7, loc="upper center")
    axes[-1, 0].set_xlabel("simulated time [s]  (| arrival, x dropped/failed)")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.45 / fig.get_figheight()))
    save_figure(fig, path)


def write_plots(results, folder: Path) -> list[str]:
    """Write the standard plots into ``folder``; returns the file names."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw, size in (
        ("latency_cdf.png", latency_cdf, (7, 4.5)),
        ("stage_breakdown.png", stage_bars, (9, 4.5)),
        ("energy_per_inference.png", energy_bars, (9.5, 4.5)),
        ("deadline_misses.png", miss_bars, (7, 4.5)),
    ):
        fig, ax = subplots(1, 1, figsize=size)
        draw(results, ax)
        fig.tight_layout()
        save_figure(fig, folder / name)
        written.append(name)
    if len(results.requests):
        timeline(results, folder / "timeline.png")
        written.append("timeline.png")
    written += write_channel_plot(results, folder)
    return written
