"""The shared cell's PF walk in plain Python scalars: the fast path of
:meth:`sim.channel.shared.SharedCell._walk`.

A walk covers about a dozen transfers over a handful of capacity pieces, of
which two or three contend on each piece; the numpy walk's cost there is the
overhead of ~40 numpy calls on tiny arrays, not arithmetic. This walk steps
through the merged segment edges of the active transfers one piece at a time,
finds each piece's contenders in a loop and gives them their shares in closed
form (:mod:`sim.channel._kernels_shares`; a contender set seen in this walk or
the one before reuses its shares); it stops at the first piece where a transfer
reaches its bits. Each capacity's segments and their quantile atoms are kept
per capacity (:class:`Track`), computed once as the capacity grows, instead of
per transfer over the capacity's whole history.

Same model, same inputs, same capacity generation as the numpy walk; the
results differ by rounding only: the shares are the same integrals in closed
form instead of 8-point Gauss-Legendre quadrature (the closed form is exact to
1e-16 against rational arithmetic, the quadrature to ~1e-11), and progress is
summed over the active transfers' own edges instead of the look-ahead's grid
(tests/channel/test_shared_fast.py).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import TYPE_CHECKING

from sim.channel._kernels_shares import SharesCache, two_shares
from sim.channel.capacity import Capacity, ConstantCapacity, PiecewiseCapacity

if TYPE_CHECKING:
    from sim.channel.ratelaw import RateLaw

TRIM_SEGMENTS = 64  # drop a track's consumed segments once this many lie behind it (memory)


class Track:
    """One capacity's segments from some index on as Python lists, with each segment's
    quantile atom in the capacity's rate law ([0, 1] without a law)."""

    __slots__ = ("base", "capacity", "edges", "hi", "law", "lo", "rates")

    def __init__(self, capacity: Capacity, law: RateLaw | None) -> None:
        self.capacity = capacity
        self.law = law
        self.base = 0  # capacity segment index of edges[0]
        if isinstance(capacity, ConstantCapacity):
            self.edges, self.rates = [0.0, math.inf], [capacity.rate_bps]
            self.lo, self.hi = [0.0], [1.0]
        elif isinstance(capacity, PiecewiseCapacity):
            self.edges, self.rates, self.lo, self.hi = [0.0], [], [], []
        else:
            raise TypeError(f"a shared cell cannot walk a {type(capacity).__name__}")

    def sync(self, now_s: float) -> None:
        """Take in the segments the capacity generated since the last call; drop those
        that lie well behind ``now_s`` (time only moves forward)."""
        capacity = self.capacity
        if not isinstance(capacity, PiecewiseCapacity):
            return
        i = bisect_right(self.edges, now_s) - 1
        if i >= TRIM_SEGMENTS:
            del self.edges[:i], self.rates[:i], self.lo[:i], self.hi[:i]
            self.base += i
        have = self.base + len(self.rates)
        rates = capacity.rates
        if rates.size <= have:
            return
        new = rates[have:]
        self.edges.extend(capacity.edges[have + 1 : rates.size + 1].tolist())
        self.rates.extend(new.tolist())
        if self.law is None:
            self.lo.extend([0.0] * new.size)
            self.hi.extend([1.0] * new.size)
        else:
            lower, upper = self.law.atoms(new)
            self.lo.extend(lower.tolist())
            self.hi.extend(upper.tolist())

    def state(self, i: int) -> tuple[int, float, float, float, float, float, float]:
        """Segment ``i`` (local index) as a transfer sees it: (capacity segment index,
        rate [bit/s], atom lower, upper, end [s], and the atom again if the rate is > 0,
        else -1, below every atom). Past the end of a finite process: rate 0, atom 0."""
        edges = self.edges
        end = edges[i + 1] if i + 1 < len(edges) else math.inf
        if i >= len(self.rates):
            return self.base + i, 0.0, 0.0, 0.0, end, -1.0, -1.0
        rate, low, high = self.rates[i], self.lo[i], self.hi[i]
        if rate > 0.0:
            return self.base + i, rate, low, high, end, low, high
        return self.base + i, rate, low, high, end, -1.0, -1.0


