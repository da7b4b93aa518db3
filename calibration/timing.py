"""Latency measurement of a model part on CPU or CUDA, with phase timestamps for power logs.

CPU: ``time.perf_counter`` around each call. CUDA: a pair of CUDA events
around each call, after a ``torch.cuda.synchronize()`` (so no earlier work is
counted), read after ``end.synchronize()`` (so all of the call's kernels are).
Warm-up calls run first and are not recorded. Each measured loop is a
:class:`Phase` with wall-clock start and end [s since the epoch], which
:mod:`calibration.power.align` matches against power samples.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch


@dataclass(frozen=True)
class TimingStats:
    """Summary of repeated latency samples [s]."""

    median_s: float
    p10_s: float
    p90_s: float
    mean_s: float
    n: int

    @classmethod
    def from_samples(cls, samples_s: list[float]) -> TimingStats:
        if not samples_s:
            raise ValueError("no timing samples")
        ordered = sorted(samples_s)
        return cls(
            statistics.median(ordered),
            _quantile(ordered, 0.10),
            _quantile(ordered, 0.90),
            statistics.fmean(ordered),
            len(ordered),
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _quantile(ordered: list[float], q: float) -> float:
    """Linear-interpolation quantile of sorted samples (numpy's default method)."""
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


@dataclass(frozen=True)
class Phase:
    """A measured loop: what ran, when [s since the epoch], and how many calls."""

    name: str
    t_start: float
    t_end: float
    calls: int
    batch: int = 1

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class PhaseLog:
    """Phases of one profiler run, in order."""

    phases: list[Phase] = field(default_factory=list)

    def add(self, phase: Phase) -> None:
        self.phases.append(phase)

    def idle(self, seconds: float, name: str = "idle") -> Phase:
        """Sleep ``seconds`` and record it as an idle phase (the power baseline)."""
        start = time.time()
        time.sleep(seconds)
        phase = Phase(name, start, time.time(), 0)
        self.add(phase)
        return phase


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], object], device: torch.device) -> float:
    """Latency of one call of ``fn`` [s]; on CUDA measured with events."""
    if device.type == "cuda":
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        torch.cuda.synchronize(device)
        start.record()
        fn()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000.0
    begin = time.perf_counter()
    fn()
    return time.perf_counter() - begin


def measure_samples(
    fn: Callable[[], object],
    device: torch.device,
    *,
    warmup: int,
    repeats: int,
    name: str,
    log: PhaseLog | None = None,
    min_phase_s: float = 0.0,
    batch: int = 1,
) -> list[float]:
    """Warm up, then time ``repeats`` calls (more if ``min_phase_s`` asks for a longer phase) [s].

    The timed calls form one phase in ``log``: a power meter sampling at 10 Hz
    needs a phase of a few seconds, hence ``min_phase_s``.
    """
    with torch.inference_mode():
        for _ in range(warmup):
            fn()
        _sync(device)
        samples: list[float] = []
        start = time.time()
        while len(samples) < repeats or time.time() - start < min_phase_s:
            samples.append(time_call(fn, device))
        _sync(device)
        end = time.time()
    if log is not None:
        log.add(Phase(name, start, end, len(samples), batch))
    return samples


def measure(
    fn: Callable[[], object],
    device: torch.device,
    *,
    warmup: int,
    repeats: int,
    name: str,
    log: PhaseLog | None = None,
    min_phase_s: float = 0.0,
    batch: int = 1,
) -> TimingStats:
    """:func:`measure_samples` summarised as :class:`TimingStats`."""
    return TimingStats.from_samples(
        measure_samples(
            fn,
            device,
            warmup=warmup,
            repeats=repeats,
            name=name,
            log=log,
            min_phase_s=min_phase_s,
            batch=batch,
        )
    )
