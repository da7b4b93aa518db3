"""Segment sources of a :class:`~sim.channel.capacity.PiecewiseCapacity`: a replayed series
(traces, fitted series) and a Markov-modulated rate process (Gilbert-Elliott, fitted chains).

The capacity itself and the physical uplink's source live in capacity.py and physical.py.
"""

from __future__ import annotations

import math

import numpy as np

from sim.channel.capacity import SegmentSource, Skip


class SeriesSource(SegmentSource):
    """A fixed series of (durations, rates), replayed from ``offset_s`` and looped.

    Without ``loop`` the series ends after its last segment, at ``period_s -
    offset_s`` [s] of simulated time (:meth:`end_s`; at once if the offset is at or
    past the end); the link then fails what is still being sent (capacity.py).

    Skipping is index arithmetic and the gap's fill is the series' exact mean
    over it, so ``bits_until`` is exact everywhere, gaps included.
    """

    positional = True

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
        self._edges = np.concatenate([[0.0], np.cumsum(durations_s)])
        self._cum = np.concatenate([[0.0], np.cumsum(durations_s * rates_bps)])
        self._first = True
        self._offset = float(offset_s) % self.period_s if loop else float(offset_s)
        self._origin = self._offset  # series position at t = 0 [s]

    def long_run_mean_bps(self) -> float | None:
        return float(np.sum(self.durations * self.rates) / self.period_s)

    def max_rate_bps(self) -> float | None:
        return float(self.rates.max())

    def end_s(self) -> float:
        if self.loop:
            return math.inf
        # The series' last edge less the offset (the capacity's last edge, to rounding).
        return max(float(self._edges[-1]) - self._origin, 0.0)

    def _bits_to(self, position_s: float) -> float:
        """∫ of the (looped) series from position 0 to ``position_s`` [bit]."""
        periods, rest = divmod(position_s, self.period_s) if self.loop else (0.0, position_s)
        rest = min(rest, self.period_s)
        k = min(int(np.searchsorted(self._edges, rest, side="right")) - 1, self.durations.size - 1)
        return float(
            periods * self._cum[-1] + self._cum[k] + self.rates[k] * (rest - self._edges[k])
        )

    def skip_to(self, from_s: float, target_s: float) -> Skip | None:
        start, end = self._origin + from_s, self._origin + target_s
        fill = (self._bits_to(end) - self._bits_to(start)) / (target_s - from_s)
        self._first = True
        self._offset = end % self.period_s if self.loop else end
        return Skip(target_s, fill)

    def next_chunk(self) -> tuple[np.ndarray, np.ndarray]:
        if self._first:
            self._first = False
            if self._offset > 0:
                edges = self._edges
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

    Skipping samples the state at the target from the transient law, row i of
    expm(Q t) (continuous) or P^n (discrete), with a uniform addressed by the
    target time; the path after it comes from a stream addressed the same way,
    so runs that skip to the same time from the same state continue alike.
    Gaps of fewer than ``MIN_SKIPPED_JUMPS`` expected jumps are generated.
    """

    MIN_SKIPPED_JUMPS = 16.0
    """Shorter gaps are generated: a skip costs an eigen-decomposition row and a fresh
    generator, about what drawing ~16 jumps costs (a speed threshold; either path gives a
    valid realisation, and the choice depends only on the gap, the same in every run)."""
    FIRST_CHUNK = 16  # jumps in the first chunk and after a skip; chunks then double

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
        n = len(self.rates_bps)
        # Two states: leaving one state always enters the other (no draw needed).
        self._alternating = n == 2 and self.jump[0, 1] == 1.0 and self.jump[1, 0] == 1.0
        if initial is None:
            initial = int(rng.choice(n, p=self.stationary()))
        self._state = initial
        self._run_jumps = 0  # jumps generated since the start or the last skip
        self._key = rng.integers(0, np.iinfo(np.uint64).max, size=2, dtype=np.uint64, endpoint=True)
        self._transient: tuple[np.ndarray, np.ndarray, np.ndarray, bool] | None = None
        self._jump_rate_hz: float | None = None  # stationary rate of state changes

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

    def max_rate_bps(self) -> float | None:
        return float(self.rates_bps.max())

    def generator_matrix(self) -> np.ndarray:
        """Q [1/s] (continuous) or the one-step transition matrix P (with ``step_s``)."""
        n = len(self.rates_bps)
        if self.step_s is None:
            return (self.jump - np.eye(n)) / self.mean_sojourn_s[:, None]
        leave = np.minimum(self.step_s / self.mean_sojourn_s, 1.0)
        return np.eye(n) - np.diag(leave) + leave[:, None] * self.jump

    def transient_row(self, state: int, elapsed: float) -> np.ndarray:
        """P(state at t + elapsed = j | state at t) for every j; ``elapsed`` in [s], or in
        steps with ``step_s``."""
        if self._transient is None:
            values, vectors = np.linalg.eig(self.generator_matrix())
            # A defective (or nearly so) matrix has no usable eigenbasis: expm / powers then.
            # cond < 1e8 keeps the rows' rounding error near 1e8 * 2.2e-16 ~ 2e-8.
            usable = bool(np.linalg.cond(vectors) < 1e8)
            inverse = np.linalg.inv(vectors) if usable else vectors
            self._transient = (values, vectors, inverse, usable)
        values, vectors, inverse, usable = self._transient
        if usable:
            scale = np.exp(values * elapsed) if self.step_s is None else values**elapsed
            row = ((vectors[state] * scale) @ inverse).real
        elif self.step_s is None:
            from scipy.linalg import expm

            row = expm(self.generator_matrix() * elapsed)[state]
        else:
            row = np.linalg.matrix_power(self.generator_matrix(), int(elapsed))[state]
        row = np.clip(row, 0.0, None)
        return row / row.sum()

    def skip_to(self, from_s: float, target_s: float) -> Skip | None:
        n = len(self.rates_bps)
        if n == 1:
            return Skip(target_s, float(self.rates_bps[0]))
        if self.step_s is None:
            to_s, elapsed = target_s, target_s - from_s
            # No step index in continuous time: the target's IEEE-754 bit pattern is one
            # (distinct, order-preserving for times >= 0), so runs that skip to the same
            # time draw the same state and path after it.
            position = int(np.float64(to_s).view(np.int64))
        else:
            position = math.floor(target_s / self.step_s)
            while position > 0 and position * self.step_s > target_s:
                position -= 1
            to_s = position * self.step_s
            elapsed = round((to_s - from_s) / self.step_s)
            if elapsed <= 0 or to_s <= from_s:
                return None
        if self._jump_rate_hz is None:
            self._jump_rate_hz = float(np.dot(self.stationary(), 1.0 / self.mean_sojourn_s))
        if (to_s - from_s) * self._jump_rate_hz < self.MIN_SKIPPED_JUMPS:
            return None  # a few jumps are cheaper to generate than to skip
        generator = np.random.Generator(
            np.random.Philox(key=self._key, counter=np.array([0, 0, position, 1], dtype=np.uint64))
        )
        cum = np.cumsum(self.transient_row(self._state, elapsed))
        self._state = min(int(np.searchsorted(cum, generator.random(), side="right")), n - 1)
        self.rng = generator  # the path after the skip
        self._run_jumps = 0
        return Skip(to_s, None)

    def next_chunk(self) -> tuple[np.ndarray, np.ndarray]:
        n = min(self.chunk, max(self.FIRST_CHUNK, self._run_jumps))
        self._run_jumps += n
        levels = len(self.rates_bps)
        state = self._state
        if levels == 1:
            states = np.zeros(n, dtype=np.int64)
        elif self._alternating:
            states = (state + np.arange(n)) % 2
            state = int((state + n) % 2)
        else:
            states = np.empty(n, dtype=np.int64)
            uniforms = self.rng.random(n)
            cum = self._cum_jump
            for i in range(n):
                states[i] = state
                state = min(int(np.searchsorted(cum[state], uniforms[i], side="right")), levels - 1)
        self._state = state
        if self.step_s is not None:
            leave = np.minimum(self.step_s / self.mean_sojourn_s[states], 1.0)
            return self.step_s * self.rng.geometric(leave), self.rates_bps[states]
        durations = self.rng.exponential(self.mean_sojourn_s[states])
        durations = np.maximum(
            durations, 1e-12
        )  # an exponential draw of 0 would make an empty segment
        return durations, self.rates_bps[states]
