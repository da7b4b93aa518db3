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

import numpy as np

from sim.channel.capacity import Capacity, ConstantCapacity, PiecewiseCapacity

if TYPE_CHECKING:
    from sim.channel.ratelaw import RateLaw

TRIM_SEGMENTS = 512  # drop a track's consumed segments once this many lie behind it
MANY = 5  # contenders from which the shares are computed in numpy (_many_shares)
_GAUSS: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # Gauss-Legendre rules by node count


def contender_shares(
    lo: list[float], hi: list[float], top: float, written_out: bool = True
) -> list[float]:
    """P(U_i is the largest) of K >= 2 contenders, U_i ~ Uniform[lo_i, hi_i], unnormalised.

    Only u above ``top`` (the largest lower end, so every lo_i <= top < hi_i) matters.
    Between consecutive upper ends e_{k-1} < u < e_k the users still ramping are
    those with hi >= e_k; with x = u - e_{k-1} each of their CDFs is (x + a_j) / w_j,
    a_j = e_{k-1} - lo_j >= 0, so user i's density times the others' CDFs is a
    polynomial with non-negative coefficients, integrated exactly (no cancellation).
    ``written_out``: intervals with up to 4 users ramping by :func:`_few_ramping`
    (the same bits as the general loop, which False forces); from MANY contenders on,
    :func:`_many_shares` (the same integrals by quadrature exact for their degree).
    """
    k_users = len(lo)
    if written_out and k_users >= MANY:
        return _many_shares(lo, hi, top)
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
            if written_out and len(alive) <= 4:
                _few_ramping(alive, offsets, inverse_width, length, shares)
            else:
                _ramping(alive, offsets, inverse_width, length, shares)
            left = right
    return shares


def _ramping(
    alive: list[int],
    offsets: list[float],
    inverse_width: list[float],
    length: float,
    shares: list[float],
) -> None:
    """Add each ramping user's integral over one interval of ``length`` to its share."""
    for pos, i in enumerate(alive):
        coef = [1.0]  # prod_{j != i} (x + a_j), lowest degree first
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


def _few_ramping(
    alive: list[int],
    offsets: list[float],
    inverse_width: list[float],
    length: float,
    shares: list[float],
) -> None:
    """:func:`_ramping` for 1-4 users written out, operation for operation."""
    if len(alive) == 1:
        i = alive[0]
        shares[i] += inverse_width[i] * length
        return
    square = length * length
    if len(alive) == 2:
        i, j = alive
        a_i, a_j = offsets
        w_i, w_j = inverse_width[i], inverse_width[j]
        half = square / 2
        shares[i] += w_i * w_j * (a_j * length + half)
        shares[j] += w_j * w_i * (a_i * length + half)
        return
    if len(alive) == 3:
        i, j, k = alive
        a_i, a_j, a_k = offsets
        w_i, w_j, w_k = inverse_width[i], inverse_width[j], inverse_width[k]
        third = square * length / 3
        shares[i] += w_i * w_j * w_k * (a_j * a_k * length + (a_k + a_j) * square / 2 + third)
        shares[j] += w_j * w_i * w_k * (a_i * a_k * length + (a_k + a_i) * square / 2 + third)
        shares[k] += w_k * w_i * w_j * (a_i * a_j * length + (a_j + a_i) * square / 2 + third)
        return
    cube = square * length
    quarter = cube * length / 4
    for pos, i in enumerate(alive):
        j, k, m = alive[:pos] + alive[pos + 1 :]
        a_j, a_k, a_m = offsets[:pos] + offsets[pos + 1 :]
        c0 = a_j * a_k * a_m
        c1 = (a_k + a_j) * a_m + a_j * a_k
        c2 = a_m + (a_k + a_j)
        scale = inverse_width[i] * inverse_width[j] * inverse_width[k] * inverse_width[m]
        shares[i] += scale * (c0 * length + c1 * square / 2 + c2 * cube / 3 + quarter)


def _many_shares(lo: list[float], hi: list[float], top: float) -> list[float]:
    """:func:`contender_shares` for many contenders, vectorised: on each interval between
    upper ends the integrand is a polynomial of degree <= K - 1, so ceil(K / 2)
    Gauss-Legendre nodes integrate it exactly; the product of the others' CDFs comes
    from prefix and suffix products (no division), every term non-negative."""
    low, high = np.array(lo), np.array(hi)
    k_users = low.size
    nodes = (k_users + 1) // 2
    if nodes not in _GAUSS:
        _GAUSS[nodes] = np.polynomial.legendre.leggauss(nodes)
    x, w = _GAUSS[nodes]
    inverse_width = 1.0 / (high - low)
    ends = np.sort(high)
    left = np.concatenate(([top], ends[:-1]))
    length = ends - left  # (K,) intervals above top, some of length 0
    # u - lo_j = (left_k - lo_j) + (u - left_k): both terms >= 0, each to full precision
    into = 0.5 * length[:, None] * (x + 1.0)  # (K intervals, nodes) u - left_k
    offsets = left[:, None] - low  # (K, K users)
    cdf = np.minimum((offsets[:, None, :] + into[:, :, None]) * inverse_width, 1.0)
    ones = np.ones((k_users, nodes, 1))
    before = np.cumprod(np.concatenate((ones, cdf[:, :, :-1]), axis=2), axis=2)
    after = np.cumprod(np.concatenate((ones, cdf[:, :, :0:-1]), axis=2), axis=2)[:, :, ::-1]
    ramping = high >= ends[:, None]  # (K, K): user i's density is there on interval k
    weight = 0.5 * length[:, None] * w  # (K, nodes)
    won = np.einsum("kn,kni->i", weight, before * after * ramping[:, None, :]) * inverse_width
    return won.tolist()


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


