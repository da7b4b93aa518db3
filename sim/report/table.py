"""The compact terminal table printed at the end of a run."""

from __future__ import annotations

import math

import pandas as pd

COLUMNS = (
    ("strategy", "strategy", "{}"),
    ("requests", "reqs", "{:,.0f}"),
    ("latency_mean_s", "mean ms", "{:.1f}"),
    ("latency_p50_s", "p50 ms", "{:.1f}"),
    ("latency_p95_s", "p95 ms", "{:.1f}"),
    ("latency_p99_s", "p99 ms", "{:.1f}"),
    ("deadline_miss_rate", "miss %", "{:.1f}"),
    ("energy_whole_board_per_inference_j", "J/inf board", "{:.3f}"),
    ("energy_above_idle_per_inference_j", "J/inf >idle", "{:.3f}"),
    ("device_power_whole_board_w", "board W", "{:.2f}"),
    ("accuracy", "top-1 %", "{:.2f}"),
    ("server_utilisation", "GPU util %", "{:.0f}"),
)
SCALE = {
    "latency_mean_s": 1e3,
    "latency_p50_s": 1e3,
    "latency_p95_s": 1e3,
    "latency_p99_s": 1e3,
    "deadline_miss_rate": 100,
    "accuracy": 100,
    "server_utilisation": 100,
}


ENERGY_LEGEND = (
    "J/inf board: the whole board's energy over the window (idle draw included) per finished "
    "inference; J/inf >idle: what the requests add above the idle draw; board W: mean board "
    "power (docs/energy.md)"
)


def format_summary(summary: pd.DataFrame, legend: bool = True) -> str:
    """A fixed-width table of the key figures, one line per strategy (and the energy legend)."""
    header = [title for _, title, _ in COLUMNS]
    rows = []
    for _, record in summary.iterrows():
        cells = []
        for key, _, fmt in COLUMNS:
            value = record[key]
            if isinstance(value, float):
                if math.isnan(value):
                    cells.append("-")
                    continue
                value = value * SCALE.get(key, 1)
            cells.append(fmt.format(value))
        rows.append(cells)
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)
    ]
    lines = [
        "  ".join(
            h.rjust(w) if i else h.ljust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for cells in rows:
        lines.append(
            "  ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
        )
    if legend:
        lines.append(ENERGY_LEGEND)
    return "\n".join(lines)
