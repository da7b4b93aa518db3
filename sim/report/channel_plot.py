"""One device's uplink capacity over time, with its transfers drawn on it (matplotlib, PNG).

The capacity c(t) [Mbit/s] is the step function the engine integrated (the
same for every strategy: common random numbers), hatched where it was skipped
because no transfer of that strategy needed it. Each transfer of the device
is drawn over the time it occupied the radio: a band from transmission start
to end at the height of its mean throughput (payload / duration), coloured by
outcome, with the radio's queue and promotion before it in amber. In a shared
cell the mean throughput sits below c(t): the other devices took their share.

Which device and window: ``outputs.channel_plot`` (``device``, ``start_s``,
``span_s``); by default the device with the most failed transfers (over all
strategies), from shortly before its first failure, so the plot shows what
went wrong.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.patches import Rectangle

from sim.channel.capacity import ConstantCapacity, PiecewiseCapacity
from sim.figures import save_figure, subplots

OK_COLOUR = "#4C72B0"
FAILED_COLOUR = "#C44E52"
PROMOTION_COLOUR = "#E69F00"  # amber: never the capacity's colour
CAPACITY_FILL = "#E3E9F2"
CAPACITY_LINE = "#3A3A3A"
MAX_SPAN_S = 10.0


def capacity_steps(capacity, t0_s: float, t1_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(times [s], rates [bit/s]) of c(t) on [t0_s, t1_s] for a step plot (``where='post'``)."""
    if isinstance(capacity, ConstantCapacity):
        return np.array([t0_s, t1_s]), np.array([capacity.rate_bps] * 2)
    if isinstance(capacity, PiecewiseCapacity):
        edges, rates = capacity.segments_until(t1_s)
        i0 = max(int(np.searchsorted(edges, t0_s, side="right")) - 1, 0)
        i1 = min(int(np.searchsorted(edges, t1_s, side="left")), rates.size)
        times = np.concatenate([[t0_s], edges[i0 + 1 : i1], [t1_s]])
        values = np.concatenate([rates[i0:i1], [rates[i1 - 1]]])
        return times, values
    grid = np.linspace(t0_s, t1_s, 2001)
    return grid, np.array([capacity.rate_at(t) for t in grid])


def pick_device(results) -> int | None:
    """The device with the most failed transfers over all strategies (ties: the lowest index);
    without failures the lowest-indexed device that sent anything; None if none did."""
    req = results.requests
    uplink = req[np.isfinite(req["t_tx_start"].to_numpy(float))]
    if not len(uplink):
        return None
    failed = req[req["reason"] == "transfer_failed"]
    if len(failed):
        counts = failed.groupby("device", observed=True).size()
        best = counts.max()
        return int(min(d for d, n in counts.items() if n == best))
    return int(uplink["device"].min())


def pick_window(results, device: int, start_s: float | None, span_s: float) -> tuple[float, float]:
    """[t0, t1) to draw: from ``start_s``, else a quarter span before the device's first failed
    transfer, else the warm-up's end; kept inside the run where it can be."""
    spec = results.scenario.spec
    end = max(spec.duration_s, spec.warmup_s + 1e-9)
    if start_s is None:
        req = results.requests
        failed = req[(req["device"] == device) & (req["reason"] == "transfer_failed")]
        first = failed["t_uplink_start"].min() if len(failed) else np.nan
        start_s = spec.warmup_s if not np.isfinite(first) else float(first) - span_s / 4
        start_s = min(max(start_s, spec.warmup_s), max(end - span_s, spec.warmup_s))
    return float(start_s), float(start_s) + span_s