def two_shares(
    lo_a: float, hi_a: float, lo_b: float, hi_b: float, top: float
) -> tuple[float, float]:
    """:func:`contender_shares` of two contenders, normalised, written out (the same
    operations in the same order: the same bits, tests/channel/test_shared_fast.py)."""
    inverse_a = 1.0 / (hi_a - lo_a)
    inverse_b = 1.0 / (hi_b - lo_b)
    if hi_a <= hi_b:  # a's atom ends first: both ramp up to hi_a, then b alone
        length = hi_a - top
        half = length * length / 2
        share_a = inverse_a * inverse_b * ((top - lo_b) * length + half)
        share_b = inverse_b * inverse_a * ((top - lo_a) * length + half)
        if hi_b > hi_a:
            share_b += inverse_b * (hi_b - hi_a)
    else:
        length = hi_b - top
        half = length * length / 2
        share_b = inverse_b * inverse_a * ((top - lo_a) * length + half)
        share_a = inverse_a * inverse_b * ((top - lo_b) * length + half)
        share_a += inverse_a * (hi_a - hi_b)
    total = share_a + share_b
    return share_a / total, share_b / total


class SharesCache:
    """Normalised shares of contender sets seen in this walk and the one before: the
    walks after a start or an end go over the same pieces, where the contenders and
    their atoms are mostly unchanged (the same inputs give the same shares)."""

    __slots__ = ("before", "now")

    def __init__(self) -> None:
        self.now: dict[tuple, list[float]] = {}
        self.before: dict[tuple, list[float]] = {}

    def next_walk(self) -> None:
        self.before, self.now = self.now, {}

    def shares(self, lower: list[float], upper: list[float], top: float) -> list[float]:
        """:func:`contender_shares` of the contenders' atoms, normalised."""
        key = (top, *lower, *upper)
        found = self.now.get(key)
        if found is None:
            found = self.before.get(key)
            if found is None:
                won = contender_shares(lower, upper, top)
                total = math.fsum(won)
                found = [w / total for w in won]
            self.now[key] = found
        return found


def walk_pieces(
    tracks: list[Track],
    remaining: list[float],
    now: float,
    end: float,
    cache: SharesCache | None = None,
) -> Walk:
    """Walk the merged pieces of the tracks on [now, end] until the first piece where a
    transfer reaches its ``remaining`` bits [bit]; each piece's shares as
    :func:`piece_shares` gives them (two contenders: :func:`two_shares`)."""
    n = len(tracks)
    out = Walk()
    cache = SharesCache() if cache is None else cache
    cache.next_walk()
    cursor = [track.index(now) for track in tracks]
    # Past the end of a finite process the rate is 0 (and so is its atom).
    rates = [
        tr.rates[i] if i < len(tr.rates) else 0.0 for tr, i in zip(tracks, cursor, strict=True)
    ]
    lower = [tr.lo[i] if i < len(tr.lo) else 0.0 for tr, i in zip(tracks, cursor, strict=True)]
    upper = [tr.hi[i] if i < len(tr.hi) else 0.0 for tr, i in zip(tracks, cursor, strict=True)]
    next_edge = [
        tr.edges[i + 1] if i + 1 < len(tr.edges) else math.inf
        for tr, i in zip(tracks, cursor, strict=True)
    ]
    # The atoms of those who can send; -1 (below every atom) for those who cannot.
    low_sending = [low if rate > 0.0 else -1.0 for rate, low in zip(rates, lower, strict=True)]
    high_sending = [h if rate > 0.0 else -1.0 for rate, h in zip(rates, upper, strict=True)]
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
                i = cursor[k] = cursor[k] + 1
                if i < len(track.rates):
                    rates[k], lower[k], upper[k] = track.rates[i], track.lo[i], track.hi[i]
                else:
                    rates[k] = lower[k] = upper[k] = 0.0
                next_edge[k] = track.edges[i + 1] if i + 1 < len(track.edges) else math.inf
            sending = rates[k] > 0.0
            low_sending[k] = lower[k] if sending else -1.0
            high_sending[k] = upper[k] if sending else -1.0
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
        self.cache = SharesCache()

    def generate(self, items: list, t0_s: float, t1_s: float, lookahead_s: float) -> None:
        """What ``SharedCell._rates_on_grid`` generates for a walk on [t0, t1]."""
        if not self.start_s <= t0_s < self.end_s or t1_s > self.end_s:
            self.start_s, self.end_s = t0_s, max(t1_s, t0_s + lookahead_s)
            self.seen = set()
        for item in items:
            if item.serial not in self.seen:
                self.seen.add(item.serial)
                generate_until(item.capacity, self.end_s)

    def tracks_for(self, items: list, end_s: float) -> list[Track]:
        """Each item's capacity's track (made on first use), holding what its capacity
        has generated once that is needed up to ``end_s``."""
        tracks = []
        cache = self.tracks
        for item in items:
            track = cache.get(id(item.capacity))
            if track is None or track.capacity is not item.capacity or track.law is not item.law:
                track = cache[id(item.capacity)] = Track(item.capacity, item.law)
            if track.edges[-1] <= end_s:
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
            found = walk_pieces(self.tracks_for(items, end), remaining, now, end, self.cache)
            end = found.grid_s[-1]
            if found.ended or end >= deadline or found.moving or window >= max_window_s:
                plan = FastPlan(
                    items, found.grid_s, found.speed_bps, found.progress_bits, found.finish_s
                )
                if not (found.ended or found.moving or end >= deadline):
                    return plan, math.inf  # no capacity left anywhere: nothing ever finishes
                return plan, min(min(found.finish_s), deadline, end)
            window *= 2.0  # nobody can send (e.g. all blocked): look further at once
