"""A power trace P(t) and its alignment with the profiler's phases.

Samples are joined by straight lines (linear interpolation) and integrated with
the trapezoidal rule; an interval's ends are interpolated, so a phase that
starts or ends between two samples gets the right share of each. A constant
power P over [t0, t1] therefore gives exactly P * (t1 - t0). Pure Python.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PowerTrace:
    """Power samples: times [s since the epoch], strictly increasing, and power [W]."""

    times_s: tuple[float, ...]
    watts: tuple[float, ...]
    source: str = ""

    @classmethod
    def from_samples(
        cls, times_s: Iterable[float], watts: Iterable[float], source: str = ""
    ) -> PowerTrace:
        """Sort samples by time and merge equal times (their mean); needs two distinct times."""
        merged: dict[float, list[float]] = {}
        for t, w in zip(times_s, watts, strict=True):
            merged.setdefault(float(t), []).append(float(w))
        keys = sorted(merged)
        if len(keys) < 2:
            raise ValueError("a power trace needs samples at two or more distinct times")
        return cls(tuple(keys), tuple(sum(merged[k]) / len(merged[k]) for k in keys), source)

    @property
    def start_s(self) -> float:
        return self.times_s[0]

    @property
    def end_s(self) -> float:
        return self.times_s[-1]

    def power_at(self, t: float) -> float:
        """P(t) [W] by linear interpolation; outside the trace it is an error."""
        if not self.start_s <= t <= self.end_s:
            raise ValueError(
                f"time {t:.3f} is outside the power trace [{self.start_s:.3f}, {self.end_s:.3f}]"
            )
        i = bisect.bisect_right(self.times_s, t)
        if i >= len(self.times_s):
            return self.watts[-1]
        t0, t1 = self.times_s[i - 1], self.times_s[i]
        w0, w1 = self.watts[i - 1], self.watts[i]
        return w0 + (w1 - w0) * (t - t0) / (t1 - t0)

    def energy_j(self, t_start: float, t_end: float) -> float:
        """Energy over [t_start, t_end] [J]: trapezoidal integral of the interpolated power."""
        if t_end < t_start:
            raise ValueError("interval ends before it starts")
        inner = [i for i, t in enumerate(self.times_s) if t_start < t < t_end]
        points = [(t_start, self.power_at(t_start))]
        points += [(self.times_s[i], self.watts[i]) for i in inner]
        points.append((t_end, self.power_at(t_end)))
        return sum((b[0] - a[0]) * (a[1] + b[1]) / 2 for a, b in itertools.pairwise(points))

    def mean_w(self, t_start: float, t_end: float) -> float:
        """Time-averaged power over [t_start, t_end] [W]."""
        if t_end <= t_start:
            return self.power_at(t_start)
        return self.energy_j(t_start, t_end) / (t_end - t_start)

    def samples_in(self, t_start: float, t_end: float) -> int:
        """Number of samples taken inside [t_start, t_end]."""
        return bisect.bisect_right(self.times_s, t_end) - bisect.bisect_left(self.times_s, t_start)


@dataclass(frozen=True)
class PhaseEnergy:
    """Power and energy of one profiler phase."""

    name: str
    duration_s: float
    calls: int
    batch: int
    mean_w: float
    energy_j: float
    samples: int
    energy_per_image_j: float | None
    marginal_per_image_j: float | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def align_phases(
    trace: PowerTrace,
    phases: Sequence[dict[str, Any]],
    *,
    idle_w: float | None = None,
    min_samples: int = 2,
) -> tuple[float, list[PhaseEnergy]]:
    """Idle power [W] and per-phase power/energy of the profiler's phases.

    ``phases`` are the raw profiler phases (``name, t_start, t_end, calls, batch``);
    phases with the same name (one per measurement round) are pooled. Idle power is
    the mean over the phase called ``idle``, unless ``idle_w`` is given. Energy per
    image = energy / (calls * batch); the marginal energy subtracts the idle power
    over the same time. Phases outside the trace are an error; phases with fewer
    than ``min_samples`` samples inside are skipped (too short to measure).
    """
    if idle_w is None:
        idle = [p for p in phases if p["name"] == "idle"]
        if not idle:
            raise ValueError("no 'idle' phase: rerun with --idle-s or give the idle power")
        idle_w = sum(trace.energy_j(p["t_start"], p["t_end"]) for p in idle) / sum(
            p["t_end"] - p["t_start"] for p in idle
        )
    pooled: dict[str, dict[str, float]] = {}
    for phase in phases:
        t0, t1 = float(phase["t_start"]), float(phase["t_end"])
        if t0 < trace.start_s or t1 > trace.end_s:
            raise ValueError(
                f"phase '{phase['name']}' [{t0:.3f}, {t1:.3f}] is not inside the power trace "
                f"[{trace.start_s:.3f}, {trace.end_s:.3f}]: clocks not aligned, or the wrong log?"
            )
        samples = trace.samples_in(t0, t1)
        if samples < min_samples or t1 <= t0:
            continue
        acc = pooled.setdefault(
            phase["name"],
            {
                "duration": 0.0,
                "calls": 0,
                "energy": 0.0,
                "samples": 0,
                "batch": int(phase.get("batch", 1)),
            },
        )
        acc["duration"] += t1 - t0
        acc["calls"] += int(phase.get("calls", 0))
        acc["energy"] += trace.energy_j(t0, t1)
        acc["samples"] += samples
    out = []
    for name, acc in pooled.items():
        images = int(acc["calls"]) * int(acc["batch"])
        energy, duration = acc["energy"], acc["duration"]
        out.append(
            PhaseEnergy(
                name,
                duration,
                int(acc["calls"]),
                int(acc["batch"]),
                energy / duration,
                energy,
                int(acc["samples"]),
                energy / images if images else None,
                (energy - idle_w * duration) / images if images else None,
            )
        )
    return idle_w, out
