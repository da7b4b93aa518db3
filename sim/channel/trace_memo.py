"""Trace files read once per content: :func:`read_trace` memoised (sim/file_memo.py).

Every point of a sweep over a trace-driven scenario resolved the trace again (~170 ms
for the 480 kB mahimahi LTE uplink, ~8x a whole point's planning budget). The memo keys
on the file's SHA-256 and every reading option, so an edited file or another format,
bin or column is read afresh; the shared arrays are made read-only, so no caller can
change another's trace.
"""

from __future__ import annotations

from pathlib import Path

from sim.channel.traces import Trace, read_trace
from sim.file_memo import ContentMemo

MAX_MEMO_BYTES = 64 * 2**20
"""Larger trace files are read every time [bytes] (16 entries of that size would be GBs)."""
TRACES: ContentMemo[Trace] = ContentMemo(max_entries=16, max_bytes=MAX_MEMO_BYTES)


def read_trace_memo(
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
    """:func:`sim.channel.traces.read_trace`, memoised on the file's content and options."""
    options = (
        fmt,
        bin_s,
        rate_column,
        None if select is None else tuple(sorted(select.items())),
        time_column,
        rate_unit,
        time_unit,
    )

    def read() -> Trace:
        trace = read_trace(
            path,
            fmt,
            bin_s=bin_s,
            rate_column=rate_column,
            select=select,
            time_column=time_column,
            rate_unit=rate_unit,
            time_unit=time_unit,
        )
        trace.durations_s.flags.writeable = False
        trace.rates_bps.flags.writeable = False
        return trace

    return TRACES.get(path, options, read)
