"""Piecewise-constant link capacity c(t) [bit/s] and transfer times by integration.

A transfer of B bits that starts at t0 ends at the first t with
∫_{t0}^{t} c(u) du = B. The capacity is stored as breakpoints with cumulative
bits at each, so the finish time is one ``searchsorted`` and a division: no
per-slot events, whatever the slot length. Random processes are generated
lazily in chunks of many segments from their own numpy Generator.

Skipping time: a device that sends every 10 s needs its capacity for a
fraction of a second around each transfer, not on a 10 ms grid all run long.
With ``skip_after_s`` set, a query more than that far beyond the generated
range asks the source to move its state to the query time (exactly in law:
:meth:`SegmentSource.skip_to`) instead of generating the steps in between. The
gap becomes one segment at a fill rate, so ``bits_until`` stays defined and
non-decreasing; nothing inside a gap is ever used by a transfer, because
transfers start where a query has generated the capacity and
:meth:`PiecewiseCapacity._reach` extends it contiguously, never skipping.
Differences of ``bits_until`` between times at or after a gap and every finish
time are therefore those of the process itself.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from bisect import bisect_right
from typing import NamedTuple

import numpy as np

NEVER = math.inf
DEFAULT_SKIP_AFTER_S = 0.5  # the engine's: skip when a query is this far past the generated end


class Capacity(ABC):
    """c(t) [bit/s] for t >= 0 with its integral; subclasses say how segments arise.

    ``end_s``: the time [s] at which a finite process ends (a trace or series with
    ``loop: false``); the link carries nothing after it, so a transfer still in
    progress then fails there and later ones fail at once (sim/channel/link.py).
    ``inf`` for every process that goes on for ever.
    """

    end_s: float = NEVER

    @abstractmethod
    def rate_at(self, t_s: float) -> float:
        """Capacity at time ``t_s`` [bit/s]."""

    @abstractmethod
    def bits_until(self, t_s: float) -> float:
        """∫_0^t c(u) du [bit]."""

    @abstractmethod
    def time_to_send(self, start_s: float, bits: float) -> float:
        """Finish time [s] of ``bits`` started at ``start_s``; ``inf`` if never."""

    def time_to_reach(self, cum_bits: float, not_before_s: float) -> float:
        """First time >= ``not_before_s`` at which ∫_0^t c reaches ``cum_bits`` [s].

        Equal to ``time_to_send(t0, cum_bits - bits_until(t0))`` when ``cum_bits`` is
        the integral at ``not_before_s`` plus the bits still to send; callers that
        already know the integral (a shared cell) save one lookup.
        """
        return self.time_to_send(not_before_s, cum_bits - self.bits_until(not_before_s))

    def bits_between(self, t0_s: float, t1_s: float) -> float:
        return self.bits_until(t1_s) - self.bits_until(t0_s)

    def bits_until_contiguous(self, t_s: float) -> float:
        """``bits_until`` for a transfer in progress: never skips (see PiecewiseCapacity)."""
        return self.bits_until(t_s)

    def mean_rate_bps(self, horizon_s: float) -> float:
        return self.bits_until(horizon_s) / horizon_s

    def max_rate_bps(self) -> float | None:
        """An upper bound on c(t) [bit/s], if one is known."""
        return None


class ConstantCapacity(Capacity):
    """c(t) = rate_bps for all t."""

    def __init__(self, rate_bps: float) -> None:
        if not rate_bps > 0:
            raise ValueError("rate_bps must be > 0")
        self.rate_bps = float(rate_bps)

    def rate_at(self, t_s: float) -> float:
        return self.rate_bps

    def bits_until(self, t_s: float) -> float:
        return self.rate_bps * t_s

    def time_to_send(self, start_s: float, bits: float) -> float:
        return start_s + bits / self.rate_bps

    def time_to_reach(self, cum_bits: float, not_before_s: float) -> float:
        return max(not_before_s, cum_bits / self.rate_bps)

    def bits_until_contiguous(self, t_s: float) -> float:
        return self.rate_bps * t_s

    def max_rate_bps(self) -> float | None:
        return self.rate_bps


class Skip(NamedTuple):
    """Where a source's state now is after a skip, and what to fill the gap with."""

    to_s: float  # the next chunk starts here [s]
    fill_bps: float | None  # the gap's rate [bit/s]; None: the capacity chooses


