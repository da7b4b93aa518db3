"""Closed-form air-time shares of the quantile (CDF) scheduler for the fast PF walk
(sim/channel/_kernels.py): :func:`sim.channel.quantile_scheduler.pf_shares` for one
piece, in plain Python for a few contenders and in numpy for many.

The share of contender i is the integral over u of its uniform density on its
atom times the others' CDFs, a polynomial between consecutive upper ends; the
numpy walk integrates it by an 8-point Gauss-Legendre rule, here it is
integrated term by term (or by a rule exact for its degree), exact to rounding
(tests/channel/test_shared_fast.py: against rational arithmetic).
"""

from __future__ import annotations

import math

import numpy as np

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
    Gauss-Legendre nodes integrate it exactly. Every factor is computed as
    ((left_k - lo_j) + (u - left_k)) / w_j, a sum of two non-negative terms, and is > 0
    inside an interval, so the others' product is the product over all divided by the
    user's own (no cancellation anywhere)."""
    low, high = np.array((lo, hi))
    k_users = low.size
    nodes = (k_users + 1) // 2
    rule = _GAUSS.get(nodes)
    if rule is None:
        x, w = np.polynomial.legendre.leggauss(nodes)
        rule = _GAUSS[nodes] = (0.5 * (x + 1.0), 0.5 * w)  # on [0, 1]
    at, weight = rule
    inverse_width = 1.0 / (high - low)
    ends = np.sort(high)
    left = np.concatenate(([top], ends[:-1]))
    length = ends - left  # (K,) intervals above top, some of length 0
    into = np.multiply.outer(length, at)  # (K intervals, nodes): u - left_k
    cdf = (np.subtract.outer(left, low)[:, None, :] + into[:, :, None]) * inverse_width
    np.minimum(cdf, 1.0, out=cdf)  # (K intervals, nodes, K users)
    cdf[length == 0.0] = 1.0  # intervals of length 0 weigh nothing: keep the division finite
    others = cdf.prod(axis=2)[:, :, None] / cdf
    ramping = high >= ends[:, None]  # (K, K): user i's density is there on interval k
    won = np.einsum("kn,kni,ki->i", np.multiply.outer(length, weight), others, ramping)
    return (won * inverse_width).tolist()


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
