"""A shared cell: the uplink transfers active in one cell split its air time.

Each device's capacity c_i(t) is what it would get alone in the cell. With n
transfers active, transfer i progresses at f(n) c_i(t):

* ``round_robin``: equal time shares, f(n) = 1/n;
* ``proportional_fair``: PF also gives n backlogged users with i.i.d.
  normalised fading 1/n of the time each (Jalali, Padovani & Pankaj, VTC 2000;
  Viswanath, Tse & Laroia, IEEE Trans. IT 2002), but serves each near its own
  fading peaks, raising its rate while scheduled by the multiuser-diversity
  gain G(n) = E[log2(1 + rho M_n)] / E[log2(1 + rho X)], X ~ Exp(1) (Rayleigh
  power), M_n the largest of n such draws, rho = ``pf_mean_snr_db``. So
  f(n) = G(n)/n. This treats c_i(t) as the rate averaged over fast fading.

The share changes only when a transfer starts or ends, so between those
events each transfer's finish time is one integration of its own capacity:
finish times are recomputed at starts and ends only, never per slot. Only the
earliest matters: a transfer with r bits left cannot end before
r / (share x c_max) from now (c_max: its capacity's top rate), so finish times
are computed in the order of that bound until the bound passes the earliest
finish found (a loaded cell with tens of transfers computes a few).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import simpy
from scipy import integrate

from sim.channel.capacity import Capacity

Scheduler = Literal["round_robin", "proportional_fair"]


def multiuser_diversity_gain(users: int, mean_snr_db: float) -> float:
    """G(n): mean Shannon rate of the best of n Rayleigh users over one user's [ratio]."""
    if users <= 1:
        return 1.0
    rho = 10.0 ** (mean_snr_db / 10.0)

    def rate(x: float) -> float:
        return math.log2(1.0 + rho * x)

    def best_pdf(x: float) -> float:
        return users * math.exp(-x) * (1.0 - math.exp(-x)) ** (users - 1)

    best, _ = integrate.quad(lambda x: rate(x) * best_pdf(x), 0.0, np.inf, limit=200)
    single, _ = integrate.quad(lambda x: rate(x) * math.exp(-x), 0.0, np.inf, limit=200)
    return best / single


class _Active:
    __slots__ = (
        "capacity",
        "cum_bits",
        "deadline_s",
        "inverse_max_rate",
        "on_done",
        "remaining_bits",
        "total_bits",
    )

    def __init__(
        self, capacity: Capacity, bits: float, deadline_s: float, on_done, now_s: float
    ) -> None:
        self.capacity = capacity
        self.remaining_bits = bits
        self.total_bits = bits
        self.deadline_s = deadline_s
        self.on_done = on_done
        self.cum_bits = capacity.bits_until(now_s)  # ∫ c up to the last update [bit]
        top = capacity.max_rate_bps()
        self.inverse_max_rate = 1.0 / top if top else 0.0  # [s/bit]; 0: no bound known


class SharedCell:
    """Time-share scheduler of the transfers active in one cell (see module doc)."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        scheduler: Scheduler = "round_robin",
        pf_mean_snr_db: float = 10.0,
    ) -> None:
        self.env = env
        self.name = name
        self.scheduler = scheduler
        self.pf_mean_snr_db = pf_mean_snr_db
        self.active: dict[int, _Active] = {}
        self._last_s = 0.0
        self._version = 0
        self._gains: dict[int, float] = {}
        self.max_concurrent = 0

    def share(self, n: int) -> float:
        """f(n): the fraction of its own capacity each of n active transfers gets."""
        if n <= 1:
            return 1.0
        if self.scheduler == "round_robin":
            return 1.0 / n
        gain = self._gains.get(n)
        if gain is None:
            gain = self._gains[n] = multiuser_diversity_gain(n, self.pf_mean_snr_db)
        return gain / n

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
        self.active[key] = _Active(capacity, bits, deadline_s, on_done, self.env.now)
        self.max_concurrent = max(self.max_concurrent, len(self.active))
        self._reschedule()

    def _advance(self) -> None:
        now = self.env.now
        n = len(self.active)
        if n and now > self._last_s:
            share = self.share(n)
            for item in self.active.values():
                # Mid-transfer: extend the capacity contiguously, never skip.
                cum = item.capacity.bits_until_contiguous(now)
                item.remaining_bits -= (cum - item.cum_bits) * share
                item.cum_bits = cum
        self._last_s = now

    def _reschedule(self) -> None:
        self._version += 1
        n = len(self.active)
        if not n:
            return
        now = self.env.now
        share = self.share(n)
        soonest = min(item.deadline_s for item in self.active.values())
        # Lower bounds on the finish times [s after now], smallest first.
        bounds = sorted(
            (max(item.remaining_bits, 0.0) * item.inverse_max_rate / share, i, item)
            for i, item in enumerate(self.active.values())
        )
        for bound, _, item in bounds:
            if now + bound > soonest:
                break  # this transfer and all after it end later than one already found
            # item.cum_bits is the integral at now (_advance just ran): reach it plus the rest.
            target = item.cum_bits + max(item.remaining_bits, 0.0) / share
            soonest = min(soonest, item.capacity.time_to_reach(target, now))
        if math.isinf(soonest):
            return
        version = self._version
        timer = self.env.timeout(max(soonest - now, 0.0))
        timer.callbacks.append(lambda _event: self._on_timer(version))

    def _on_timer(self, version: int) -> None:
        if version != self._version:
            return  # superseded by a later start or end
        self._advance()
        now = self.env.now
        finished = []
        for key, item in self.active.items():
            tolerance = 1e-9 * item.total_bits + 1e-6
            if item.remaining_bits <= tolerance:
                finished.append((key, True))
            elif now >= item.deadline_s:
                finished.append((key, False))
        for key, ok in finished:
            item = self.active.pop(key)
            sent = item.total_bits if ok else item.total_bits - max(item.remaining_bits, 0.0)
            item.on_done(now, ok, sent)
        self._reschedule()
