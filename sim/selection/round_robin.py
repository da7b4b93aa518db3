"""Round robin: the group's requests go to its candidates in turn (one dispatcher per group,
per cell; Kleinrock, Queueing Systems Vol. 1, section 6.4: each of N servers sees Erlang-N gaps)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.selection.base import RouteOf, Selector

if TYPE_CHECKING:
    import numpy as np

    from sim.plans import Plan
    from sim.server import EdgeServer


class RoundRobin(Selector):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._next: dict[str, int] = {}

    def choose(
        self, cell: str, now_s: float, plan: Plan, route_of: RouteOf, rng: np.random.Generator
    ) -> EdgeServer:
        servers = self.candidates[cell]
        i = self._next.get(cell, 0)
        self._next[cell] = (i + 1) % len(servers)
        return servers[i]