class SegmentSource(ABC):
    """Produces successive segments (durations [s], rates [bit/s]) of a capacity process.

    ``positional``: a skip lands on the realisation a run that generated
    everything would have (deterministic or step-addressed randomness), so where
    it lands does not matter for common random numbers.
    """

    positional = False

    @abstractmethod
    def next_chunk(self) -> tuple[np.ndarray, np.ndarray]:
        """The next run of segments; durations > 0, rates >= 0."""

    def long_run_mean_bps(self) -> float | None:
        """Mean capacity if known in closed form (used to refuse all-zero processes)."""
        return None

    def max_rate_bps(self) -> float | None:
        """An upper bound on the rates this source produces [bit/s], if known."""
        return None

    def end_s(self) -> float:
        """Time [s] after which this source produces nothing (its data has ended); ``inf``
        for a source that goes on for ever (the default)."""
        return NEVER

    def set_anchors(self, anchors_s: np.ndarray) -> None:
        """The times [s] near which queries will come (a device's arrivals), for a source
        that can prepare for them; the default ignores them."""
        return None

    def skip_to(self, from_s: float, target_s: float) -> Skip | None:
        """Move the state from ``from_s`` (where the last chunk ended) to a time in
        (from_s, target_s], drawn from the process's law given the state at from_s,
        without generating the segments in between; the next chunk starts there.

        None: this source cannot skip (or declines: the gap is short for it), and
        the capacity generates the gap. The default never skips.
        """
        return None


