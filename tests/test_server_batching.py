"""Dynamic batching with deterministic arrivals and service: batches and waits by hand."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from sim.profiles.service import HingeFit, PowerCurve, ServiceModel
from sim.records import Table
from sim.scenario.schema import ServerConfig
from sim.server import BATCH_COLUMNS, EdgeServer, Job


def service(fixed_s: float, per_item_s: float) -> ServiceModel:
    return ServiceModel(
        "m/full",
        HingeFit(fixed_s, per_item_s, 0.0, 0.0, 0.0),
        1.0,
        PowerCurve((1,), (100.0,)),
        "assumed",
        "test",
    )


def run_server(arrivals, *, max_batch, max_wait_s, workers=1, capacity=None, parts=None):
    env = simpy.Environment()
    config = ServerConfig(
        name="s",
        node="n",
        profile="x",
        workers=workers,
        queue_capacity=capacity,
        batching={"max_batch": max_batch, "max_wait_s": max_wait_s},
    )
    batches = Table(dict(BATCH_COLUMNS))
    services = {"m/full": service(0.005, 0.001), "m/other": service(0.002, 0.0)}
    server = EdgeServer(
        env, 0, config, services, np.random.default_rng(0), batches, 50.0, (0.0, 1e9)
    )
    jobs, accepted = [], []

    def source():
        for i, t in enumerate(arrivals):
            yield env.timeout(t - env.now)
            job = Job((parts or {}).get(i, "m/full"), env.now, lambda j: None, i)
            jobs.append(job)
            accepted.append(server.submit(job))

    env.process(source())
    env.run()
    return jobs, accepted, batches.frame(), server


def test_batches_fill_or_time_out():
    # S(b) = 5 ms + 1 ms x b, max_batch 3, max_wait 10 ms.
    arrivals = [0.000, 0.002, 0.004, 0.006, 0.020, 0.021, 0.023]
    jobs, _, batches, _ = run_server(arrivals, max_batch=3, max_wait_s=0.010)
    starts = [j.start_s for j in jobs]
    sizes = [j.batch_size for j in jobs]
    # Jobs 0-2 fill a batch at 0.004 -> runs 8 ms to 0.012.
    # Job 3 (arrived 0.006) times out at 0.016 (worker free since 0.012): batch of 1, ends 0.022.
    # Jobs 4-6: job 6 at 0.023 makes 3 waiting and the worker is free since 0.022 -> start 0.023.
    assert starts == pytest.approx([0.004, 0.004, 0.004, 0.016, 0.023, 0.023, 0.023])
    assert sizes == [3, 3, 3, 1, 3, 3, 3]
    assert [j.end_s for j in jobs] == pytest.approx([0.012] * 3 + [0.022] + [0.031] * 3)
    assert batches["size"].tolist() == [3, 1, 3]
    assert batches["energy_j"].tolist() == pytest.approx([100 * 0.008, 100 * 0.006, 100 * 0.008])


def test_no_wait_dispatches_immediately_and_queue_bound_drops():
    arrivals = [0.0, 0.001, 0.002, 0.003, 0.004]
    jobs, accepted, _, server = run_server(arrivals, max_batch=4, max_wait_s=0.0, capacity=2)
    # Job 0 starts alone at 0 (S(1) = 6 ms). Jobs 1 and 2 wait; job 3 finds 2 waiting: dropped,
    # and so is job 4. At 0.006 jobs 1-2 start together.
    assert accepted == [True, True, True, False, False]
    assert server.dropped == 2
    assert [j.start_s for j in jobs[:3]] == pytest.approx([0.0, 0.006, 0.006])
    assert [j.batch_size for j in jobs[:3]] == [1, 2, 2]


def test_parts_batch_separately_oldest_first_and_workers_in_parallel():
    arrivals = [0.0, 0.0005, 0.001]
    parts = {1: "m/other"}
    jobs, _, batches, _ = run_server(arrivals, max_batch=2, max_wait_s=0.0, workers=2, parts=parts)
    # Worker 0 takes job 0 (m/full) at 0; worker 1 takes job 1 (m/other) at 0.0005; job 2 waits
    # for worker 1 (free at 0.0025) since worker 0 is busy until 0.006.
    assert [j.start_s for j in jobs] == pytest.approx([0.0, 0.0005, 0.0025])
    assert batches["worker"].tolist() == [0, 1, 1]
    assert max(batches.groupby("t_start").size()) == 1
