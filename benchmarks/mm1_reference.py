"""The yardstick: a minimal SimPy M/M/1 (one Resource, one process per job, numpy draws)."""

from __future__ import annotations

import time

import numpy as np
import simpy

from benchmarks.measure import Timed


def mm1_jobs_per_second(jobs: int = 200_000, rho: float = 0.8, seed: int = 1) -> float:
    """Simulated jobs per wall-clock second of the plainest SimPy M/M/1 model."""
    return mm1_run(jobs, rho, seed)[0]


def mm1_run(jobs: int, rho: float = 0.8, seed: int = 1) -> tuple[float, np.ndarray]:
    """(jobs per wall-clock second, each job's wait in queue [s]) of the yardstick M/M/1
    (service rate 1/s, arrival rate ``rho``/s)."""
    timing, waits, _ = mm1_timed(jobs, rho, seed)
    return jobs / timing.wall_s, waits


def mm1_timed(jobs: int, rho: float = 0.8, seed: int = 1) -> tuple[Timed, np.ndarray, np.ndarray]:
    """The yardstick's CPU and wall seconds for ``jobs`` jobs (the draws are made before the
    clock starts), each job's wait in queue [s] and its service time [s]."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1.0 / rho, size=jobs)
    services = rng.exponential(1.0, size=jobs)
    env = simpy.Environment()
    server = simpy.Resource(env, capacity=1)
    waits = np.empty(jobs)

    def job(i: int):
        arrived = env.now
        with server.request() as request:
            yield request
            waits[i] = env.now - arrived
            yield env.timeout(services[i])

    def source():
        for i in range(jobs):
            yield env.timeout(gaps[i])
            env.process(job(i))

    env.process(source())
    cpu, wall = time.process_time(), time.perf_counter()
    env.run()
    return Timed(time.process_time() - cpu, time.perf_counter() - wall), waits, services
