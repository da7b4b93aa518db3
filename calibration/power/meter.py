"""Parser for an external power meter's CSV log (USB meter, lab supply, shunt logger).

Format (comma-separated, one header row, ``#`` lines ignored; names are
case-insensitive):

* time: ``time_s`` (seconds, Unix time or relative to ``t0_s``) or ``timestamp``
  (Unix seconds or ISO 8601, e.g. ``2024-05-01T12:00:00.250+00:00``);
* power: ``power_w``, or ``power_mw``, or ``voltage_v`` with ``current_a`` or
  ``current_ma`` (power = V * I).

Example::

    time_s,voltage_v,current_a
    1714557600.00,5.08,0.52
    1714557600.10,5.08,0.53
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from calibration.power.trace import PowerTrace

TIME_COLUMNS = ("time_s", "timestamp")
POWER_COLUMNS = {"power_w": 1.0, "power_mw": 1e-3}
CURRENT_COLUMNS = {"current_a": 1.0, "current_ma": 1e-3}


def _parse_time(text: str) -> float:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        return stamp.timestamp()


def parse_meter_csv(
    lines: Iterable[str], *, t0_s: float = 0.0, source: str = "meter CSV"
) -> PowerTrace:
    """A :class:`PowerTrace` [W] from meter CSV lines; ``t0_s`` is added to every time."""
    rows = csv.reader(line for line in lines if line.strip() and not line.lstrip().startswith("#"))
    try:
        header = [h.strip().lower() for h in next(rows)]
    except StopIteration:
        raise ValueError("empty meter CSV") from None
    col = {name: i for i, name in enumerate(header)}
    time_col = next((c for c in TIME_COLUMNS if c in col), None)
    if time_col is None:
        raise ValueError(
            f"meter CSV needs a time column ({' or '.join(TIME_COLUMNS)}); header: {header}"
        )
    power_col = next((c for c in POWER_COLUMNS if c in col), None)
    current_col = next((c for c in CURRENT_COLUMNS if c in col), None)
    if power_col is None and not ("voltage_v" in col and current_col):
        raise ValueError(
            "meter CSV needs power_w, power_mw, or voltage_v with current_a/current_ma; "
            f"header: {header}"
        )
    times, watts = [], []
    for lineno, row in enumerate(rows, start=2):
        if not row:
            continue
        try:
            t = _parse_time(row[col[time_col]]) + t0_s
            if power_col is not None:
                w = float(row[col[power_col]]) * POWER_COLUMNS[power_col]
            else:
                assert current_col is not None
                w = (
                    float(row[col["voltage_v"]])
                    * float(row[col[current_col]])
                    * CURRENT_COLUMNS[current_col]
                )
        except (ValueError, IndexError) as exc:
            raise ValueError(f"meter CSV data row {lineno}: {exc}") from None
        times.append(t)
        watts.append(w)
    return PowerTrace.from_samples(times, watts, source=source)


def read_meter_csv(path: str | Path, *, t0_s: float = 0.0) -> PowerTrace:
    """Parse a meter CSV file (see the module docstring for the format)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return parse_meter_csv(handle, t0_s=t0_s, source=f"meter CSV {Path(path).name}")
