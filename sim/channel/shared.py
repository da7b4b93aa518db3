"""A shared cell: the uplink transfers active in one cell split its air time.

Each device's capacity c_i(t) [bit/s] is what it would get alone in the cell;
a physical link's already follows its own fading through its rate mapping,
cap included. The scheduler gives transfer i a fraction phi_i(t) of the air
time, sum_i phi_i(t) <= 1, and it progresses at phi_i(t) c_i(t). So the cell
never carries more than max_i c_i(t) at any moment, hence never more than the
rate mapping's cap.

* ``round_robin``: phi_i = 1/n whatever the channels: the exact model of equal
  air time for each backlogged user.
* ``proportional_fair``: PF serves the user whose rate is highest relative to
  its own usual rate (Jalali, Padovani & Pankaj, VTC 2000). With a long
  averaging window and independent fading this is the quantile (CDF) scheduler
  (Bonald 2004; Park, Park & Lee, IEEE TWC 2005): at each moment the cell
  serves the users whose current rate sits highest in its own law
  (:mod:`sim.channel.ratelaw`: its fading law, Rayleigh or Rician with its K,
  through its own rate mapping with the cap, at its own mean SNR, mixed over
  blockage): each user's quantile is uniform on its current rate's atom
  [F(r-), F(r)], and its share of a piece is the probability that it is the
  largest (:mod:`sim.channel.quantile_scheduler`, exact); never a user whose
  rate is 0. Each user then gets 1/n of the air time in law and,
  when served, the best of n of its own quantiles: a throughput of
  ∫_0^1 F_i^-1(v) v^(n-1) dv, the multiuser-diversity gain of *its* channel, which
  saturates at its cap. A link without a law (constant, series, trace,
  Markov, Gilbert-Elliott; a physical link without fading or a moving device,
  whose mean SNR moves) ranks uniformly on [0, 1] throughout: among such links
  PF is round robin, with no multiuser-diversity gain. A trace's or chain's
  rates are throughputs over bins, not per-TTI channel states a scheduler
  could pick peaks of.

Why an explicit schedule and not a gain factor G(n) on each c_i(t): any share
that depends on a transfer's own channel alone must be <= 1/n (put all users
in the same state), so it either gives no gain or lets n users at their peaks
together carry more than one link can. A per-slot schedule is therefore the
only way to have both; the slots are the capacities' own segments (a physical
link's ``step_s``), never finer, and tests/channel/test_shared_cell_oracle.py
checks finish times and cell throughput against an independent 1 ms TTI PF
scheduler with an EWMA average.

Event driven: shares change at starts and ends of transfers and at capacity
segment edges. Round robin (and PF among links without a law): between starts
and ends each transfer's progress is one integral of its own capacity; its
finish time is computed in the order of a lower bound (remaining bits at the
top rate) until the bound passes the earliest finish found. PF with laws: at
each start or end the cell walks the merged segments of the active capacities
ahead (numpy, a window up to LOOKAHEAD_S, longer only while nobody can send),
keeps every transfer's cumulative progress on that grid as the plan until the
next start or end, and sets one timer: the first finish, deadline or, if none
is inside the window, a checkpoint at its end that walks on. A start or end
costs O(n x segments in the window), never one event per slot; a busy cell's
walks add up to O(n x its segments) over a run. The walk runs in plain Python
(:mod:`sim.channel._kernels`: piece by piece up to the first finish, shares in
closed form, each capacity's atoms computed once); the numpy walk below is the
reference it is tested against (``FAST_WALK = False``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import simpy

from sim.channel import _kernels
from sim.channel.capacity import Capacity, ConstantCapacity, PiecewiseCapacity
from sim.channel.quantile_scheduler import pf_shares
from sim.channel.ratelaw import RateLaw

Scheduler = Literal["round_robin", "proportional_fair"]

FIRST_WINDOW_S = 0.02  # shortest look-ahead of a PF walk [s]
LOOKAHEAD_S = 0.25  # longest look-ahead with progress; then a checkpoint walks on [s]
WALK_BLOCK = 4  # pieces whose shares are computed at a time (a walk stops at a finish)
MAX_WINDOW_S = 1e7  # a window this long without any progress: nothing will ever finish [s]
# PF walks in plain Python with closed-form shares (sim/channel/_kernels.py); False: the
# numpy walk below, the reference that tests/channel/test_shared_fast.py compares it with.
FAST_WALK = True


def rate_law_of(capacity: Capacity) -> RateLaw | None:
    """The fast-fading rate law of a capacity's source, if it has one."""
    law = getattr(getattr(capacity, "source", None), "rate_law", None)
    return law() if callable(law) else None


