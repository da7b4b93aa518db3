"""Piecewise-constant link capacity c(t) [bit/s] and transfer times by integration.

A transfer of B bits that starts at t0 ends at the first t with
∫_{t0}^{t} c(u) du = B. The capacity is stored as breakpoints with cumulative
bits at each, so the finish time is one ``searchsorted`` and a division: no
per-slot events, whatever the slot length. Random processes are generated
lazily in chunks of many segments from their own numpy Generator.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod

import numpy as np

NEVER = math.inf


class Capacity(ABC):
    """c(t) [bit/s] for t >= 0 with its integral; subclasses say how segments arise."""

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

    def mean_rate_bps(self, horizon_s: float) -> float:
        return self.bits_until(horizon_s) / horizon_s


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


class SegmentSource(ABC):
    """Produces successive segments (durations [s], rates [bit/s]) of a capacity process."""

    @abstractmethod
    def next_chunk(self) -> tuple[np.ndarray, np.ndarray]:
        """The next run of segments; durations > 0, rates >= 0."""

    def long_run_mean_bps(self) -> float | None:
        """Mean capacity if known in closed form (used to refuse all-zero processes)."""
        return None


class PiecewiseCapacity(Capacity):
    """Capacity built from a :class:`SegmentSource`, extended on demand.

    ``max_horizon_s`` bounds how far ahead the process is generated while
    looking for a finish time; beyond it a transfer never finishes (``inf``).
    """

    def __init__(self, source: SegmentSource, *, max_horizon_s: float = 1e7) -> None:
        self.source = source
        self.max_horizon_s = float(max_horizon_s)
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
        return True

    def _ensure_time(self, t_s: float) -> bool:
        while self._edges[self._n] <= t_s:
            if not self._extend():
                return False
        return True

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
        i = self._segment(t_s)
        cum = float(self._cum[i] + self._rates[i] * (t_s - self._edges[i]))
        self._last_t, self._last_cum, self._last_seg = t_s, cum, i
        return cum

    def time_to_send(self, start_s: float, bits: float) -> float:
        if bits <= 0:
            return start_s
        if start_s > 0:
            target = self.bits_until(start_s) + bits
            first = self._hint  # the start's segment (set by bits_until)
        else:
            target, first = bits, 0
        return self._reach(target, first, start_s)

    def time_to_reach(self, cum_bits: float, not_before_s: float) -> float:
        # A shared cell has just asked bits_until(not_before_s): reuse it and its segment.
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


class SeriesSource(SegmentSource):
    """A fixed series of (durations, rates), replayed from ``offset_s`` and looped."""

    def __init__(
        self,
        durations_s: np.ndarray,
        rates_bps: np.ndarray,
        *,
        offset_s: float = 0.0,
        loop: bool = True,
    ) -> None:
        durations_s = np.asarray(durations_s, dtype=float)
        rates_bps = np.asarray(rates_bps, dtype=float)
        if durations_s.shape != rates_bps.shape or durations_s.size == 0:
            raise ValueError("durations and rates must be non-empty and of equal length")
        if np.any(durations_s <= 0) or np.any(rates_bps < 0):
            raise ValueError("durations must be > 0 and rates >= 0")
        self.durations = durations_s
        self.rates = rates_bps
        self.loop = loop
        self.period_s = float(durations_s.sum())
        self._first = True
        self._offset = float(offset_s) % self.period_s if loop else float(offset_s)

    def long_run_mean_bps(self) -> float | None:
        return float(np.sum(self.durations * self.rates) / self.period_s)

    def next_chunk(self) -> tuple[np.ndarray, np.ndarray]:
        if self._first:
            self._first = False
            if self._offset > 0:
                edges = np.concatenate([[0.0], np.cumsum(self.durations)])
                k = int(np.searchsorted(edges, self._offset, side="right")) - 1
                if k >= len(self.durations):
                    return np.zeros(0), np.zeros(0)
                head = np.concatenate([[edges[k + 1] - self._offset], self.durations[k + 1 :]])
                return head, self.rates[k:].copy()
            return self.durations.copy(), self.rates.copy()
        if not self.loop:
            return np.zeros(0), np.zeros(0)
        return self.durations.copy(), self.rates.copy()


class MarkovSource(SegmentSource):
    """Continuous-time Markov chain over rate levels, sampled in chunks.

    ``rates_bps[k]`` is the capacity in state k; ``mean_sojourn_s[k]`` the mean
    exponential holding time; ``jump[k, j]`` the probability of going to j on
    leaving k (zero diagonal). With two states this is the Gilbert-Elliott
    channel in continuous time.

    With ``step_s`` the chain is discrete-time on a grid of ``step_s`` [s]:
    holding times are geometric numbers of steps with the same means, so every
    transition falls on the grid (what a chain fitted to binned traces needs
    to reproduce the bins' statistics).
    """

    def __init__(
        self,
        rates_bps: np.ndarray,
        mean_sojourn_s: np.ndarray,
        jump: np.ndarray,
        rng: np.random.Generator,
        *,
        chunk: int = 4096,
        initial: int | None = None,
        step_s: float | None = None,
    ) -> None:
        self.step_s = step_s
        self.rates_bps = np.asarray(rates_bps, dtype=float)
        self.mean_sojourn_s = np.asarray(mean_sojourn_s, dtype=float)
        self.jump = np.asarray(jump, dtype=float)
        self.rng = rng
        self.chunk = chunk
        self._cum_jump = np.cumsum(self.jump, axis=1)
        if initial is None:
            initial = int(rng.choice(len(self.rates_bps), p=self.stationary()))
        self._state = initial

    def stationary(self) -> np.ndarray:
        """Time-stationary distribution: embedded-chain stationary law x mean sojourn."""
        n = len(self.rates_bps)
        if n == 1:
            return np.ones(1)
        a = self.jump.T - np.eye(n)
        a[-1, :] = 1.0
        b = np.zeros(n)
        b[-1] = 1.0
        embedded = np.linalg.solve(a, b)
        weights = embedded * self.mean_sojourn_s
        return weights / weights.sum()

    def long_run_mean_bps(self) -> float | None:
        return float(np.dot(self.stationary(), self.rates_bps))

    def next_chunk(self) -> tuple[np.ndarray, np.ndarray]:
        n = self.chunk
        states = np.empty(n, dtype=np.int64)
        uniforms = self.rng.random(n)
        state = self._state
        cum = self._cum_jump
        for i in range(n):
            states[i] = state
            if len(self.rates_bps) > 1:
                state = int(np.searchsorted(cum[state], uniforms[i], side="right"))
                state = min(state, len(self.rates_bps) - 1)
        self._state = state
        if self.step_s is not None:
            leave = np.minimum(self.step_s / self.mean_sojourn_s[states], 1.0)
            return self.step_s * self.rng.geometric(leave), self.rates_bps[states]
        durations = self.rng.exponential(self.mean_sojourn_s[states])
        durations = np.maximum(durations, 1e-12)
        return durations, self.rates_bps[states]
