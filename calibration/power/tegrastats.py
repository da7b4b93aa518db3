"""Parser for NVIDIA Jetson ``tegrastats`` logs: power rails in mW, with sample times.

A tegrastats line reports each power rail as ``NAME current/average``: plain
milliwatts on JetPack 4 (Nano, TX2, Xavier: ``POM_5V_IN 1772/1772``,
``VDD_IN 3686/3686``) and with a unit on JetPack 5+ (Orin: ``VDD_IN
4991mW/4991mW``, ``VIN_SYS_5V0 2920mW/2920mW``). The *current* value is used.
Other fields (``RAM 1538/3956MB``, ``IRAM 0/252kB``) carry a unit other than
mW and are skipped.

A line's time comes from, in order:

1. a leading Unix time in seconds, as written by :class:`calibration.power.recorder.TegrastatsRecorder`
   (``1714557600.123 RAM ...``);
2. tegrastats' own leading local date-time (JetPack 5+, ``08-29-2023 14:51:38 RAM ...``,
   1 s resolution), converted with this machine's time zone;
3. otherwise ``start_s + i * interval_s`` for the i-th line (bare ``tegrastats --interval``
   output, which has no times).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from calibration.power.trace import PowerTrace

INPUT_RAILS = ("VDD_IN", "POM_5V_IN", "VIN_SYS_5V0", "VIN")
"""Rails that measure the module's whole input, in order of preference: VDD_IN (Xavier,
Orin, TX2 NX), POM_5V_IN (Nano, TX1/TX2), VIN_SYS_5V0 (Orin Nano dev kit)."""

_RAIL = re.compile(r"(?<![\w@])([A-Z][A-Z0-9_]*)\s+(\d+)(?:mW)?/(\d+)(?:mW)?(?=\s|$)")
_UNIX = re.compile(r"^\s*(\d{9,}(?:\.\d+)?)\s+(.*)$")
_DATE = re.compile(r"^\s*(\d{2}-\d{2}-\d{4} \d{2}:\d{2}:\d{2})\s+(.*)$")


@dataclass(frozen=True)
class TegraSample:
    """One tegrastats line: its time [s since the epoch] (None if the line has none) and rails [mW]."""

    t_s: float | None
    rails_mw: dict[str, int]


def parse_line(line: str) -> TegraSample | None:
    """Rails and time of one line, or None for a line without power rails."""
    t_s: float | None = None
    match = _UNIX.match(line)
    if match:
        t_s, line = float(match.group(1)), match.group(2)
    else:
        match = _DATE.match(line)
        if match:
            stamp = dt.datetime.strptime(match.group(1), "%m-%d-%Y %H:%M:%S")
            t_s, line = stamp.timestamp(), match.group(2)
    rails = {name: int(now) for name, now, _avg in _RAIL.findall(line)}
    if not rails:
        return None
    return TegraSample(t_s, rails)


def parse_lines(lines: Iterable[str]) -> list[TegraSample]:
    """Every line that carries power rails, in file order."""
    return [s for s in (parse_line(line) for line in lines) if s is not None]


def pick_rail(samples: list[TegraSample], rail: str | None = None) -> str:
    """The rail to use: ``rail`` if given (must be present), else the first of :data:`INPUT_RAILS`."""
    present = set().union(*(s.rails_mw for s in samples)) if samples else set()
    if rail is not None:
        if rail not in present:
            raise ValueError(
                f"rail '{rail}' not in the log; rails: {', '.join(sorted(present)) or 'none'}"
            )
        return rail
    for name in INPUT_RAILS:
        if name in present:
            return name
    raise ValueError(
        f"no input rail ({', '.join(INPUT_RAILS)}) in the log; rails: "
        f"{', '.join(sorted(present)) or 'none'}; pass rail="
    )


def to_trace(
    samples: list[TegraSample],
    *,
    rail: str | None = None,
    start_s: float | None = None,
    interval_s: float | None = None,
) -> PowerTrace:
    """A :class:`PowerTrace` [W] of one rail; lines without times need ``start_s`` and ``interval_s``."""
    name = pick_rail(samples, rail)
    times, watts = [], []
    for i, sample in enumerate(samples):
        if name not in sample.rails_mw:
            continue
        t = sample.t_s
        if t is None:
            if start_s is None or interval_s is None:
                raise ValueError(
                    "the log has no times: give start_s (Unix time of the first line) and interval_s"
                )
            t = start_s + i * interval_s
        times.append(t)
        watts.append(sample.rails_mw[name] / 1000.0)
    return PowerTrace.from_samples(times, watts, source=f"tegrastats rail {name}")


def read_tegrastats(path: str | Path, **kwargs: object) -> PowerTrace:
    """Parse a tegrastats log file into a power trace (see :func:`to_trace` for the options)."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        return to_trace(parse_lines(handle), **kwargs)  # type: ignore[arg-type]