def capacity_with_transfers(
    results,
    path: Path,
    device: int | None = None,
    span_s: float | None = None,
    start_s: float | None = None,
) -> bool:
    """Draw ``device``'s capacity and transfers into ``path``; False if nothing to draw.

    Defaults come from the scenario's ``outputs.channel_plot`` (then :func:`pick_device`,
    :func:`pick_window`).
    """
    options = getattr(results.scenario.spec.outputs, "channel_plot", None)
    if device is None and options is not None:
        device = options.device
    if start_s is None and options is not None:
        start_s = options.start_s
    if span_s is None:
        span_s = options.span_s if options is not None else MAX_SPAN_S
    device = pick_device(results) if device is None else device
    if device is None:
        return False
    t0, t1 = pick_window(results, device, start_s, span_s)
    req = results.requests
    strategies = [
        s
        for s in results.strategies
        if ((req["strategy"] == s) & (req["device"] == device) & req["t_tx_start"].notna()).any()
    ]
    if not strategies:
        return False
    if results.runs[strategies[0]].capacity.get(device) is None:
        return False
    fig, axes = subplots(
        len(strategies), 1, figsize=(11, 1.0 + 2.2 * len(strategies)), sharex=True, squeeze=False
    )
    for ax, strategy in zip(axes[:, 0], strategies, strict=True):
        # Each strategy's own copy: the same channel where both generated it (common random
        # numbers), but each generates only around its own transfers.
        capacity = results.runs[strategy].capacity[device]
        times, rates = capacity_steps(capacity, t0, t1)
        ax.fill_between(times, rates / 1e6, step="post", color=CAPACITY_FILL, lw=0)
        ax.step(times, rates / 1e6, where="post", color=CAPACITY_LINE, lw=0.8, label="c(t)")
        # Stretches no transfer needed were skipped, not generated: their level is a filler.
        for a, b in getattr(capacity, "gaps", []):
            if b > t0 and a < t1:
                ax.axvspan(max(a, t0), min(b, t1), color="white", alpha=0.8, lw=0, hatch="//")
        rows = req[
            (req["strategy"] == strategy)
            & (req["device"] == device)
            & req["t_tx_start"].notna()
            & (req["t_uplink_end"] > t0)
            & (req["t_uplink_start"] < t1)
        ]
        top = max(float(rates.max()) / 1e6, 1e-6)
        for _, row in rows.iterrows():
            start, end = float(row["t_tx_start"]), float(row["t_uplink_end"])
            if not np.isfinite(end) or end <= start:
                continue
            mean_mbps = 8.0 * float(row["payload_bytes"]) / (end - start) / 1e6
            failed = row["reason"] == "transfer_failed"
            colour = FAILED_COLOUR if failed else OK_COLOUR
            height = min(mean_mbps, top)
            ax.fill_between([start, end], [height, height], color=colour, alpha=0.55, lw=0)
            if row["t_tx_start"] > row["t_uplink_start"]:
                ax.axvspan(row["t_uplink_start"], start, color=PROMOTION_COLOUR, alpha=0.35, lw=0)
        ax.set_ylabel("Mbit/s")
        failures = int((rows["reason"] == "transfer_failed").sum())
        ax.set_title(
            f"{strategy}: device {device} ({failures} failed transfers shown)",
            fontsize=9,
            loc="left",
        )
        ax.set_xlim(t0, t1)
        ax.set_ylim(0, top * 1.08)
        ax.grid(alpha=0.3)
    handles = [
        Rectangle((0, 0), 1, 1, facecolor=CAPACITY_FILL, edgecolor=CAPACITY_LINE),
        Rectangle((0, 0), 1, 1, color=OK_COLOUR, alpha=0.55),
        Rectangle((0, 0), 1, 1, color=FAILED_COLOUR, alpha=0.55),
        Rectangle((0, 0), 1, 1, color=PROMOTION_COLOUR, alpha=0.35),
        Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#999999", hatch="//"),
    ]
    labels = [
        "capacity c(t), alone in the cell",
        "transfer (height: its mean throughput)",
        "failed transfer",
        "radio queue + promotion",
        "skipped: not needed, not generated",
    ]
    # Above the panels, never over the curve.
    fig.legend(handles, labels, fontsize=7, ncol=5, loc="upper center")
    axes[-1, 0].set_xlabel("simulated time [s]")
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    save_figure(fig, path)
    return True


def write_channel_plot(results, folder: Path) -> list[str]:
    """Write ``channel_capacity.png`` into ``folder``; returns the names written."""
    name = "channel_capacity.png"
    return [name] if capacity_with_transfers(results, Path(folder) / name) else []
