"""One device's uplink capacity over time, with its transfers drawn on it (matplotlib, PNG).

The capacity c(t) [Mbit/s] is the step function the engine integrated (the
same for every strategy: common random numbers), hatched where it was skipped
because no transfer of that strategy needed it. Each transfer of the device
is drawn over the time it occupied the radio: a band from transmission start
to end at the height of its mean throughput (payload / duration), coloured by
outcome, with the radio promotion before it in grey. In a shared cell the
mean throughput sits below c(t): the other devices took their share.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from sim.channel.capacity import ConstantCapacity, PiecewiseCapacity

OK_COLOUR = "#4C72B0"
FAILED_COLOUR = "#C44E52"
PROMOTION_COLOUR = "#8C8C8C"
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


def _pick_device(results) -> int | None:
    req = results.requests
    uplink = req[np.isfinite(req["t_tx_start"].to_numpy(float))]
    if not len(uplink):
        return None
    return int(uplink["device"].min())


def capacity_with_transfers(
    results, path: Path, device: int | None = None, span_s: float | None = None
) -> bool:
    """Draw ``device``'s capacity and transfers into ``path``; False if nothing to draw."""
    device = _pick_device(results) if device is None else device
    if device is None:
        return False
    spec = results.scenario.spec
    t0 = spec.warmup_s
    t1 = min(spec.duration_s, t0 + (span_s or MAX_SPAN_S))
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
    fig, axes = plt.subplots(
        len(strategies), 1, figsize=(11, 1.0 + 2.2 * len(strategies)), sharex=True, squeeze=False
    )
    for ax, strategy in zip(axes[:, 0], strategies, strict=True):
        # Each strategy's own copy: the same channel where both generated it (common random
        # numbers), but each generates only around its own transfers.
        capacity = results.runs[strategy].capacity[device]
        times, rates = capacity_steps(capacity, t0, t1)
        ax.fill_between(times, rates / 1e6, step="post", color="#DDDDDD", lw=0)
        ax.step(times, rates / 1e6, where="post", color="#555555", lw=0.8, label="capacity c(t)")
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
                ax.axvspan(row["t_uplink_start"], start, color=PROMOTION_COLOUR, alpha=0.3, lw=0)
        ax.set_ylabel("Mbit/s")
        ax.set_title(f"{strategy}: device {device}", fontsize=9, loc="left")
        ax.set_xlim(t0, t1)
        ax.set_ylim(0, top * 1.08)
        ax.grid(alpha=0.3)
    handles = [
        plt.Line2D([], [], color="#555555", lw=1),
        plt.Rectangle((0, 0), 1, 1, color=OK_COLOUR, alpha=0.55),
        plt.Rectangle((0, 0), 1, 1, color=FAILED_COLOUR, alpha=0.55),
        plt.Rectangle((0, 0), 1, 1, color=PROMOTION_COLOUR, alpha=0.3),
        plt.Rectangle((0, 0), 1, 1, facecolor="white", edgecolor="#999999", hatch="//"),
    ]
    labels = [
        "capacity alone in the cell",
        "transfer (height: its mean throughput)",
        "failed transfer",
        "radio promotion",
        "skipped: not needed, not generated",
    ]
    axes[0, 0].legend(handles, labels, fontsize=7, ncol=5, loc="upper right")
    axes[-1, 0].set_xlabel("simulated time [s]")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write_channel_plot(results, folder: Path) -> list[str]:
    """Write ``channel_capacity.png`` into ``folder``; returns the names written."""
    name = "channel_capacity.png"
    return [name] if capacity_with_transfers(results, Path(folder) / name) else []
