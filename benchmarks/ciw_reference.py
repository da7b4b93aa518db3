"""The second peer yardstick: Ciw's M/M/1 (ciw.readthedocs.io), same rates and jobs as SimPy's.

Ciw is an optional dependency (the ``dev`` extra); :func:`ciw_mm1` returns ``None``
with the reason when it is not installed.
"""

from __future__ import annotations

import time

import numpy as np


def ciw_missing() -> str | None:
    """Why the Ciw row cannot run (None when it can)."""
    try:
        import ciw  # noqa: F401
    except ImportError:
        return "ciw is not installed (pip install -e '.[dev]' or pip install ciw)"
    return None


def ciw_mm1(jobs: int, rho: float = 0.8, seed: int = 1) -> dict | None:
    """Ciw's M/M/1 with arrival rate ``rho``/s and service rate 1/s, run until ``jobs``
    jobs have finished: CPU and wall seconds, jobs per CPU second, and each finished
    job's time in system [s] (waiting plus service), in order of arrival."""
    if ciw_missing():
        return None
    import ciw

    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=rho)],
        service_distributions=[ciw.dists.Exponential(rate=1.0)],
        number_of_servers=[1],
    )
    simulation = ciw.Simulation(network)
    cpu, wall = time.process_time(), time.perf_counter()
    simulation.simulate_until_max_customers(jobs, method="Finish")
    cpu_s, wall_s = time.process_time() - cpu, time.perf_counter() - wall
    records = sorted(simulation.get_all_records(), key=lambda r: r.arrival_date)
    sojourn = np.array([r.exit_date - r.arrival_date for r in records])
    return {
        "jobs": len(records),
        "cpu_s": cpu_s,
        "wall_s": wall_s,
        "jobs_per_cpu_s": len(records) / cpu_s,
        "sojourn_s": sojourn,
    }


def batch_means(values: np.ndarray, batches: int = 20) -> tuple[float, float]:
    """Mean of ``values`` after a 10 % warm-up, and the half-width of its 95 % batch-means
    interval (``batches`` batches, Student t)."""
    from scipy import stats

    kept = values[len(values) // 10 :]
    kept = kept[: len(kept) - len(kept) % batches]
    means = kept.reshape(batches, -1).mean(axis=1)
    half = float(stats.t.ppf(0.975, batches - 1) * means.std(ddof=1) / batches**0.5)
    return float(means.mean()), half
