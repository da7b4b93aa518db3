"""Test oracles for a shared cell, written apart from sim/channel/shared.py.

* :func:`pf_slots`: a slot-level proportional-fair scheduler. Every TTI (1 ms)
  each backlogged user has its own instantaneous rate (its own fading draw
  through the rate mapping, cap included: the caller's per-TTI rate table);
  PF serves the one with the largest r_i(t) / R_i(t), R_i an exponentially
  weighted average of what it was served (time constant ``tc_slots`` TTIs,
  Jalali, Padovani & Pankaj, VTC 2000), updated for every backlogged user
  every TTI. A user that finishes mid-TTI leaves the rest of it unused (as a
  real TTI is granted whole).
* :func:`round_robin_fluid`: equal air time for the backlogged users, walked
  TTI by TTI with exact finishes inside a TTI (the fluid round robin the fast
  model claims to be exactly).

Both take ``rates_bps`` [(users, slots)], ``start_slot`` [(users,)] and
``bits`` [(users,)], and return finish times [s] and the bits the cell
delivered in each slot.
"""

from __future__ import annotations

import numpy as np


def pf_slots(
    rates_bps: np.ndarray,
    start_slot: np.ndarray,
    bits: np.ndarray,
    tti_s: float = 1e-3,
    tc_slots: float = 100.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Slot-level PF (module doc): (finish time of each user [s], cell bits per slot)."""
    users, slots = rates_bps.shape
    remaining = np.asarray(bits, dtype=float).copy()
    finish = np.full(users, np.inf)
    average = np.full(users, np.nan)  # R_i [bit/s]; set when the user first has data
    delivered = np.zeros(slots)
    alpha = 1.0 / tc_slots
    for t in range(slots):
        backlogged = (start_slot <= t) & (remaining > 0)
        if not backlogged.any():
            if np.all(remaining <= 0):
                break
            continue
        rate = rates_bps[:, t]
        new = backlogged & np.isnan(average)
        # A newcomer's average starts at an equal share of its current rate: neither
        # starved (average = its whole rate) nor favoured (average ~ 0) while it settles.
        average[new] = np.maximum(rate[new] / backlogged.sum(), 1.0)
        metric = np.where(backlogged & (rate > 0), rate / average, -1.0)
        served = np.zeros(users)
        best = int(np.argmax(metric))
        if metric[best] > 0:
            sent = min(rate[best] * tti_s, remaining[best])
            remaining[best] -= sent
            served[best] = sent / tti_s
            delivered[t] = sent
            if remaining[best] <= 0:
                finish[best] = t * tti_s + sent / rate[best]
        average[backlogged] = (1 - alpha) * average[backlogged] + alpha * served[backlogged]
    return finish, delivered


def round_robin_fluid(
    rates_bps: np.ndarray, start_slot: np.ndarray, bits: np.ndarray, tti_s: float = 1e-3
) -> tuple[np.ndarray, np.ndarray]:
    """Equal air time among backlogged users, exact finishes inside a slot."""
    users, slots = rates_bps.shape
    remaining = np.asarray(bits, dtype=float).copy()
    finish = np.full(users, np.inf)
    delivered = np.zeros(slots)
    for t in range(slots):
        clock = t * tti_s
        slot_end = clock + tti_s
        while clock < slot_end - 1e-15:
            active = [
                k
                for k in range(users)
                if start_slot[k] <= t and remaining[k] > 0 and rates_bps[k, t] > 0
            ]
            waiting = [k for k in range(users) if start_slot[k] <= t and remaining[k] > 0]
            if not waiting:
                break
            n = len(waiting)  # zero-rate users still hold their share of the air time
            if not active:
                break
            # Time until the first active user finishes at rate r / n.
            times = {k: remaining[k] * n / rates_bps[k, t] for k in active}
            step = min(min(times.values()), slot_end - clock)
            for k in active:
                sent = rates_bps[k, t] / n * step
                remaining[k] -= sent
                delivered[t] += sent
                if times[k] <= step * (1 + 1e-12):
                    remaining[k] = 0.0
                    finish[k] = clock + step
            clock += step
        if np.all(remaining <= 0):
            break
    return finish, delivered
