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
* ``irish_5g``: G-NetTrack CSV of Raca et al. MMSys'20 (``Timestamp``
  ``YYYY.MM.DD_HH.MM.SS``, ``DL_bitrate``/``UL_bitrate`` in kbit/s, ``-`` =
  missing), resampled to 1 s as in the dataset README: rows averaged per
  second, gaps forward-filled. ``UL_bitrate`` there is TCP ACK traffic, not
  uplink capacity.
* ``fivegophers``: 5Gophers 1.0 CSV (Narayanan et al. WWW'20): one sample per
  second indexed by ``seq_num``, throughput in Mbit/s in ``throughput_mbps``
  or a per-carrier column (``Verizon_throughput_mbps``); long-format files
  holding many runs need ``select`` (e.g. carrier, num_tcp_conn, run_num).

A broken trace (no rows, non-monotonic time, negative or NaN values) is a
:class:`~sim.errors.SimInputError` naming the file and the line.
"""

from __future__ import annotations

import contextlib
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
    # ms / (1000 bin_s) is exact for whole-ms stamps on bin edges only up to rounding
    # (300 / 1000 / 0.1 = 2.9999999999999996): nudge before flooring.
    index = np.floor(ms / (1000.0 * bin_s) + 1e-9).astype(np.int64)
    counts = np.bincount(np.minimum(index, nbins - 1), minlength=nbins)
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


IRISH_TIME_FORMAT = "%Y.%m.%d_%H.%M.%S"
FIVEGOPHERS_STEP_S = 1.0


def _read_frame(path: Path):
    import pandas as pd

    _read_lines(path)  # uniform not-found / unreadable errors
    try:
        return pd.read_csv(path, na_values=["-", ""])
    except Exception as exc:  # pandas raises many types for broken CSVs
        raise SimInputError(f"cannot parse CSV ({type(exc).__name__})", file=path) from None


def _need_columns(path: Path, frame, columns: list[str]) -> None:
    for column in columns:
        if column not in frame.columns:
            raise SimInputError(
                f"column '{column}' not in CSV",
                file=path,
                value=column,
                allowed=", ".join(map(str, frame.columns)),
            )


def load_irish_5g(path: str | Path, rate_column: str = "DL_bitrate") -> Trace:
    """Raca et al. 5G CSV: ``rate_column`` [kbit/s] on a 1 s grid (per-second mean, gaps filled)."""
    import pandas as pd

    path = Path(path)
    frame = _read_frame(path)
    _need_columns(path, frame, ["Timestamp", rate_column])
    stamps = pd.to_datetime(frame["Timestamp"], format=IRISH_TIME_FORMAT, errors="coerce")
    lines = np.arange(2, len(frame) + 2)
    if len(frame) and stamps.isna().any():
        k = int(np.argmax(stamps.isna().to_numpy()))
        raise SimInputError(
            "bad Timestamp",
            file=path,
            line=int(lines[k]),
            value=frame["Timestamp"].iloc[k],
            allowed="YYYY.MM.DD_HH.MM.SS",
        )
    with np.errstate(over="ignore", invalid="ignore"):
        kbps = pd.to_numeric(frame[rate_column], errors="coerce").to_numpy(float)
    # Epoch seconds; several rows per second are normal here, so check with duplicates nudged.
    seconds = stamps.astype("int64").to_numpy() / 1e9 if len(frame) else kbps
    present = ~np.isnan(kbps)  # '-' = missing: filled from the previous second below
    nudged = seconds + 1e-6 * np.arange(seconds.size)
    _check_series(path, nudged[present], kbps[present], lines[present])
    series = pd.Series(kbps, index=stamps).groupby(level=0).mean().resample("1s").mean().ffill()
    series = series.dropna()  # leading seconds with no value yet
    rates = series.to_numpy(float) * RATE_UNITS["kbps"]
    return Trace(np.ones(rates.size), rates, f"{path} (irish_5g {rate_column} [kbit/s], 1 s grid)")


def load_fivegophers(
    path: str | Path,
    rate_column: str = "throughput_mbps",
    select: dict[str, str | int | float] | None = None,
) -> Trace:
    """5Gophers CSV: ``rate_column`` [Mbit/s] per ``seq_num`` second, rows matching ``select``.

    Each sample covers 1 s; missing seconds (gaps in ``seq_num``) are closed up.
    """
    path = Path(path)
    frame = _read_frame(path)
    _need_columns(path, frame, ["seq_num", rate_column, *(select or {})])
    lines = np.arange(2, len(frame) + 2)
    keep = np.ones(len(frame), dtype=bool)
    for column, wanted in (select or {}).items():
        values = frame[column]
        match = values.astype(str) == str(wanted)
        with contextlib.suppress(TypeError, ValueError):
            match |= values.astype(float) == float(wanted)
        if not match.any():
            choices = sorted(map(str, values.dropna().unique()))
            raise SimInputError(
                f"no rows with {column} = {wanted}",
                file=path,
                value=wanted,
                allowed=", ".join(choices[:12]) + (" ..." if len(choices) > 12 else ""),
            )
        keep &= match.to_numpy()
    if select and not keep.any():
        combos = frame[list(select)].drop_duplicates().astype(str).agg("/".join, axis=1)
        raise SimInputError(
            "no rows match all of select",
            file=path,
            value=dict(select),
            allowed=f"{'/'.join(select)} in " + ", ".join(sorted(combos)[:8]) + " ...",
        )
    frame, lines = frame[keep], lines[keep]
    import pandas as pd

    with np.errstate(over="ignore", invalid="ignore"):
        seq = pd.to_numeric(frame["seq_num"], errors="coerce").to_numpy(float)
        mbps = pd.to_numeric(frame[rate_column], errors="coerce").to_numpy(float)
    try:
        _check_series(path, seq * FIVEGOPHERS_STEP_S, mbps, lines)
    except SimInputError as exc:
        if "increasing" in exc.problem and not select:
            raise SimInputError(
                exc.problem + " (the file holds several runs: pick one with 'select')",
                file=path,
                line=exc.line,
                value=exc.value,
                allowed="select: {carrier: ..., num_tcp_conn: ..., run_num: ...}",
            ) from None
        raise
    # Every sample covers one second; missing seconds (gaps in seq_num) are closed up.
    durations = np.full(seq.size, FIVEGOPHERS_STEP_S)
    return Trace(
        durations, mbps * RATE_UNITS["Mbps"], f"{path} (fivegophers {rate_column} [Mbit/s])"
    )


# One dispatch for every reader of trace files (the scenario's TraceUplink and the channel
# fitter), so both read a file the same way with the same defaults.
TRACE_FORMATS = ("mahimahi", "time_mbps", "csv", "irish_5g", "fivegophers")
DEFAULT_RATE_COLUMN = {
    "csv": "throughput",
    "irish_5g": "DL_bitrate",
    "fivegophers": "throughput_mbps",
}


def detect_format(path: Path) -> str:
    """Guess a trace's format from its name and first line."""
    if path.suffix in (".up", ".down"):
        return "mahimahi"
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = handle.readline()
    if "Timestamp" in first and "DL_bitrate" in first:
        return "irish_5g"
    if "seq_num" in first:
        return "fivegophers"
    fields = first.replace(",", " ").split()
    if len(fields) == 1:
        return "mahimahi"
    return "time_mbps" if len(fields) == 2 else "csv"


def read_trace(
    path: str | Path,
    fmt: str,
    *,
    bin_s: float = 0.1,
    rate_column: str | None = None,
    select: dict[str, str | int | float] | None = None,
    time_column: str = "time_s",
    rate_unit: str = "Mbps",
    time_unit: str = "s",
) -> Trace:
    """Read one trace file in format ``fmt`` (one of TRACE_FORMATS, or 'auto' to guess).

    ``bin_s`` [s] applies to mahimahi; ``rate_column`` defaults per format
    (DEFAULT_RATE_COLUMN); ``select`` to fivegophers; the time column and units to csv.
    """
    path = Path(path)
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt not in TRACE_FORMATS:
        raise SimInputError(
            "unknown trace format", value=fmt, allowed="auto, " + ", ".join(TRACE_FORMATS)
        )
    column = rate_column or DEFAULT_RATE_COLUMN.get(fmt, "")
    if fmt == "mahimahi":
        return load_mahimahi(path, bin_s)
    if fmt == "time_mbps":
        return load_time_mbps(path)
    if fmt == "irish_5g":
        return load_irish_5g(path, column)
    if fmt == "fivegophers":
        return load_fivegophers(path, column, select)
    if rate_unit not in RATE_UNITS or time_unit not in TIME_UNITS:
        raise SimInputError(
            "unknown csv unit",
            value=f"{rate_unit}, {time_unit}",
            allowed=f"rate {', '.join(RATE_UNITS)}; time {', '.join(TIME_UNITS)}",
        )
    return load_csv(
        path, time_column=time_column, rate_column=column, rate_unit=rate_unit, time_unit=time_unit
    )
