"""Edge server: bounded FIFO queue, GPU workers, dynamic batching, background tenants.

Jobs of the same model part can share a batch. A free worker starts a batch
when ``max_batch`` jobs of one part wait, or when the oldest job of a part has
waited ``max_wait_s``; among eligible parts the one whose oldest job arrived
first goes first (FIFO across parts). A batch of b jobs occupies the worker
for S(b) x X, with S from the server profile and X a mean-one random factor
(deterministic, exponential, gamma or lognormal). Jobs that find
``queue_capacity`` jobs already waiting are dropped.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from sim.profiles.service import ServiceModel
from sim.records import ColumnKind, Table
from sim.scenario.schema import ServerConfig, ServiceVariability


@dataclass(slots=True)
class Job:
    """One inference job at the server. Times [s]."""

    part: str
    arrival_s: float
    on_done: Callable[[Job], None]
    row: int = -1  # request row (device jobs) or background row
    ctx: object = None  # the owner's context, handed back with the job
    start_s: float = math.nan
    end_s: float = math.nan
    batch_size: int = 0
    batch_id: int = -1
    queue_len_at_start: int = -1
    work_fraction: float = 1.0  # share of the part's work it needs (early exits; sim/exits/plan.py)


def variability_sampler(
    config: ServiceVariability, rng: np.random.Generator
) -> Callable[[], float]:
    """A function returning the mean-one service-time factor X."""
    if config.kind == "deterministic":
        return lambda: 1.0
    if config.kind == "exponential":
        return lambda: float(rng.exponential(1.0))
    cv = float(config.cv or 0.0)
    if config.kind == "gamma":
        shape = 1.0 / cv**2
        return lambda: float(rng.gamma(shape, 1.0 / shape))
    sigma2 = math.log1p(cv**2)
    mu = -sigma2 / 2.0
    sigma = math.sqrt(sigma2)
    return lambda: float(rng.lognormal(mu, sigma))


def variability_moments(config: ServiceVariability) -> tuple[float, float]:
    """(E[X], E[X^2]) of the service-time factor (for queueing formulas)."""
    if config.kind == "deterministic":
        return 1.0, 1.0
    if config.kind == "exponential":
        return 1.0, 2.0
    cv = float(config.cv or 0.0)
    return 1.0, 1.0 + cv**2


BATCH_COLUMNS: dict[str, ColumnKind] = {
    "server": np.int16,
    "worker": np.int16,
    "part": (),
    "size": np.int32,
    "t_start": np.float64,
    "t_end": np.float64,
    "energy_j": np.float64,
}


class EdgeServer:
    """A batching GPU server inside a SimPy environment."""

    def __init__(
        self,
        env: simpy.Environment,
        index: int,
        config: ServerConfig,
        services: dict[str, ServiceModel],
        rng: np.random.Generator,
        batches: Table | None,
        idle_w: float,
        window: tuple[float, float],
    ) -> None:
        self.env = env
        self.index = index
        self.config = config
        self.services = services
        self.batches = batches
        self.idle_w = idle_w
        self.max_batch = config.batching.max_batch
        self.max_wait_s = config.batching.max_wait_s
        self.capacity = config.queue_capacity if config.queue_capacity is not None else math.inf
        self._factor = variability_sampler(config.service_variability, rng)
        self._queues: dict[str, deque[Job]] = {}
        self.waiting = 0
        self.in_service = 0  # jobs in batches running now
        self.dropped = 0
        self.batch_count = 0
        self.window = window
        self.busy_window_s = 0.0  # worker-seconds busy inside the measurement window
        self.energy_window_j = 0.0  # batch energy inside the window (board power while busy)
        self._free_workers = list(range(config.workers))
        self._timer_at = math.inf

    @property
    def jobs(self) -> int:
        """Jobs at the server now: waiting plus in service (what a load balancer counts)."""
        return self.waiting + self.in_service

    def result_row(self) -> dict[str, Any]:
        """This server's totals inside the measurement window (sim/collect.py adds strategy
        and the cells' figures): utilisation per worker, batches, drops, busy and idle energy [J]."""
        workers = self.config.workers
        window_s = self.window[1] - self.window[0]
        busy = self.busy_window_s
        return {
            "server": self.config.name,
            "tier": self.config.tier,
            "workers": workers,
            "utilisation": busy / (workers * window_s) if window_s > 0 else float("nan"),
            "batches": self.batch_count,
            "dropped": self.dropped,
            "e_busy_j": self.energy_window_j,
            "e_idle_j": self.idle_w * max(0.0, workers * window_s - busy),  # a board per worker
        }

    # ------------------------------------------------------------------ arrivals
    def submit(self, job: Job) -> bool:
        """Enqueue ``job``; False (and nothing else happens) if the queue is full."""
        if self.waiting >= self.capacity:
            self.dropped += 1
            return False
        queue = self._queues.get(job.part)
        if queue is None:
            queue = self._queues[job.part] = deque()
        queue.append(job)
        self.waiting += 1
        self._dispatch()
        return True

    # ------------------------------------------------------------------ batching
    def _pick(self) -> tuple[str | None, float]:
        """(part to start now or None, earliest time a part becomes eligible)."""
        now = self.env.now
        best_part, best_arrival = None, math.inf
        next_ready = math.inf
        for part, queue in self._queues.items():
            if not queue:
                continue
            head = queue[0]
            ready_at = head.arrival_s + self.max_wait_s
            # 1e-12 s: arrival + max_wait can round a hair past the timeout event's time
            if len(queue) >= self.max_batch or ready_at <= now + 1e-12:
                if head.arrival_s < best_arrival:
                    best_part, best_arrival = part, head.arrival_s
            else:
                next_ready = min(next_ready, ready_at)
        return best_part, next_ready

    def _dispatch(self) -> None:
        while self._free_workers and self.waiting:
            part, next_ready = self._pick()
            if part is None:
                self._arm_timer(next_ready)
                return
            worker = self._free_workers.pop(0)
            self._start_batch(worker, part)

    def _arm_timer(self, at_s: float) -> None:
        if math.isinf(at_s) or at_s >= self._timer_at:
            return
        self._timer_at = at_s
        timer = self.env.timeout(max(at_s - self.env.now, 0.0))

        def fire(_event: simpy.Event, at: float = at_s) -> None:
            if self._timer_at == at:
                self._timer_at = math.inf
            self._dispatch()

        timer.callbacks.append(fire)

    def _start_batch(self, worker: int, part: str) -> None:
        queue = self._queues[part]
        size = min(self.max_batch, len(queue))
        jobs = [queue.popleft() for _ in range(size)]
        self.waiting -= size
        self.in_service += size
        service = self.services[part]
        # The batch runs until its deepest sample has exited (1 unless early exits).
        depth = max(job.work_fraction for job in jobs)
        duration = service.service_s(size) * self._factor() * depth
        now = self.env.now
        end = now + duration
        batch_id = self.batch_count
        self.batch_count += 1
        for job in jobs:
            job.start_s = now
            job.batch_size = size
            job.batch_id = batch_id
            job.queue_len_at_start = self.waiting
        energy = service.power_w(size) * duration
        if self.batches is not None:
            table = self.batches
            row = table.new_row()
            table.columns["server"][row] = self.index
            table.columns["worker"][row] = worker
            table.columns["part"][row] = table.code("part", part)
            table.columns["size"][row] = size
            table.columns["t_start"][row] = now
            table.columns["t_end"][row] = end
            table.columns["energy_j"][row] = energy
        inside = max(0.0, min(end, self.window[1]) - max(now, self.window[0]))
        self.busy_window_s += inside
        if duration > 0:
            self.energy_window_j += energy * inside / duration
        done = self.env.timeout(duration)
        done.callbacks.append(lambda _e: self._finish(worker, jobs, end, depth))

    def _finish(self, worker: int, jobs: list[Job], end_s: float, depth: float = 1.0) -> None:
        self.in_service -= len(jobs)
        for job in jobs:
            job.end_s = end_s
            if job.work_fraction < depth:  # left at an earlier exit of the batch
                job.end_s = job.start_s + (end_s - job.start_s) * job.work_fraction / depth
            job.on_done(job)
        self._free_workers.append(worker)
        self._free_workers.sort()
        self._dispatch()
