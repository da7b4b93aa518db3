"""Discrete-time Gilbert-Elliott (two-state Markov) sequences, sampled by run lengths.

States: 0 = good, 1 = bad. Per step, p = P(good -> bad) and r = P(bad -> good)
(channels.md §B.7; Linux ``tc-netem`` ``loss gemodel p r 1-h 1-k``). Then

* stationary P(bad) = p / (p + r);
* good runs are geometric with mean 1/p steps, bad runs with mean 1/r steps;
* a continuous-time GE with mean durations T_good, T_bad sampled every dt has
  p = 1 - exp(-dt/T_good), r = 1 - exp(-dt/T_bad) (about dt/T for dt << T).

Sequences are drawn run by run (numpy geometric draws, no per-step loop), so a
sequence of n steps costs O(number of runs).

:func:`states_from_uniforms` drives the same chain by one uniform per step
(x_k = 1 iff u_k < p when x_{k-1} = 0, iff u_k < 1 - r when x_{k-1} = 1): a
step with u_k < min(p, 1 - r) or u_k >= max(p, 1 - r) sets the state whatever
it was, so the state at any step is the value of the last such step, found
without a per-step loop, and :func:`state_after` finds it by reading the
uniforms backwards from the step it needs (skipping time costs about
1/(p + r) uniforms, not one per skipped step).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np


def stationary_bad(p: float, r: float) -> float:
    """Stationary probability of the bad state, p / (p + r)."""
    return p / (p + r)


def per_step_probabilities(
    mean_good_s: float, mean_bad_s: float, step_s: float
) -> tuple[float, float]:
    """(p, r) per step of ``step_s`` for a continuous-time GE with the given mean durations [s]."""
    return -math.expm1(-step_s / mean_good_s), -math.expm1(-step_s / mean_bad_s)


def draw_initial(p: float, r: float, rng: np.random.Generator) -> int:
    """A state drawn from the stationary law."""
    return int(rng.random() < stationary_bad(p, r))


def sample_states(
    count: int, p: float, r: float, rng: np.random.Generator, initial: int | None = None
) -> tuple[np.ndarray, int]:
    """``count`` successive states (uint8, 1 = bad) and the state that follows them.

    The first state is ``initial`` (stationary draw if None). With p = 0 the
    chain stays good; with r = 0 it stays bad once there.
    """
    state = draw_initial(p, r, rng) if initial is None else int(initial)
    out = np.empty(count, dtype=np.uint8)
    filled = 0
    leave = (p, r)
    while filled < count:
        # Draw a batch of alternating run lengths starting in ``state``.
        batch = max(8, int(2 * (count - filled) * min(1.0, max(p, r, 1e-12))) + 8)
        runs = np.empty(batch, dtype=np.int64)
        for phase in (0, 1):
            prob = leave[(state + phase) % 2]
            size = len(runs[phase::2])
            runs[phase::2] = (
                rng.geometric(prob, size=size) if prob > 0 else np.full(size, count + 1)
            )
        states = (state + np.arange(batch)) % 2
        ends = filled + np.cumsum(runs)
        last = int(np.searchsorted(ends, count, side="left"))
        last = min(last, batch - 1)
        lengths = runs[: last + 1].copy()
        lengths[-1] = min(lengths[-1], count - (filled + int(lengths[:-1].sum())))
        out[filled : filled + int(lengths.sum())] = np.repeat(states[: last + 1], lengths)
        consumed = int(lengths.sum())
        leftover = int(runs[last] - lengths[-1])
        filled += consumed
        state = int(states[last])
        if filled >= count:
            # The run in progress continues for ``leftover`` more steps.
            return out, state if leftover > 0 else 1 - state
        state = 1 - state
    return out, state


def run_lengths(states: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values, lengths) of the runs of equal values in ``states``."""
    states = np.asarray(states)
    if states.size == 0:
        return np.zeros(0, dtype=states.dtype), np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(np.diff(states) != 0) + 1
    starts = np.concatenate([[0], change])
    lengths = np.diff(np.concatenate([starts, [states.size]]))
    return states[starts], lengths


def decisions(u: np.ndarray, p: float, r: float) -> tuple[np.ndarray, np.ndarray]:
    """Per step: does it set the state whatever it was, and to what (1 = bad)."""
    low, high = min(p, 1.0 - r), max(p, 1.0 - r)
    bad = u < low
    return bad | (u >= high), bad


def states_from_uniforms(u: np.ndarray, p: float, r: float, before: int) -> np.ndarray:
    """States x_1..x_n (uint8) from one uniform per step, x_0 = ``before``.

    Between deciding steps the chain holds its state (p <= 1 - r, the usual
    case) or flips it at every step (p > 1 - r); either way x_k has exactly the
    law of the Gilbert-Elliott chain.
    """
    decisive, bad = decisions(u, p, r)
    if p > 1.0 - r:
        index = np.arange(u.size)
        last = np.maximum.accumulate(np.where(decisive, index, -1))
        known = last >= 0
        state = np.where(known, bad[np.maximum(last, 0)], bool(before))
        flips = np.cumsum(~decisive)
        state ^= ((flips - np.where(known, flips[np.maximum(last, 0)], 0)) & 1).astype(bool)
        return state.astype(np.uint8)
    # Hold between deciding steps (rare when steps are short): runs of constant state.
    hits = np.flatnonzero(decisive)
    states = np.empty(u.size, dtype=np.uint8)
    if not hits.size:
        states.fill(before)
        return states
    states[: hits[0]] = before
    states[hits[0] :] = np.repeat(bad[hits], np.diff(hits, append=u.size))
    return states


def state_after(
    uniforms: Callable[[int, int], np.ndarray],
    first: int,
    last: int,
    p: float,
    r: float,
    before: int,
) -> int:
    """State at step ``last`` given the state ``before`` at step ``first - 1``.

    ``uniforms(start, count)`` returns the uniforms of steps start..start+count-1.
    Reads them backwards in growing blocks until a deciding step: the result is
    the state :func:`states_from_uniforms` would give at ``last``.
    """
    flip = p > 1.0 - r
    parity = 0
    end = last + 1
    block = 64
    while end > first:
        start = max(first, end - block)
        decisive, bad = decisions(uniforms(start, end - start), p, r)
        hits = np.flatnonzero(decisive)
        if hits.size:
            d = int(hits[-1])
            if flip:
                parity ^= (end - start - 1 - d) & 1
            return int(bad[d]) ^ parity
        if flip:
            parity ^= (end - start) & 1
        end = start
        block *= 2
    return int(before) ^ parity
