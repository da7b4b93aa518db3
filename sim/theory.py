"""Closed forms the simulator is validated against (queueing theory, Little's law).

Sources: Kleinrock, *Queueing Systems* Vol. 1 (1975): M/M/1 §3.2, M/G/1
Pollaczek-Khinchine mean value §5.6, M/M/c Erlang C §3.5; Little (1961).
"""

from __future__ import annotations

import math

import numpy as np


def _check(arrival_rate: float, service_rate: float, servers: int = 1) -> float:
    rho = arrival_rate / (servers * service_rate)
    if not 0 < rho < 1:
        raise ValueError(f"unstable or empty queue: utilisation {rho:.3f} must be in (0, 1)")
    return rho


def pollaczek_khinchine_wait_s(rho: float, rate_second_moment_s: float) -> float:
    """Mean time in queue of M/G/1 [s] (Pollaczek-Khinchine): lambda E[S^2] / (2 (1 - rho)).

    ``rho`` = lambda E[S]; ``rate_second_moment_s`` = lambda E[S^2] [s] (for a
    mixture of job classes, the sum over classes). Utilisation 1 or more: inf.
    The one place this formula lives (the policies' cost model uses it too).
    """
    if rho >= 1.0:
        return math.inf
    return rate_second_moment_s / (2.0 * (1.0 - rho))


def mm1_wait_s(arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue (before service) of M/M/1 [s]: rho / (mu - lambda)."""
    rho = _check(arrival_rate, service_rate)
    return rho / (service_rate - arrival_rate)


def md1_wait_s(arrival_rate: float, service_rate: float) -> float:
    """Mean time in queue of M/D/1 [s]: rho / (2 mu (1 - rho))."""
    rho = _check(arrival_rate, service_rate)
    return pollaczek_khinchine_wait_s(rho, rho / service_rate)  # E[S^2] = 1/mu^2


def mg1_wait_s(arrival_rate: float, mean_service_s: float, second_moment_s2: float) -> float:
    """Pollaczek-Khinchine mean time in queue of M/G/1 [s]: lambda E[S^2] / (2 (1 - rho))."""
    rho = _check(arrival_rate, 1.0 / mean_service_s)
    return pollaczek_khinchine_wait_s(rho, arrival_rate * second_moment_s2)


def erlang_c(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Probability that an arrival waits in M/M/c (Erlang C)."""
    rho = _check(arrival_rate, service_rate, servers)
    a = arrival_rate / service_rate
    terms = sum(a**k / math.factorial(k) for k in range(servers))
    top = a**servers / (math.factorial(servers) * (1.0 - rho))
    return top / (terms + top)


def mmc_wait_s(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean time in queue of M/M/c [s]: C(c, a) / (c mu - lambda)."""
    return erlang_c(arrival_rate, service_rate, servers) / (servers * service_rate - arrival_rate)


def time_average_in_system(
    arrivals_s: np.ndarray, departures_s: np.ndarray, start_s: float, end_s: float
) -> float:
    """Time-average number of requests present in [start_s, end_s] (L of Little's law).

    Computed by sweeping +1/-1 events, independently of the sojourn times.
    """
    times = np.concatenate([arrivals_s, departures_s])
    steps = np.concatenate([np.ones(arrivals_s.size), -np.ones(departures_s.size)])
    order = np.argsort(times, kind="stable")
    times, steps = times[order], steps[order]
    count = np.cumsum(steps)
    # Number present on [times[i], times[i+1]) is count[i]; clip the intervals to the window.
    left = np.clip(times, start_s, end_s)
    right = np.clip(np.concatenate([times[1:], [end_s]]), start_s, end_s)
    return float(np.sum(count * (right - left)) / (end_s - start_s))
