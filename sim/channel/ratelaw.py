"""The law of a device's rate over its fast fading: where its current rate ranks.

A proportional-fair scheduler serves, among the backlogged users, the one whose
rate is highest *relative to its own usual rate* (Jalali, Padovani & Pankaj,
VTC 2000). With fast fading and a long averaging window this is, to first
order, the user whose current rate sits highest in its own distribution: the
CDF (quantile) scheduler of Bonald (2004) and Park, Park & Lee (IEEE Trans.
Wireless Commun. 2005). :class:`RateLaw` holds that distribution for one
device; :func:`fading_rate_law` builds it from the device's mean link budget,
its fading law (Rayleigh, or Rician with its K when LOS) and the link's own
SINR -> rate mapping, cap included (the same function that makes its capacity),
mixed over blockage with the blockage chain's stationary probabilities.

A rate maps to its quantile *atom* [F(r-), F(r)]: a CQI level holds a whole
interval of the fading law (a continuous mapping, sampled at QUANTILE_POINTS
quantiles, a narrow one).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.channel.fading import fading_power_quantile

QUANTILE_POINTS = 512  # fading-power quantiles per blockage state (midpoint rule)


@dataclass(frozen=True)
class RateLaw:
    """A discrete rate distribution: sorted distinct rates [bit/s] and F at each."""

    rates_bps: np.ndarray  # sorted, distinct
    cdf: np.ndarray  # P(rate <= rates_bps[k])

    @property
    def cdf_below(self) -> np.ndarray:
        """P(rate < rates_bps[k])."""
        return np.concatenate(([0.0], self.cdf[:-1]))

    def mean_bps(self) -> float:
        return float(np.dot(self.rates_bps, np.diff(self.cdf, prepend=0.0)))

    def atoms(self, rate_bps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each rate's quantile atom [F(r-), F(r)] (lower, upper; each [0..1]).

        A rate between two of the law's values (a continuous mapping sampled at
        ``QUANTILE_POINTS``) gets the atom of the value below it, so every atom
        has a width.
        """
        rate_bps = np.asarray(rate_bps, dtype=float)
        padded = np.concatenate(([0.0], self.cdf))
        above = self.rates_bps.searchsorted(rate_bps, side="right")  # values <= r
        below = self.rates_bps.searchsorted(rate_bps, side="left")  # values < r
        inside = above == below  # not one of the law's values
        below = np.where(inside, np.maximum(below - 1, 0), below)
        above = np.where(inside, np.maximum(above, 1), above)
        return padded[below], padded[above]


def fading_rate_law(
    budget_dbm: float,
    k_linear: float | None,
    rates_of: Callable[[float, np.ndarray, np.ndarray | None], np.ndarray],
    blockage: tuple[float, float] | None = None,
) -> RateLaw:
    """Rate law of a device whose received power without fast fading is ``budget_dbm``.

    ``rates_of(budget_dbm, gain, blockage_db)`` is the link's own mapping from a
    link budget [dBm], fading power gains [1] and blockage loss [dB] to rates
    [bit/s] (cap included). ``k_linear``: Rician K (None: Rayleigh).
    ``blockage``: (stationary probability of being blocked, loss [dB]).
    """
    q = (np.arange(QUANTILE_POINTS) + 0.5) / QUANTILE_POINTS
    gain = fading_power_quantile(q, k_linear)
    states = [(1.0, None)] if blockage is None else [(1.0 - blockage[0], 0.0), blockage]
    values, weights = [], []
    for probability, loss_db in states:
        if probability <= 0.0:
            continue
        loss = None if loss_db is None else np.full(q.size, float(loss_db))
        values.append(np.asarray(rates_of(budget_dbm, gain, loss), dtype=float))
        weights.append(np.full(q.size, probability / q.size))
    all_rates = np.concatenate(values)
    all_weights = np.concatenate(weights)
    rates, inverse = np.unique(all_rates, return_inverse=True)
    mass = np.bincount(inverse, weights=all_weights, minlength=rates.size)
    cdf = np.cumsum(mass)
    return RateLaw(rates, cdf / cdf[-1])
