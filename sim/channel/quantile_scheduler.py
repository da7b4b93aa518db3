"""Air-time shares of the quantile (CDF) scheduler, the limit of proportional fair.

Each user's rate has a quantile *atom* [lower, upper] in its own rate law
(:mod:`sim.channel.ratelaw`); its quantile is uniform on it, independently of
the others', and the largest is served. :func:`pf_shares` gives each user's
probability of being served on each piece of time: its share of the air time
there (Bonald, "A score-based opportunistic scheduler for fading radio
channels", European Wireless 2004; Park, Park & Lee, IEEE Trans. Wireless
Commun. 2005).
"""

from __future__ import annotations

import numpy as np

_GAUSS_U, _GAUSS_W = np.polynomial.legendre.leggauss(8)  # nodes and weights on [-1, 1]
FEW_PIECES = 8  # up to this many pieces are computed at once, without grouping


def pf_shares(rates: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Air-time shares phi [(n, m)] of n users on m pieces under the quantile scheduler.

    User i's quantile is U_i ~ Uniform[lower_i, upper_i] (its rate's atom),
    independent across users; the largest wins, and phi_i = P(U_i is the largest)
    = ∫ f_i(u) prod_{j != i} G_j(u) du, G_j the CDF of U_j. A user with rate 0 never
    wins and does not block. Only u above the largest lower end matters (below it
    that user's G is 0), where each G_j is a ramp up to its upper end, then 1:
    the integral is a sum over the intervals between the upper ends of products of
    linear factors, by 8-point Gauss-Legendre (exact while at most 16 atoms overlap
    an interval). Shares are renormalised to sum to 1 over the users who can send
    (absorbing the quadrature's error beyond that), so sum_i phi_i c_i <= max_i c_i.
    """
    pieces = rates.shape[1]
    can_send = rates > 0.0
    low = np.where(can_send, lower, 0.0)
    top = low.max(axis=0)  # (m,) the largest lower end among those who can send
    # Contenders: atoms reaching above top (everyone else is below it for sure).
    contender = can_send & (upper > top)
    counts = contender.sum(axis=0)
    most = int(counts.max(initial=0))
    if most <= 1:
        shares = contender.astype(float)
    elif pieces <= FEW_PIECES:
        shares = _contender_shares(contender, low, upper, top, most)
    else:  # in groups of similar contender counts (the work grows with the count squared)
        shares = contender.astype(float) * (counts == 1)
        size = 2
        while size // 2 < most:
            group = np.flatnonzero((counts > size // 2) & (counts <= size) & (counts > 1))
            if group.size:
                shares[:, group] = _contender_shares(
                    contender[:, group], low[:, group], upper[:, group], top[group], size
                )
            size *= 2
    total = shares.sum(axis=0)
    if np.all(total > 0):
        return shares / total
    # Pieces where nobody can send get no shares.
    even = can_send / np.maximum(can_send.sum(axis=0), 1)
    return np.where(total > 0, shares / np.where(total > 0, total, 1.0), even)


def _contender_shares(
    contender: np.ndarray, low: np.ndarray, high: np.ndarray, top: np.ndarray, size: int
) -> np.ndarray:
    """:func:`pf_shares` on pieces with at most ``size`` contenders [(n, m) unnormalised]."""
    users = contender.shape[0]
    compact = 2 * size < users  # gather the contenders first when they are few
    if compact:
        order = np.argsort(~contender, axis=0, kind="stable")[:size]  # (K, m)
        picked = np.take_along_axis(contender, order, axis=0)
        low = np.take_along_axis(low, order, axis=0)
        high = np.take_along_axis(high, order, axis=0)
    else:
        picked = contender
    # Padding (not a contender): an atom far below, whose CDF is 1 above top.
    lo = np.where(picked, low, -2.0).T  # (m, K)
    hi = np.where(picked, high, -1.0).T
    inverse_width = 1.0 / (hi - lo)
    ends = np.sort(np.concatenate((top[:, None], np.maximum(hi, top[:, None])), axis=1))
    left, length = ends[:, :-1], np.diff(ends, axis=1)  # (m, K) intervals above top
    u = left[:, :, None] + 0.5 * length[:, :, None] * (_GAUSS_U + 1.0)  # (m, K, q)
    cdf = (u[..., None] - lo[:, None, None, :]) * inverse_width[:, None, None, :]
    inside = (cdf > 0.0) & (cdf < 1.0)  # u inside the user's atom: its density is there
    np.clip(cdf, 0.0, 1.0, out=cdf)  # (m, K, q, K)
    everyone = cdf.prod(axis=-1)  # (m, K, q)
    others = np.divide(everyone[..., None], cdf, out=np.zeros_like(cdf), where=inside)
    weight = (0.5 * length)[:, :, None] * _GAUSS_W  # (m, K, q)
    won = np.einsum("mlq,mlqk->km", weight, others) * inverse_width.T  # (K, m)
    won[~picked] = 0.0
    if not compact:
        return won
    shares = np.zeros((users, contender.shape[1]))
    np.put_along_axis(shares, order, won, axis=0)
    return shares
