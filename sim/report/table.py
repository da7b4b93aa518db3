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
    ("energy_per_inference_j", "J/inf", "{:.3f}"),
    ("device_power_w", "dev W", "{:.2f}"),
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


def format_summary(summary: pd.DataFrame) -> str:
    """A fixed-width table of the key figures, one line per strategy."""
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
    return "\n".join(lines)
