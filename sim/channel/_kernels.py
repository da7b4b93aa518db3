"""The shared cell's PF walk in plain Python scalars: the fast path of
:meth:`sim.channel.shared.SharedCell._walk`.

A walk covers about a dozen transfers over a handful of capacity pieces, of
which two or three contend on each piece; the numpy walk's cost there is the
overhead of ~40 numpy calls on tiny arrays, not arithmetic. This walk steps
through the merged segment edges of the active transfers one piece at a time,
finds each piece's contenders in a loop and gives them their shares in closed
form (:func:`contender_shares`); it stops at the first piece where a transfer
reaches its bits. Each capacity's segments and their quantile atoms are kept
per capacity (:class:`Track`), computed once as the capacity grows, instead of
per transfer.

Same model, same inputs, same capacity generation as the numpy walk; the
results differ by rounding only: the shares are the same integrals in closed
form instead of Gauss-Legendre quadrature (both exact for these polynomials;
tests/channel/test_shared_fast.py: within 1e-12), and progress is summed over
the active transfers' own edges instead of the look-ahead's grid.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from typing import TYPE_CHECKING

from sim.channel.capacity import Capacity, ConstantCapacity, PiecewiseCapacity

if TYPE_CHECKING:
    from sim.channel.ratelaw import RateLaw

TRIM_SEGMENTS = 512  # drop a track's consumed segments once this many lie behind it


def contender_shares(lo: list[float], hi: list[float], top: float) -> list[float]:
    """P(U_i is the largest) of K >= 2 contenders, U_i ~ Uniform[lo_i, hi_i], unnormalised.

    Only u above ``top`` (the largest lower end, so every lo_i <= top < hi_i) matters.
    Between consecutive upper ends e_{k-1} < u < e_k the users still ramping are
    those with hi >= e_k; with x = u - e_{k-1} each of their CDFs is (x + a_j) / w_j,
    a_j = e_{k-1} - lo_j >= 0, so user i's density times the others' CDFs is a
    polynomial with non-negative coefficients, integrated exactly (no cancellation).
    """
    k_users = len(lo)
    inverse_width = [1.0 / (h - low) for low, h in zip(lo, hi, strict=True)]
    order = sorted(range(k_users), key=hi.__getitem__)
    shares = [0.0] * k_users
    left = top
    for k in range(k_users):
        right = hi[order[k]]
        length = right - left
        if length > 0.0:
            alive = order[k:]
            offsets = [left - lo[j] for j in alive]
            for pos, i in enumerate(alive):
                # coefficients of prod_{j != i} (x + a_j), lowest degree first
                coef = [1.0]
                scale = inverse_width[i]
                for other, j in enumerate(alive):
                    if other == pos:
                        continue
                    a = offsets[other]
                    scale *= inverse_width[j]
                    nxt = [c * a for c in coef]
                    nxt.append(0.0)
                    for m, c in enumerate(coef):
                        nxt[m + 1] += c
                    coef = nxt
                integral = 0.0
                power = length
                for m, c in enumerate(coef):
                    integral += c * power / (m + 1)
                    power *= length
                shares[i] += scale * integral
            left = right
    return shares


def piece_shares(rates: list[float], lower: list[float], upper: list[float]) -> list[float]:
    """Air-time shares of n users on one piece: :func:`sim.channel.quantile_scheduler.pf_shares`
    for one column, with the shares in closed form."""
    top = 0.0
    for rate, low in zip(rates, lower, strict=True):
        if rate > 0.0 and low > top:
            top = low
    contenders = [i for i, rate in enumerate(rates) if rate > 0.0 and upper[i] > top]
    shares = [0.0] * len(rates)
    if len(contenders) == 1:
        shares[contenders[0]] = 1.0
    elif contenders:
        won = contender_shares([lower[i] for i in contenders], [upper[i] for i in contenders], top)
        total = math.fsum(won)
        for i, w in zip(contenders, won, strict=True):
            shares[i] = w / total
    return shares


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

    def sync(self) -> None:
        """Take in the segments the capacity generated since the last call."""
        capacity = self.capacity
        if not isinstance(capacity, PiecewiseCapacity):
            return
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

    def index(self, t_s: float) -> int:
        """Local index of the segment holding ``t_s``, trimming what lies well behind it."""
        i = bisect_right(self.edges, t_s) - 1
        if i >= TRIM_SEGMENTS:
            del self.edges[:i], self.rates[:i], self.lo[:i], self.hi[:i]
            self.base += i
            i = 0
        return i


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


def walk_pieces(tracks: list[Track], remaining: list[float], now: float, end: float) -> Walk:
    """Walk the merged pieces of the tracks on [now, end] until the first piece where a
    transfer reaches its ``remaining`` bits [bit]; the shares of each piece by
    :func:`piece_shares` (reused while the rates and atoms stay the same)."""
    n = len(tracks)
    out = Walk()
    cursor, rates, lower, upper, next_edge = [], [], [], [], []
    for track in tracks:
        i = track.index(now)
        cursor.append(i)
        if i < len(track.rates):
            rates.append(track.rates[i])
            lower.append(track.lo[i])
            upper.append(track.hi[i])
        else:  # past the end of a finite process: rate 0
            rates.append(0.0)
            lower.append(0.0)
            upper.append(0.0)
        next_edge.append(track.edges[i + 1] if i + 1 < len(track.edges) else math.inf)
    finish = out.finish_s = [math.inf] * n
    grid = out.grid_s = [now]
    progress = [0.0] * n
    out.progress_bits.append(progress)
    for k in range(n):
        if remaining[k] <= 0.0:
            finish[k] = now
            out.ended = True
    t = now
    shares_key: tuple = ()
    shares: list[float] = []
    while not out.ended and t < end:
        t_next = min(min(next_edge), end)
        key = (*rates, *lower, *upper)
        if key != shares_key:
            shares = piece_shares(rates, lower, upper)
            shares_key = key
        speed = [s * r for s, r in zip(shares, rates, strict=True)]
        dt = t_next - t
        step = [p + v * dt for p, v in zip(progress, speed, strict=True)]
        for k in range(n):
            if speed[k] > 0.0:
                out.moving = True
                if step[k] >= remaining[k]:
                    finish[k] = t + (remaining[k] - progress[k]) / speed[k]
                    out.ended = True
        out.speed_bps.append(speed)
        out.progress_bits.append(step)
        grid.append(t_next)
        progress = step
        t = t_next
        for k in range(n):
            while next_edge[k] <= t:  # this track enters its next segment
                track = tracks[k]
                i = cursor[k] = cursor[k] + 1
                if i < len(track.rates):
                    rates[k], lower[k], upper[k] = track.rates[i], track.lo[i], track.hi[i]
                else:
                    rates[k] = lower[k] = upper[k] = 0.0
                next_edge[k] = track.edges[i + 1] if i + 1 < len(track.edges) else math.inf
    return out


class FastWalker:
    """The fast PF walk of one cell: its capacities' tracks and the horizon up to which
    the numpy walk's look-ahead would have generated each capacity (generation is
    repeated call for call, so both walks see and leave the same processes)."""

    def __init__(self) -> None:
        self.tracks: dict[int, Track] = {}
        self.start_s = math.nan  # the look-ahead's span [s]; nan: none yet
        self.end_s = math.nan
        self.seen: set[int] = set()  # serials of the transfers generated to end_s

    def generate(self, items: list, t0_s: float, t1_s: float, lookahead_s: float) -> None:
        """What ``SharedCell._rates_on_grid`` generates for a walk on [t0, t1]."""
        if not self.start_s <= t0_s < self.end_s or t1_s > self.end_s:
            self.start_s, self.end_s = t0_s, max(t1_s, t0_s + lookahead_s)
            self.seen = set()
        for item in items:
            if item.serial not in self.seen:
                self.seen.add(item.serial)
                generate_until(item.capacity, self.end_s)

    def tracks_for(self, items: list) -> list[Track]:
        """Each item's capacity's track (made on first use), synced with its capacity."""
        tracks = []
        cache = self.tracks
        for item in items:
            track = cache.get(id(item.capacity))
            if track is None or track.capacity is not item.capacity:
                track = cache[id(item.capacity)] = Track(item.capacity, item.law)
            track.sync()
            tracks.append(track)
        return tracks

    def walk(
        self, items: list, now: float, first_s: float, lookahead_s: float, max_window_s: float
    ) -> tuple[FastPlan, float]:
        """(plan, time of the cell's next timer; inf: none) of a PF walk from ``now``: the
        window logic of ``SharedCell._walk`` with :func:`walk_pieces` for its numpy part."""
        remaining = [max(item.remaining_bits, 0.0) for item in items]
        deadline = min(item.deadline_s for item in items)
        bound = min(
            bits * item.inverse_max_rate for bits, item in zip(remaining, items, strict=True)
        )
        window = min(max(first_s, 1.25 * bound), lookahead_s)
        while True:
            end = min(now + window, deadline)
            self.generate(items, now, end, lookahead_s)
            found = walk_pieces(self.tracks_for(items), remaining, now, end)
            end = found.grid_s[-1]
            if found.ended or end >= deadline or found.moving or window >= max_window_s:
                plan = FastPlan(
                    items, found.grid_s, found.speed_bps, found.progress_bits, found.finish_s
                )
                if not (found.ended or found.moving or end >= deadline):
                    return plan, math.inf  # no capacity left anywhere: nothing ever finishes
                return plan, min(min(found.finish_s), deadline, end)
            window *= 2.0  # nobody can send (e.g. all blocked): look further at once
