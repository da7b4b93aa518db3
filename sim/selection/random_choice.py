"""Random assignment: a candidate drawn uniformly per request (each of N servers an
M/M/1 queue at rate lambda under Poisson arrivals: s_i = lambda^i, T = 1/(1 - lambda))."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.selection.base import RouteOf, Selector

if TYPE_CHECKING:
    import numpy as np

    from sim.plans import Plan
    from sim.server import EdgeServer


class RandomChoice(Selector):
    def choose(
        self, cell: str, now_s: float, plan: Plan, route_of: RouteOf, rng: np.random.Generator
    ) -> EdgeServer:
        servers = self.candidates[cell]
        return servers[int(rng.integers(len(servers)))]
