"""Background tenants: other users' jobs arriving at the servers as Poisson streams.

Each ``servers[].background`` entry is a Poisson stream of one model part; its
arrival times are drawn up front from the stream ``background/<server>/<i>``
(never named by strategy) and replayed by one SimPy process. Each job gets a
row of the run's background table (sim/collect.py's ``BACKGROUND_COLUMNS``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.collect import COMPLETED, DROPPED
from sim.server import Job

if TYPE_CHECKING:
    import simpy

    from sim.records import Table
    from sim.rng import RandomStreams
    from sim.scenario.model import Scenario
    from sim.server import EdgeServer


def start_background(
    env: simpy.Environment,
    scenario: Scenario,
    servers: dict[str, EdgeServer],
    streams: RandomStreams,
    table: Table,
) -> None:
    """Draw every background stream's arrival times and start the processes replaying them."""
    duration = scenario.spec.duration_s
    for config in scenario.spec.servers:
        server = servers[config.name]
        for i, load in enumerate(config.background):
            rng = streams(f"background/{config.name}/{i}")
            count = rng.poisson(load.rate_hz * duration)
            times = np.sort(rng.uniform(0.0, duration, size=count))
            env.process(_arrivals(env, server, load.part, times, table))


def _arrivals(
    env: simpy.Environment, server: EdgeServer, part: str, times: np.ndarray, table: Table
):
    server_code = table.code("server", server.config.name)
    part_code = table.code("part", part)
    cols = table.columns

    def done(job: Job) -> None:
        cols = table.columns
        cols["t_service_start"][job.row] = job.start_s
        cols["t_service_end"][job.row] = job.end_s
        cols["batch_size"][job.row] = job.batch_size
        cols["outcome"][job.row] = COMPLETED

    for t in times:
        if t > env.now:
            yield env.timeout(t - env.now)
        row = table.new_row()
        cols = table.columns
        cols["server"][row] = server_code
        cols["part"][row] = part_code
        cols["t_arrival"][row] = env.now
        job = Job(part, env.now, done, row)
        if not server.submit(job):
            cols["outcome"][row] = DROPPED
