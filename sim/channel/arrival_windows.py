"""Windows around arrival times: an optional accelerator of the physical uplink's skips.

A device that sends rarely skips most of its channel (sim/channel/capacity.py)
and, after each skip, generates a short first chunk. For a static device with
sum-of-sinusoids or no fading every step's rate is a function of its index
alone, so the first chunks of many arrivals can be computed together: the
steps in ``WINDOW_S`` after each arrival, for ``WINDOWS_PER_BATCH`` arrivals in
one vectorised pass. Why: one numpy pass over 64 windows costs about what one
chunk costs step by step, and nearly every transfer of a rare sender starts in
its arrival's window. A skip that lands in a window reads its first chunk from
there; the numbers are those the source's own chunk at that step would have
(tests/channel/test_skip_ahead.py compares every transfer with a fully
generated process). The accelerator reads the source only through its public
``step_power_gains``, ``rates``, ``blockage_uniforms`` and state properties.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.channel import gilbert

if TYPE_CHECKING:
    from sim.channel.physical import PhysicalSource

# A window spans this long from an arrival: the head computed on the device, LTE's 0.26 s RRC
# promotion from idle and the transfer itself; one that starts within WINDOW_S - FIRST_CHUNK_S
# of its arrival reads the rest of the window as its first chunk.
WINDOW_S = 1.0
WINDOWS_PER_BATCH = 64  # windows computed per vectorised batch
BLOCKAGE_LOOKBACK_STEPS = 256  # steps read back for the blockage state before a window


class Windows(NamedTuple):
    """Precomputed steps around consecutive arrival times (one row per window)."""

    first: int  # index of the first row's arrival among the anchors
    starts: np.ndarray  # first step of each window
    rates: np.ndarray  # (rows, S) rate of each step [bit/s]
    blocked: np.ndarray  # (rows, S + 1) blockage state at steps start - 1 .. start + S - 1


class ArrivalWindows:
    """Windows of ``window_steps`` steps from each arrival time of one source's device.

    Used only where :meth:`applies` (a static device with sum-of-sinusoids or no
    fading, whose link budget is one number); a transfer that starts too late
    for its window, or any other device, generates as before.
    """

    def __init__(self, source: PhysicalSource, anchors_s: np.ndarray) -> None:
        self.source = source
        step = source.config.step_s
        self.anchor_steps = np.unique(np.floor(np.asarray(anchors_s, dtype=float) / step)).astype(
            np.int64
        )
        self.window_steps = max(source.first_chunk_steps, round(WINDOW_S / step))
        self.batch: Windows | None = None

    def applies(self) -> bool:
        source = self.source
        cfg = source.config
        if source.static_budget is None:
            return False
        if cfg.fading.kind not in ("none", "sum_of_sinusoids") or source.metres_per_step is None:
            return False
        # Blockage states are read off the uniforms vectorised in the usual (holding) case.
        p, r = source.blockage_probabilities
        return cfg.blockage is None or p <= 1.0 - r

    def window_at(self, k1: int) -> tuple[int, int] | None:
        """(row, offset) of a precomputed window holding the first chunk from step ``k1``."""
        starts = self.anchor_steps
        j = int(np.searchsorted(starts, k1, side="right")) - 1
        if j < 0 or k1 + self.source.first_chunk_steps > starts[j] + self.window_steps:
            return None
        windows = self.batch
        if windows is None or not windows.first <= j < windows.first + windows.starts.size:
            windows = self.batch = self._compute(j)
        row = j - windows.first
        return row, k1 - int(windows.starts[row])

    def _compute(self, first: int) -> Windows:
        """Windows of the anchors ``first`` .. ``first + WINDOWS_PER_BATCH - 1`` at once."""
        source = self.source
        starts = self.anchor_steps[first : first + WINDOWS_PER_BATCH]
        size = self.window_steps
        steps = starts[:, None] + np.arange(size)
        assert source.static_budget is not None
        budget_dbm, los = source.static_budget
        gain = source.step_power_gains(steps, los)
        blockage = source.config.blockage
        if blockage is None:
            blocked = np.zeros((starts.size, size + 1), dtype=np.uint8)
            blockage_db = None
        else:
            blocked = self._blockage(starts, size)
            blockage_db = blocked[:, 1:] * blockage.loss_db
        rates = source.rates(budget_dbm, gain, blockage_db, steps.shape)
        return Windows(first, starts, rates, blocked)

    def _blockage(self, starts: np.ndarray, size: int) -> np.ndarray:
        """Blockage states at steps start - 1 .. start + size - 1 of each window (uint8).

        The state at a step is that of the last deciding step at or before it
        (:func:`~sim.channel.gilbert.states_from_uniforms`), found among the
        ``BLOCKAGE_LOOKBACK_STEPS`` steps before the window or, failing that (rare:
        (1 - p - r)^lookback), by :func:`~sim.channel.gilbert.state_after` from the
        state at the generated end, exactly as a skip does. A window may begin just
        before the generated end k0: its steps before k0 are never read (a skip lands
        past k0, later ones further on), so they are left uncomputed.
        """
        source = self.source
        p, r = source.blockage_probabilities
        uniforms = source.blockage_uniforms
        lookback, k0, blocked_before = BLOCKAGE_LOOKBACK_STEPS, source.next_step, source.blocked
        width = lookback + size
        u = np.zeros((starts.size, width))
        first_read = np.maximum(starts - lookback, k0)  # the state before k0 is known
        for row, (start, begin) in enumerate(
            zip(starts.tolist(), first_read.tolist(), strict=True)
        ):
            u[row, width - (start + size - begin) :] = uniforms(begin, start + size - begin)
        decisive, bad = gilbert.decisions(u, p, r)
        columns = np.arange(width)
        decisive &= columns >= (first_read - (starts - lookback))[:, None]  # unread columns
        last = np.maximum.accumulate(np.where(decisive, columns, -1), axis=1)[:, lookback - 1 :]
        rows = np.arange(starts.size)[:, None]
        states = bad[rows, np.maximum(last, 0)].astype(np.uint8)
        for row in np.flatnonzero((last < 0).any(axis=1)).tolist():
            begin = int(first_read[row])
            before = blocked_before
            if begin > k0:  # nothing decided within the lookback: the chain since k0
                before = gilbert.state_after(uniforms, k0, begin - 1, p, r, blocked_before)
            states[row, last[row] < 0] = before
        return states
