"""Join the shortest queue: the candidate with the fewest jobs on the board (ties uniform).

With live information JSQ's delay vanishes as N grows (van der Boor et al.,
arXiv 1806.05444); on a stale board every dispatcher sends to the same
apparently empty servers until the next report (herding; Mitzenmacher 2000).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.selection.base import RouteOf, Selector, least

if TYPE_CHECKING:
    import numpy as np

    from sim.plans import Plan
    from sim.server import EdgeServer


class ShortestQueue(Selector):
    reads_load = True

    def choose(
        self, cell: str, now_s: float, plan: Plan, route_of: RouteOf, rng: np.random.Generator
    ) -> EdgeServer:
        assert self.board is not None
        servers = self.candidates[cell]
        return least(servers, self.board.loads(servers), rng)