def generate_until(capacity: Capacity, t_s: float) -> None:
    """Generate a piecewise capacity contiguously past ``t_s``, exactly as
    :func:`sim.channel.shared.segments_between` does (the same process either way)."""
    if isinstance(capacity, PiecewiseCapacity) and capacity.edges[-1] <= t_s:
        capacity.bits_until_contiguous(t_s)


class FastPlan:
    """A walk's progress on its pieces: the interface of ``shared._Plan`` on lists."""

    __slots__ = ("done_bits", "finish_s", "grid_s", "items", "progress_bits", "speed_bps")

    def __init__(
        self,
        items: list,
        grid_s: list[float],
        speed_bps: list[list[float]],
        progress_bits: list[list[float]],
        finish_s: list[float],
    ) -> None:
        self.items = items
        self.grid_s = grid_s  # m + 1 times from the walk's start [s]
        self.speed_bps = speed_bps  # m rows of n speeds phi_i c_i [bit/s]
        self.progress_bits = progress_bits  # m + 1 rows of n progresses since grid_s[0] [bit]
        self.finish_s = finish_s  # n; inf: not within the walk
        self.done_bits: list[float] = [0.0] * len(items)  # already taken off remaining_bits

    def progress_at(self, t_s: float) -> list[float]:
        grid = self.grid_s
        if len(grid) < 2:  # a walk that ended where it started
            return [0.0] * len(self.items)
        j = min(max(bisect_right(grid, t_s) - 1, 0), len(grid) - 2)
        dt = min(t_s, grid[-1]) - grid[j]
        return [p + s * dt for p, s in zip(self.progress_bits[j], self.speed_bps[j], strict=True)]


class Walk:
    """What :func:`walk_pieces` found: pieces, progress, finishes."""

    __slots__ = ("ended", "finish_s", "grid_s", "moving", "progress_bits", "speed_bps")

    def __init__(self) -> None:
        self.grid_s: list[float] = []
        self.speed_bps: list[list[float]] = []
        self.progress_bits: list[list[float]] = []
        self.finish_s: list[float] = []
        self.moving = False  # some transfer progressed on some piece
        self.ended = False  # some transfer reached its bits


def walk_pieces(
    tracks: list[Track],
    states: list[tuple],
    remaining: list[float],
    now: float,
    end: float,
    cache: SharesCache | None = None,
) -> Walk:
    """Walk the merged pieces of the tracks on [now, end] until the first piece where a
    transfer reaches its ``remaining`` bits [bit]; each piece's shares as
    :func:`piece_shares` gives them (two contenders: :func:`two_shares`). ``states``:
    each track's :meth:`Track.state` at ``now``."""
    n = len(tracks)
    out = Walk()
    cache = SharesCache() if cache is None else cache
    cache.next_walk()
    cursor = [state[0] for state in states]
    rates = [state[1] for state in states]
    lower = [state[2] for state in states]
    upper = [state[3] for state in states]
    next_edge = [state[4] for state in states]
    low_sending = [state[5] for state in states]
    high_sending = [state[6] for state in states]
    finish = out.finish_s = [math.inf] * n
    grid = out.grid_s = [now]
    progress = [0.0] * n
    out.progress_bits.append(progress)
    for k in range(n):
        if remaining[k] <= 0.0:
            finish[k] = now
            out.ended = True
    t = now
    while not out.ended and t < end:
        t_next = min(min(next_edge), end)
        dt = t_next - t
        # The largest lower end among those who can send, and the atoms reaching above it.
        top = max(max(low_sending), 0.0)
        contenders = [k for k, h in enumerate(high_sending) if h > top]
        speed = [0.0] * n
        if len(contenders) == 1:
            k = contenders[0]
            speed[k] = rates[k]
        elif len(contenders) == 2:
            a, b = contenders
            share_a, share_b = two_shares(lower[a], upper[a], lower[b], upper[b], top)
            speed[a] = share_a * rates[a]
            speed[b] = share_b * rates[b]
        elif contenders:
            shares = cache.shares(
                [lower[k] for k in contenders], [upper[k] for k in contenders], top
            )
            for k, share in zip(contenders, shares, strict=True):
                speed[k] = share * rates[k]
        step = progress[:]
        for k in contenders:
            v = speed[k]
            if v > 0.0:
                out.moving = True
                reached = step[k] = progress[k] + v * dt
                if reached >= remaining[k]:
                    finish[k] = t + (remaining[k] - progress[k]) / v
                    out.ended = True
        out.speed_bps.append(speed)
        out.progress_bits.append(step)
        grid.append(t_next)
        progress = step
        t = t_next
        for k in [k for k, e in enumerate(next_edge) if e <= t]:
            track = tracks[k]
            while next_edge[k] <= t:  # this track enters its next segment
                state = track.state(cursor[k] + 1 - track.base)
                cursor[k], rates[k], lower[k], upper[k], next_edge[k] = state[:5]
                low_sending[k], high_sending[k] = state[5], state[6]
    return out