class PiecewiseCapacity(Capacity):
    """Capacity built from a :class:`SegmentSource`, extended on demand.

    ``max_horizon_s`` bounds how far ahead the process is generated while
    looking for a finish time; beyond it a transfer never finishes (``inf``).

    ``skip_after_s`` (None: never) lets a query that far past the generated end
    skip the gap (module doc). A positional source skips to the query time. Any
    other lands on the latest of ``anchors_s`` in the gap (the device's arrival
    times, the same for every strategy), so that runs of different strategies
    jump to the same times; else on the query time. The gap's fill rate is the
    source's, else its closed-form mean, else the mean of what was generated so
    far: a placeholder that keeps ``bits_until`` defined, never the capacity a
    transfer sees.
    """

    def __init__(
        self,
        source: SegmentSource,
        *,
        max_horizon_s: float = 1e7,
        skip_after_s: float | None = None,
        anchors_s: np.ndarray | None = None,
    ) -> None:
        self.source = source
        self.end_s = source.end_s()
        self.max_horizon_s = float(max_horizon_s)
        self.skip_after_s = skip_after_s
        self.anchors_s = (
            np.sort(np.asarray(anchors_s, dtype=float)) if anchors_s is not None else None
        )
        if skip_after_s is not None and self.anchors_s is not None:
            source.set_anchors(self.anchors_s)
        self._gaps: list[tuple[float, float]] = []
        self._max_rate = source.max_rate_bps()
        self._gap_s = 0.0
        self._gap_bits = 0.0
        # Buffers grow geometrically (amortised O(1) per segment); views expose the used part.
        self._edges = np.zeros(1024)
        self._rates = np.zeros(1024)
        self._cum = np.zeros(1024)
        self._n = 0  # number of segments
        self._exhausted = False
        self._hint = 0  # last segment looked up: queries move forward slowly
        # The last bits_until query, its answer and its segment (a pure function's memo).
        self._last_t, self._last_cum, self._last_seg = -1.0, 0.0, 0

    def _segment(self, t_s: float) -> int:
        """Index i with edges[i] <= t_s < edges[i + 1] (t_s inside the generated range)."""
        edges, i = self._edges, self._hint
        if edges[i] <= t_s:
            if t_s < edges[i + 1]:
                return i
            if i + 2 <= self._n and t_s < edges[i + 2]:
                self._hint = i + 1
                return i + 1
        i = int(np.searchsorted(edges[: self._n + 1], t_s, side="right")) - 1
        self._hint = i
        return i

    @property
    def edges(self) -> np.ndarray:
        """Segment boundaries [s], ``n + 1`` of them starting at 0."""
        return self._edges[: self._n + 1]

    @property
    def rates(self) -> np.ndarray:
        """Segment rates [bit/s]."""
        return self._rates[: self._n]

    @property
    def cum_bits(self) -> np.ndarray:
        """∫_0^{edges[i]} c(u) du [bit] at every boundary."""
        return self._cum[: self._n + 1]

    # -- generation
    def _extend(self) -> bool:
        if self._exhausted or self._edges[self._n] >= self.max_horizon_s:
            return False
        durations, rates = self.source.next_chunk()
        durations = np.asarray(durations, dtype=float)
        rates = np.asarray(rates, dtype=float)
        if durations.size == 0:
            self._exhausted = True
            return False
        # Merge runs of equal rate (link adaptation quantises rates to a few levels, so a
        # 10 ms physical step often repeats): the same c(t), fewer segments to store and search.
        starts = np.flatnonzero(np.concatenate(([True], rates[1:] != rates[:-1])))
        if starts.size < durations.size:
            durations = np.add.reduceat(durations, starts)
            rates = rates[starts]
        self._append(durations, rates)
        return True

    def _append_one(self, duration: float, rate: float) -> None:
        """One segment (a skipped gap) without the array machinery of ``_append``."""
        n = self._n
        if n + 2 > self._edges.size:
            self._append(np.array([duration]), np.array([rate]))
            return
        self._edges[n + 1] = self._edges[n] + duration
        self._rates[n] = rate
        self._cum[n + 1] = self._cum[n] + duration * rate
        self._n = n + 1

    def _append(self, durations: np.ndarray, rates: np.ndarray) -> None:
        n, m = self._n, durations.size
        if n + m + 1 > self._edges.size:
            size = max(2 * self._edges.size, n + m + 1)
            for name in ("_edges", "_rates", "_cum"):
                old = getattr(self, name)
                grown = np.zeros(size)
                grown[: old.size] = old
                setattr(self, name, grown)
        self._edges[n + 1 : n + m + 1] = self._edges[n] + np.cumsum(durations)
        self._rates[n : n + m] = rates
        self._cum[n + 1 : n + m + 1] = self._cum[n] + np.cumsum(durations * rates)
        self._n = n + m

    def _skip(self, t_s: float) -> bool:
        """Skip from the generated end towards ``t_s``; False if the source will not."""
        end = float(self._edges[self._n])
        target = t_s
        anchors = self.anchors_s
        if anchors is not None and not self.source.positional:
            # Land on the arrival that caused this query (the same in every strategy), unless
            # it is so far back that the capacity would skip again right after it.
            i = int(np.searchsorted(anchors, t_s, side="right")) - 1
            if i >= 0 and end < anchors[i] and t_s - anchors[i] <= self.skip_after_s:
                target = float(anchors[i])
        skip = self.source.skip_to(end, target)
        if skip is None or not end < skip.to_s <= t_s:
            return False
        fill = skip.fill_bps
        if fill is None:
            fill = self.source.long_run_mean_bps()
        if fill is None:
            generated_s = end - self._gap_s
            fill = (self._cum[self._n] - self._gap_bits) / generated_s if generated_s > 0 else 0.0
        self._append_one(skip.to_s - end, fill)
        self._edges[self._n] = skip.to_s  # exactly where the source's next chunk starts
        self._gaps.append((end, skip.to_s))
        self._gap_s += skip.to_s - end
        self._gap_bits += fill * (skip.to_s - end)
        return True

    def _generate_until(self, t_s: float) -> bool:
        """Extend contiguously (never skipping) until ``t_s`` is inside the generated range."""
        while self._edges[self._n] <= t_s:
            if not self._extend():
                return False
        return True

    def _ensure_time(self, t_s: float) -> bool:
        skip_after = self.skip_after_s
        while self._edges[self._n] <= t_s:
            if (
                skip_after is not None
                and not self._exhausted
                and t_s - self._edges[self._n] > skip_after
                and t_s < self.max_horizon_s
                and self._skip(t_s)
            ):
                continue
            if not self._extend():
                return False
        return True

    @property
    def gaps(self) -> list[tuple[float, float]]:
        """Skipped intervals [start, end) [s]: their capacity was never generated."""
        return list(self._gaps)

    def generated(self, t0_s: float, t1_s: float) -> bool:
        """Whether c(t) was generated (not skipped) for t in [t0_s, t1_s) (or at t0_s)."""
        if t1_s > self._edges[self._n]:
            return False
        return all((t1_s <= a and t0_s < a) or t0_s >= b for a, b in self._gaps)

    # -- queries
    def rate_at(self, t_s: float) -> float:
        if not self._ensure_time(t_s):
            return 0.0
        return float(self._rates[self._segment(t_s)])

    def bits_until(self, t_s: float) -> float:
        if t_s <= 0:
            return 0.0
        if not self._ensure_time(t_s):
            return float(self._cum[self._n])
        return self._bits_at(t_s)

    def bits_until_contiguous(self, t_s: float) -> float:
        # Called for every transfer in a shared cell at every start and end: the usual case
        # (t_s in the segment of the last lookup) is inlined.
        edges, i = self._edges, self._hint
        if edges[i] <= t_s < edges[i + 1] and i < self._n:
            cum = float(self._cum[i] + self._rates[i] * (t_s - edges[i]))
            self._last_t, self._last_cum, self._last_seg = t_s, cum, i
            return cum
        if t_s <= 0:
            return 0.0
        if not self._generate_until(t_s):
            return float(self._cum[self._n])
        return self._bits_at(t_s)

    def _bits_at(self, t_s: float) -> float:
        i = self._segment(t_s)
        cum = float(self._cum[i] + self._rates[i] * (t_s - self._edges[i]))
        self._last_t, self._last_cum, self._last_seg = t_s, cum, i
        return cum

    def max_rate_bps(self) -> float | None:
        return self._max_rate

    def _check_not_skipped(self, start_s: float) -> None:
        """A transfer must start where the capacity was generated, never inside a gap."""
        gaps = self._gaps
        if gaps and start_s < gaps[-1][1]:
            k = bisect_right(gaps, (start_s, math.inf)) - 1
            if k >= 0 and gaps[k][0] <= start_s < gaps[k][1]:
                raise RuntimeError(
                    f"a transfer starts at {start_s} s inside a skipped gap {gaps[k]}: "
                    "queries of a skipping capacity must come in time order"
                )

    def time_to_send(self, start_s: float, bits: float) -> float:
        if bits <= 0:
            return start_s
        self._check_not_skipped(start_s)
        if start_s > 0:
            target = self.bits_until(start_s) + bits
            first = self._hint  # the start's segment (set by bits_until)
        else:
            target, first = bits, 0
        return self._reach(target, first, start_s)

    def time_to_reach(self, cum_bits: float, not_before_s: float) -> float:
        # A shared cell has just asked bits_until(not_before_s): reuse it and its segment.
        self._check_not_skipped(not_before_s)
        if not_before_s != self._last_t:
            self.bits_until(not_before_s)
        if cum_bits <= self._last_cum:
            return not_before_s
        return self._reach(cum_bits, self._last_seg, not_before_s)

    def _reach(self, target: float, first: int, start_s: float) -> float:
        """First time >= ``start_s`` with ∫ c = ``target``, scanning from segment ``first``."""
        while self._cum[self._n] < target:
            if not self._extend():
                return NEVER
        # First boundary i with cum[i] >= target: scan a few segments from the start's
        # (most transfers end soon), else binary search. cum[i - 1] < target <= cum[i],
        # so segment i - 1 has a rate > 0.
        cum = self._cum
        i = min(first + 1, self._n)
        for _ in range(8):
            if cum[i] >= target:
                break
            i += 1
        else:
            i = int(cum[: self._n + 1].searchsorted(target, side="left"))
        seg = i - 1
        finish = self._edges[seg] + (target - cum[seg]) / self._rates[seg]
        return float(max(finish, start_s))

    def segments_until(self, t_s: float) -> tuple[np.ndarray, np.ndarray]:
        """(edges, rates) covering [0, t_s], for plots and statistics."""
        self._ensure_time(t_s)
        n = int(np.searchsorted(self.edges, t_s, side="right"))
        return self.edges[: n + 1].copy(), self.rates[:n].copy()
