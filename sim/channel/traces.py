"""Throughput traces as piecewise-constant capacity series.

Formats (see ../shared/traces/*/README.md):

* ``time_mbps``: two whitespace-separated columns, time [s] and throughput
  [Mbit/s] averaged over the interval *ending* at that time (Pensieve/"cooked"
  Norway HSDPA traces).
* ``mahimahi``: one integer millisecond timestamp per line, each a delivery
  opportunity for one 1500-byte packet (Winstein et al. NSDI'13); binned.
* ``csv``: a header row; ``time_column`` in seconds (or ``time_unit``) and
  ``rate_column`` in ``rate_unit`` (bps, kbps, Mbps, Gbps). Each row's rate
  holds until the next row's time.

A broken trace (no rows, non-monotonic time, negative or NaN values) is a
:class:`~sim.errors.SimInputError` naming the file and the line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.errors import SimInputError

RATE_UNITS = {"bps": 1.0, "kbps": 1e3, "Mbps": 1e6, "Gbps": 1e9}
TIME_UNITS = {"s": 1.0, "ms": 1e-3}
MAHIMAHI_PACKET_BITS = 1500 * 8
MAX_BINS = 20_000_000  # 23 days at 0.1 s: far beyond any trace, far below memory limits


@dataclass(frozen=True)
class Trace:
    """A capacity series: segment durations [s] and rates [bit/s], with its origin."""

    durations_s: np.ndarray
    rates_bps: np.ndarray
    source: str

    @property
    def duration_s(self) -> float:
        return float(self.durations_s.sum())

    @property
    def mean_bps(self) -> float:
        return float(np.sum(self.durations_s * self.rates_bps) / self.duration_s)

    def scaled(self, factor: float) -> Trace:
        return Trace(self.durations_s, self.rates_bps * factor, self.source)


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
    except FileNotFoundError:
        raise SimInputError("trace file not found", file=path) from None
    except IsADirectoryError:
        raise SimInputError("trace path is a directory, expected a file", file=path) from None
    except (UnicodeDecodeError, PermissionError, OSError) as exc:
        raise SimInputError(f"trace file not readable ({type(exc).__name__})", file=path) from None
    return text.splitlines()


def _check_series(path: Path, times: np.ndarray, rates: np.ndarray, lines: np.ndarray) -> None:
    if times.size == 0:
        raise SimInputError("trace has no data rows", file=path, allowed="at least two rows")
    bad = ~np.isfinite(times) | ~np.isfinite(rates)
    if bad.any():
        k = int(np.argmax(bad))
        raise SimInputError(
            "trace has a NaN or infinite value",
            file=path,
            line=int(lines[k]),
            allowed="finite numbers",
        )
    if (rates < 0).any():
        k = int(np.argmax(rates < 0))
        raise SimInputError(
            "trace has a negative throughput",
            file=path,
            line=int(lines[k]),
            value=float(rates[k]),
            allowed=">= 0",
        )
    if (times < 0).any():
        k = int(np.argmax(times < 0))
        raise SimInputError(
            "trace has a negative time",
            file=path,
            line=int(lines[k]),
            value=float(times[k]),
            allowed=">= 0",
        )
    steps = np.diff(times)
    if (steps <= 0).any():
        k = int(np.argmax(steps <= 0)) + 1
        raise SimInputError(
            "trace time is not strictly increasing",
            file=path,
            line=int(lines[k]),
            value=float(times[k]),
            allowed=f"> {times[k - 1]}",
        )


def load_time_mbps(path: str | Path) -> Trace:
    """Two columns ``time_s Mbps``; each rate covers the interval ending at its time."""
    path = Path(path)
    times, rates, lines = [], [], []
    for number, raw in enumerate(_read_lines(path), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        fields = text.replace(",", " ").split()
        if len(fields) < 2:
            raise SimInputError(
                "expected two columns 'time_s Mbps'", file=path, line=number, value=text
            )
        try:
            times.append(float(fields[0]))
            rates.append(float(fields[1]))
        except ValueError:
            raise SimInputError("not a number", file=path, line=number, value=text) from None
        lines.append(number)
    t, r, ln = np.array(times), np.array(rates), np.array(lines)
    _check_series(path, t, r, ln)
    if t.size < 2 and t[0] <= 0:
        raise SimInputError(
            "trace needs a positive time span", file=path, allowed="at least two rows"
        )
    # Interval ending at t[i] starts at t[i-1] (or 0 for the first row).
    starts = np.concatenate([[0.0], t[:-1]])
    durations = t - starts
    keep = durations > 0
    return Trace(durations[keep], r[keep] * 1e6, f"{path} (time_mbps)")


def load_mahimahi(path: str | Path, bin_s: float = 0.1) -> Trace:
    """Mahimahi packet-delivery timestamps [ms] binned to ``bin_s`` [s]."""
    path = Path(path)
    values, lines = [], []
    for number, raw in enumerate(_read_lines(path), start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            values.append(float(text))
        except ValueError:
            raise SimInputError(
                "expected one integer millisecond timestamp per line",
                file=path,
                line=number,
                value=text,
            ) from None
        lines.append(number)
    ms = np.array(values)
    ln = np.array(lines)
    if ms.size == 0:
        raise SimInputError("trace has no data rows", file=path, allowed="at least one timestamp")
    if not np.all(np.isfinite(ms)) or (ms < 0).any():
        k = int(np.argmax(~np.isfinite(ms) | (ms < 0)))
        raise SimInputError(
            "timestamp must be a finite number >= 0", file=path, line=int(ln[k]), value=float(ms[k])
        )
    back = np.diff(ms) < 0
    if back.any():
        k = int(np.argmax(back)) + 1
        raise SimInputError(
            "timestamps go backwards",
            file=path,
            line=int(ln[k]),
            value=float(ms[k]),
            allowed=f">= {ms[k - 1]:.0f}",
        )
    # mahimahi loops the file with period = the last timestamp (rounded up to a bin).
    period_s = max(ms[-1] / 1000.0, bin_s)
    if period_s / bin_s > MAX_BINS:
        raise SimInputError(
            "trace too long for its bin size",
            file=path,
            line=int(ln[-1]),
            value=float(ms[-1]),
            allowed=f"at most {MAX_BINS:,} bins of {bin_s:g} s (last timestamp in ms)",
        )
    nbins = int(np.ceil(period_s / bin_s - 1e-9))
    counts = np.bincount(
        np.minimum((ms / 1000.0 / bin_s).astype(np.int64), nbins - 1), minlength=nbins
    )
    rates = counts * MAHIMAHI_PACKET_BITS / bin_s
    return Trace(np.full(nbins, bin_s), rates.astype(float), f"{path} (mahimahi, {bin_s:g} s bins)")


def load_csv(
    path: str | Path,
    *,
    time_column: str,
    rate_column: str,
    rate_unit: str,
    time_unit: str = "s",
) -> Trace:
    """A CSV with named time and rate columns; each rate holds until the next row."""
    import pandas as pd

    path = Path(path)
    _read_lines(path)  # uniform not-found / unreadable errors
    try:
        frame = pd.read_csv(path, na_values=["-", ""])
    except Exception as exc:  # pandas raises many types for broken CSVs
        raise SimInputError(f"cannot parse CSV ({type(exc).__name__})", file=path) from None
    for column in (time_column, rate_column):
        if column not in frame.columns:
            raise SimInputError(
                f"column '{column}' not in CSV",
                file=path,
                allowed=", ".join(map(str, frame.columns)),
            )
    with np.errstate(over="ignore", invalid="ignore"):  # overflow becomes inf, rejected below
        times = pd.to_numeric(frame[time_column], errors="coerce").to_numpy(float)
        times = times * TIME_UNITS[time_unit]
        rates = pd.to_numeric(frame[rate_column], errors="coerce").to_numpy(float)
        rates = rates * RATE_UNITS[rate_unit]
    lines = np.arange(2, len(frame) + 2)
    _check_series(path, times, rates, lines)
    if times.size < 2:
        raise SimInputError("trace needs at least two rows", file=path)
    durations = np.diff(times)
    # The last row holds for the median step.
    durations = np.concatenate([durations, [float(np.median(durations))]])
    return Trace(durations, rates, f"{path} (csv {rate_column} [{rate_unit}])")
