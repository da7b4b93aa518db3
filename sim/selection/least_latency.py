"""Least predicted latency: the candidate minimising network + queue + service time.

For a request of plan ``p`` placed on server ``s`` that shows ``q`` jobs on the
board (waiting or in service), with ``W`` workers and batches of at most ``B``:

    predicted = to_server(p, s) + ceil((q + 1) / (W B)) x S_s(min(B, q + 1))
                [+ max_wait_s when q + 1 < B: a partial batch waits its window]
                + way_back(p, s)                                           [s]

``S_s`` is the plan's server part on ``s``'s profile (:mod:`sim.profiles.service`):
the job joins the batch after the q ahead of it, and each round of W batches
takes S(b). Exact in mean for one worker, batch 1 and exponential service
(memoryless: (q + 1) S). The uplink is not in the sum: the server is chosen when
the payload leaves the device, so the upload is behind it and the same for every
server. Background tenants count in ``q`` but are served at this plan's S (an
approximation).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.selection.base import RouteOf, Selector, least

if TYPE_CHECKING:
    import numpy as np

    from sim.plans import Plan
    from sim.server import EdgeServer


def predicted_server_s(server: EdgeServer, part: str, jobs: int) -> float:
    """Predicted queue wait + service at ``server`` for a job that finds ``jobs`` there [s]."""
    batch = server.max_batch
    workers = server.config.workers
    rounds = math.ceil((jobs + 1) / (workers * batch))
    time = rounds * server.services[part].service_s(min(batch, jobs + 1))
    if jobs + 1 < batch:
        time += server.max_wait_s
    return time


class LeastLatency(Selector):
    reads_load = True

    def choose(
        self, cell: str, now_s: float, plan: Plan, route_of: RouteOf, rng: np.random.Generator
    ) -> EdgeServer:
        assert self.board is not None and plan.server is not None
        servers = self.candidates[cell]
        part = plan.server.key
        keys = []
        for server, jobs in zip(servers, self.board.loads(servers), strict=True):
            route = route_of(server)
            keys.append(route.to_server_s + predicted_server_s(server, part, jobs) + route.back_s)
        return least(servers, keys, rng)