def segments_between(
    capacity: Capacity, t0_s: float, t1_s: float
) -> tuple[np.ndarray, np.ndarray, int]:
    """(edges strictly inside (t0, t1) [s], rates of the pieces between t0, them and t1
    [bit/s], index of the first piece's segment; -1 for a constant capacity).

    Generates a piecewise capacity contiguously up to ``t1_s`` (never skipping: a
    transfer is in progress); past the end of a finite process the rate is 0.
    """
    if isinstance(capacity, ConstantCapacity):
        return _NO_EDGES, np.array([capacity.rate_bps]), -1
    if not isinstance(capacity, PiecewiseCapacity):
        raise TypeError(f"a shared cell cannot walk a {type(capacity).__name__}")
    edges = capacity.edges
    if edges[-1] <= t1_s:
        capacity.bits_until_contiguous(t1_s)
        edges = capacity.edges
    rates = capacity.rates
    first, last = edges.searchsorted((t0_s, t1_s), side="right").tolist()
    first -= 1
    if edges[last - 1] == t1_s:
        last -= 1  # an edge at t1 itself is not inside
    if last <= rates.size:
        return edges[first + 1 : last], rates[first:last], first
    # The process ended before t1: its last edge, then nothing.
    return edges[first + 1 :], np.concatenate((rates[first:], [0.0])), first


_NO_EDGES = np.zeros(0)