class FastWalker:
    """The fast PF walk of one cell: its capacities' tracks and the horizon up to which
    the numpy walk's look-ahead would have generated each capacity (generation is
    repeated call for call, so both walks see and leave the same processes)."""

    def __init__(self) -> None:
        self.tracks: dict[int, Track] = {}  # by id of the capacity
        self.start_s = math.nan  # the look-ahead's span [s]; nan: none yet
        self.end_s = math.nan
        self.epoch = 0  # look-ahead number: a transfer is generated once in each
        self.cache = SharesCache()

    def prepare(self, items: list, t0_s: float, t1_s: float, lookahead_s: float) -> list[Track]:
        """Generate what ``SharedCell._rates_on_grid`` generates for a walk on [t0, t1]
        (a new look-ahead: every capacity to its end; else those of transfers new to
        it); each item's track, holding what its capacity generated up to ``t1_s``."""
        if not self.start_s <= t0_s < self.end_s or t1_s > self.end_s:
            self.start_s, self.end_s = t0_s, max(t1_s, t0_s + lookahead_s)
            self.epoch += 1
        epoch, horizon = self.epoch, self.end_s
        tracks = []
        for item in items:
            if item.epoch != epoch:
                item.epoch = epoch
                generate_until(item.capacity, horizon)
            track = item.track
            if track is None:
                track = item.track = self._track(item)
            if track.edges[-1] <= t1_s:
                track.sync(t0_s)
            tracks.append(track)
        return tracks

    @staticmethod
    def states(items: list, tracks: list[Track], now: float) -> list[tuple]:
        """Each item's :meth:`Track.state` at ``now``: the one kept from its last walk while
        that segment still holds ``now`` (time only moves forward), else looked up."""
        states = [item.state for item in items]
        for k in [k for k, state in enumerate(states) if state is None or state[4] <= now]:
            track = tracks[k]
            states[k] = items[k].state = track.state(bisect_right(track.edges, now) - 1)
        return states

    def _track(self, item) -> Track:
        """The track of the item's capacity (one per capacity and law)."""
        track = self.tracks.get(id(item.capacity))
        if track is None or track.capacity is not item.capacity or track.law is not item.law:
            track = self.tracks[id(item.capacity)] = Track(item.capacity, item.law)
            track.sync(-math.inf)
        return track

    def walk(
        self, items: list, now: float, first_s: float, lookahead_s: float, max_window_s: float
    ) -> tuple[FastPlan, float]:
        """(plan, time of the cell's next timer; inf: none) of a PF walk from ``now``: the
        window logic of ``SharedCell._walk`` with :func:`walk_pieces` for its numpy part."""
        remaining = [max(item.remaining_bits, 0.0) for item in items]
        deadline = min([item.deadline_s for item in items])
        bound = min(
            [bits * item.inverse_max_rate for bits, item in zip(remaining, items, strict=True)]
        )
        window = min(max(first_s, 1.25 * bound), lookahead_s)
        while True:
            end = min(now + window, deadline)
            tracks = self.prepare(items, now, end, lookahead_s)
            found = walk_pieces(
                tracks, self.states(items, tracks, now), remaining, now, end, self.cache
            )
            end = found.grid_s[-1]
            if found.ended or end >= deadline or found.moving or window >= max_window_s:
                plan = FastPlan(
                    items, found.grid_s, found.speed_bps, found.progress_bits, found.finish_s
                )
                if not (found.ended or found.moving or end >= deadline):
                    return plan, math.inf  # no capacity left anywhere: nothing ever finishes
                return plan, min(min(found.finish_s), deadline, end)
            window *= 2.0  # nobody can send (e.g. all blocked): look further at once
