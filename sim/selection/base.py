"""What every selection policy shares: candidates per cell, uniform tie-breaking, the interface."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from sim.plans import Plan
    from sim.routing import Route
    from sim.scenario.schema import Selection
    from sim.selection.board import LoadBoard
    from sim.server import EdgeServer

RouteOf = Callable[["EdgeServer"], "Route"]
"""The route of the request being placed to a candidate server."""


def least(
    servers: Sequence[EdgeServer], keys: Sequence[float], rng: np.random.Generator
) -> EdgeServer:
    """The server of least key; ties broken uniformly at random (one draw, only on a tie)."""
    low = min(keys)
    first = keys.index(low)
    if keys.count(low) == 1:
        return servers[first]
    ties = [i for i, k in enumerate(keys) if k == low]
    return servers[ties[int(rng.integers(len(ties)))]]


class Selector:
    """One device group's server selection (one dispatcher for the group).

    ``candidates`` maps a cell to the servers reachable from it (and allowed by
    ``selection.servers``), nearest first. ``static`` policies know each cell's server
    before the run and draw no random numbers; the engine then places requests
    exactly as it did before server selection existed.
    """

    static = False
    reads_load = False

    def __init__(
        self,
        config: Selection,
        candidates: dict[str, tuple[EdgeServer, ...]],
        board: LoadBoard | None,
    ) -> None:
        self.config = config
        self.candidates = candidates
        self.board = board

    def static_server(self, cell: str) -> EdgeServer | None:
        """The server every request from ``cell`` goes to, if known before the run."""
        return None

    def choose(
        self, cell: str, now_s: float, plan: Plan, route_of: RouteOf, rng: np.random.Generator
    ) -> EdgeServer:
        """The server of a request whose payload leaves ``cell`` at ``now_s`` [s]."""
        raise NotImplementedError