class _Active:
    __slots__ = (
        "atoms",
        "capacity",
        "cum_bits",
        "deadline_s",
        "epoch",
        "inverse_max_rate",
        "law",
        "on_done",
        "remaining_bits",
        "serial",
        "state",
        "total_bits",
        "track",
    )

    def __init__(
        self,
        capacity: Capacity,
        bits: float,
        deadline_s: float,
        on_done,
        now_s: float,
        serial: int = 0,
    ) -> None:
        self.capacity = capacity
        self.remaining_bits = bits
        self.total_bits = bits
        self.deadline_s = deadline_s
        self.on_done = on_done
        self.cum_bits = capacity.bits_until(now_s)  # ∫ c up to the last update [bit]
        top = capacity.max_rate_bps()
        self.inverse_max_rate = 1.0 / top if top else 0.0  # [s/bit]; 0: no bound known
        self.law = rate_law_of(capacity)
        self.atoms = np.zeros((2, 0))  # quantile atom of each capacity segment's rate (PF)
        self.serial = serial  # row of this transfer in the cell's look-ahead (PF)
        self.track: _kernels.Track | None = None  # its capacity's segments (fast PF walk)
        self.epoch = -1  # the fast walk's look-ahead it was last generated for
        self.state: tuple | None = None  # its segment at its last fast walk (Track.state)

    def pieces(
        self, t0_s: float, t1_s: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:func:`segments_between` and each piece's quantile atom (lower, upper) in the
        item's law; [0, 1] without a law."""
        edges, rates, first = segments_between(self.capacity, t0_s, t1_s)
        law = self.law
        if law is None:
            return edges, rates, np.zeros(rates.size), np.ones(rates.size)
        if first < 0:
            return edges, rates, *law.atoms(rates)
        # Atoms of the capacity's segments, computed once each as the capacity grows.
        assert isinstance(self.capacity, PiecewiseCapacity)  # a law comes with a source
        all_rates = self.capacity.rates
        done = self.atoms.shape[1]
        if done < all_rates.size:
            self.atoms = np.concatenate((self.atoms, law.atoms(all_rates[done:])), axis=1)
        atoms = self.atoms[:, first : first + rates.size]
        if atoms.shape[1] < rates.size:  # past the end of a finite process (rate 0)
            atoms = np.concatenate((atoms, [[0.0], [0.0]]), axis=1)
        return edges, rates, atoms[0], atoms[1]


class _Plan:
    """A PF walk: the active transfers' progress on a grid of times from the walk's start."""

    __slots__ = ("done_bits", "finish_s", "grid_s", "items", "progress_bits", "speed_bps")

    def __init__(self, items, grid_s, speed_bps, progress_bits, finish_s) -> None:
        self.items: list[_Active] = items
        self.grid_s: np.ndarray = grid_s  # (m + 1,)
        self.speed_bps: np.ndarray = speed_bps  # (n, m) phi_i c_i on each piece
        self.progress_bits: np.ndarray = progress_bits  # (n, m + 1) since grid_s[0]
        self.finish_s: np.ndarray = finish_s  # (n,) inf: not within the walk
        self.done_bits = np.zeros(len(items))  # progress already taken off remaining_bits

    def progress_at(self, t_s: float) -> np.ndarray:
        grid = self.grid_s
        if grid.size < 2:  # a walk that ended where it started (a deadline now)
            return np.zeros(len(self.items))
        j = min(max(int(np.searchsorted(grid, t_s, side="right")) - 1, 0), grid.size - 2)
        t = min(t_s, grid[-1])
        return self.progress_bits[:, j] + self.speed_bps[:, j] * (t - grid[j])


class _Lookahead:
    """Rates and quantile atoms of transfers on a merged grid of times ahead [s] (PF).

    One row per transfer seen since it was built; rows of finished transfers stay
    (unused) until the look-ahead runs out and is rebuilt for the active ones.
    """

    def __init__(self, items: list[_Active], t0_s: float, t1_s: float) -> None:
        self.rows: dict[int, int] = {}
        self.grid = np.array([t0_s, t1_s])
        self.table = np.zeros((3, 0, 1))  # rates, lower, upper: (3, rows, pieces)
        self.add(items, t0_s)

    def add(self, items: list[_Active], from_s: float) -> None:
        """Rows for ``items`` from ``from_s`` on (earlier pieces repeat their first)."""
        if not items:
            return
        t1 = float(self.grid[-1])
        pieces = [item.pieces(from_s, t1) for item in items]
        new_edges = np.concatenate([piece[0] for piece in pieces])
        grid = np.union1d(self.grid, new_edges)
        if grid.size != self.grid.size:  # re-sample the rows on the finer grid
            mids = 0.5 * (grid[:-1] + grid[1:])  # may round onto an edge 1 ulp away: clip
            index = self.grid.searchsorted(mids, side="right") - 1
            self.table = self.table[:, :, np.clip(index, 0, self.table.shape[2] - 1)]
            self.grid = grid
        mids = 0.5 * (self.grid[:-1] + self.grid[1:])
        rows = np.empty((3, len(items), mids.size))
        for k, (edges, rates, lower, upper) in enumerate(pieces):
            index = edges.searchsorted(mids, side="right")
            rows[0, k], rows[1, k], rows[2, k] = rates[index], lower[index], upper[index]
        for k, item in enumerate(items):
            self.rows[item.serial] = self.table.shape[1] + k
        self.table = np.concatenate((self.table, rows), axis=1)

    def cut(
        self, rows: list[int], t0_s: float, t1_s: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(grid from t0 to t1, rates, lower, upper) of ``rows`` on the pieces in [t0, t1]."""
        grid = self.grid
        first = int(grid.searchsorted(t0_s, side="right")) - 1
        last = int(grid.searchsorted(t1_s, side="left"))
        cut = np.concatenate(([t0_s], grid[first + 1 : last], [t1_s]))
        table = self.table[:, rows, first:last]
        return cut, table[0], table[1], table[2]


class SharedCell:
    """Air-time scheduler of the transfers active in one cell (see module doc)."""

    def __init__(
        self, env: simpy.Environment, name: str, scheduler: Scheduler = "round_robin"
    ) -> None:
        if scheduler not in ("round_robin", "proportional_fair"):
            raise ValueError(f"unknown scheduler {scheduler!r}")
        self.env = env
        self.name = name
        self.scheduler = scheduler
        self.active: dict[int, _Active] = {}
        self._last_s = 0.0
        self._version = 0
        self._plan: _Plan | _kernels.FastPlan | None = None
        self._due: dict[int, float] = {}  # id of a transfer -> its finish by its integral [s]
        self._cum_stale = False
        self._serial = 0
        self._lookahead: _Lookahead | None = None
        self._walker = _kernels.FastWalker()
        self._ending = False  # inside _on_timer's callbacks
        self.max_concurrent = 0
        self.walks = 0  # PF walks made (for tests and benchmarks)

    def share(self, n: int) -> float:
        """Round robin's (and PF's among links without a law) share of n transfers: 1/n."""
        return 1.0 / n if n > 1 else 1.0

    def _scheduled_per_slot(self) -> bool:
        """PF with two or more transfers, at least one of them over a fading link."""
        return (
            self.scheduler == "proportional_fair"
            and len(self.active) > 1
            and any(item.law is not None for item in self.active.values())
        )

    def start(
        self,
        key: int,
        capacity: Capacity,
        bits: float,
        deadline_s: float,
        on_done: Callable[[float, bool, float], None],
    ) -> None:
        """Begin sending ``bits`` for ``key``; ``on_done(end_s, ok, bits_sent)`` when it ends."""
        self._advance()
        self._serial += 1
        self.active[key] = _Active(capacity, bits, deadline_s, on_done, self.env.now, self._serial)
        self.max_concurrent = max(self.max_concurrent, len(self.active))
        if not self._ending:  # else the ending transfers' timer reschedules once, after
            self._reschedule()

    def sent_bits(self) -> dict[int, float]:
        """Bits each active transfer has sent so far [bit] (brings the bookkeeping to now)."""
        self._advance()
        return {key: item.total_bits - item.remaining_bits for key, item in self.active.items()}

    def withdraw(self, key: int) -> float:
        """Take ``key``'s transfer out of the cell now, unfinished (its ``on_done`` is never
        called): the bits it still had to send [bit]. The others are rescheduled without it
        (a device handing over to another cell, sim/channel/link.py)."""
        self._advance()
        item = self.active.pop(key)
        if not self._ending:
            self._reschedule()
        return max(item.remaining_bits, 0.0)

    def _advance(self) -> None:
        now = self.env.now
        n = len(self.active)
        if n and now > self._last_s:
            plan = self._plan
            if plan is not None:
                done = plan.progress_at(now)
                for item, bits_now, bits_before in zip(
                    plan.items, done, plan.done_bits, strict=True
                ):
                    item.remaining_bits -= bits_now - bits_before
                plan.done_bits = done
                self._cum_stale = True  # cum_bits not kept up to date while walking
            else:
                share = self.share(n)
                for item in self.active.values():
                    # Mid-transfer: extend the capacity contiguously, never skip.
                    cum = item.capacity.bits_until_contiguous(now)
                    item.remaining_bits -= (cum - item.cum_bits) * share
                    item.cum_bits = cum
        self._last_s = now

    def _reschedule(self) -> None:
        self._version += 1
        self._plan = None
        self._due = {}
        if not self.active:
            return
        now = self.env.now
        if self._scheduled_per_slot():
            soonest = self._walk(now)
        else:
            if self._cum_stale:  # back from walking: each transfer's integral at now
                for item in self.active.values():
                    item.cum_bits = item.capacity.bits_until_contiguous(now)
                self._cum_stale = False
            soonest = self._soonest_by_integral(now)
        if math.isinf(soonest):
            return
        version = self._version
        timer = self.env.timeout(max(soonest - now, 0.0))
        timer.callbacks.append(lambda _event: self._on_timer(version))

    def _soonest_by_integral(self, now: float) -> float:
        """Equal shares: the earliest finish or deadline, each finish one integral."""
        share = self.share(len(self.active))
        soonest = min(item.deadline_s for item in self.active.values())
        # Lower bounds on the finish times [s after now], smallest first.
        bounds = sorted(
            (max(item.remaining_bits, 0.0) * item.inverse_max_rate / share, i, item)
            for i, item in enumerate(self.active.values())
        )
        due = self._due
        for bound, _, item in bounds:
            if now + bound > soonest:
                break  # this transfer and all after it end later than one already found
            # item.cum_bits is the integral at now (_advance just ran): reach it plus the rest.
            target = item.cum_bits + max(item.remaining_bits, 0.0) / share
            due[id(item)] = finish = item.capacity.time_to_reach(target, now)
            soonest = min(soonest, finish)
        return soonest

    def _walk(self, now: float) -> float:
        """PF per capacity segment from ``now`` until a transfer ends or a deadline comes."""
        self.walks += 1
        items = list(self.active.values())
        if FAST_WALK:
            self._plan, soonest = self._walker.walk(
                items, now, FIRST_WINDOW_S, LOOKAHEAD_S, MAX_WINDOW_S
            )
            return soonest
        remaining = np.array([max(item.remaining_bits, 0.0) for item in items])
        deadline = min(item.deadline_s for item in items)
        # Nobody ends before its bits at its top rate: start the window there.
        bound = min(
            bits * item.inverse_max_rate for bits, item in zip(remaining, items, strict=True)
        )
        window = min(max(FIRST_WINDOW_S, 1.25 * bound), LOOKAHEAD_S)
        while True:
            end = min(now + window, deadline)
            grid, rates, lower, upper = self._rates_on_grid(items, now, end)
            pieces = rates.shape[1]
            speed = np.zeros_like(rates)
            progress = np.zeros((len(items), grid.size))
            dt = np.diff(grid)
            # Shares piece block by piece block, stopping at the first block where a
            # transfer ends (the later pieces are never used).
            done = 0
            ends = np.zeros(0, dtype=np.int64)
            while done < pieces:
                stop = min(done + WALK_BLOCK, pieces)
                block = slice(done, stop)
                speed[:, block] = pf_shares(rates[:, block], lower[:, block], upper[:, block])
                speed[:, block] *= rates[:, block]
                np.cumsum(speed[:, block] * dt[block], axis=1, out=progress[:, done + 1 : stop + 1])
                progress[:, done + 1 : stop + 1] += progress[:, done : done + 1]
                done = stop
                ends = np.flatnonzero(progress[:, done] >= remaining)
                if ends.size:
                    break
            grid, speed, progress = grid[: done + 1], speed[:, :done], progress[:, : done + 1]
            end = float(grid[-1])
            finish = np.full(len(items), math.inf)
            for k in ends.tolist():
                # First piece j whose end reaches the remaining bits (speed > 0 there).
                j = max(int(np.searchsorted(progress[k], remaining[k], side="left")) - 1, 0)
                if remaining[k] <= 0.0:
                    finish[k] = now
                else:
                    finish[k] = grid[j] + (remaining[k] - progress[k, j]) / speed[k, j]
            moving = bool(speed.any())
            if ends.size or end >= deadline or moving or window >= MAX_WINDOW_S:
                self._plan = _Plan(items, grid, speed, progress, finish)
                if not (ends.size or moving or end >= deadline):
                    return math.inf  # no capacity left anywhere: nothing ever finishes
                # A checkpoint at the window's end when nothing finishes inside it.
                return min(float(finish.min()), deadline, end)
            window *= 2.0  # nobody can send (e.g. all blocked): look further at once

    def _rates_on_grid(
        self, items: list[_Active], t0_s: float, t1_s: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Merged segment edges of the items' capacities on [t0, t1] [s], each item's rate
        [bit/s] and quantile atom (lower, upper) on each piece [(n, m) each].

        Cut from the cell's look-ahead (:class:`_Lookahead`), which a walk extends by the
        transfers that started since and rebuilds when it has run out.
        """
        ahead = self._lookahead
        if ahead is None or not ahead.grid[0] <= t0_s < ahead.grid[-1] or t1_s > ahead.grid[-1]:
            ahead = self._lookahead = _Lookahead(items, t0_s, max(t1_s, t0_s + LOOKAHEAD_S))
        else:
            ahead.add([item for item in items if item.serial not in ahead.rows], t0_s)
        return ahead.cut([ahead.rows[item.serial] for item in items], t0_s, t1_s)

    def _on_timer(self, version: int) -> None:
        if version != self._version:
            return  # superseded by a later start or end
        plan = self._plan
        self._advance()
        now = self.env.now
        finished = []
        # Each transfer's finish as last computed: a transfer whose finish has come ends even
        # if rounding left it a few bits (a time step below the clock's resolution: late
        # in a run, c x ulp(now) can exceed the tolerance, and it would never end).
        planned = self._due
        if plan is not None:
            planned = {id(item): f for item, f in zip(plan.items, plan.finish_s, strict=True)}
        for key, item in self.active.items():
            tolerance = 1e-9 * item.total_bits + 1e-6
            if item.remaining_bits <= tolerance or planned.get(id(item), math.inf) <= now:
                finished.append((key, True))
            elif now >= item.deadline_s:
                finished.append((key, False))
        self._ending = True
        try:
            for key, ok in finished:
                item = self.active.pop(key)
                sent = item.total_bits if ok else item.total_bits - max(item.remaining_bits, 0.0)
                item.on_done(now, ok, sent)
        finally:
            self._ending = False
        self._reschedule()
