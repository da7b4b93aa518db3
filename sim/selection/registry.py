"""Selection policy name -> class, and the run's selectors (one per device group)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.selection.base import Selector
from sim.selection.board import LoadBoard
from sim.selection.jsq import ShortestQueue
from sim.selection.least_latency import LeastLatency
from sim.selection.power_of_d import PowerOfD
from sim.selection.random_choice import RandomChoice
from sim.selection.round_robin import RoundRobin
from sim.selection.static import Fixed, Nearest

if TYPE_CHECKING:
    import simpy

    from sim.scenario.model import GroupRuntime
    from sim.server import EdgeServer

SELECTORS: dict[str, type[Selector]] = {
    "fixed": Fixed,
    "nearest": Nearest,
    "random": RandomChoice,
    "round_robin": RoundRobin,
    "jsq": ShortestQueue,
    "power_of_d": PowerOfD,
    "least_latency": LeastLatency,
}


def build_selectors(
    env: simpy.Environment,
    groups: tuple[GroupRuntime, ...],
    servers: dict[str, EdgeServer],
) -> list[Selector]:
    """One selector per group; groups reading the load at one report interval share a board."""
    ordered = sorted(servers.values(), key=lambda s: s.index)
    boards: dict[float, LoadBoard] = {}
    selectors: list[Selector] = []
    for group in groups:
        config = group.selection
        cls = SELECTORS[config.policy]
        board = None
        if cls.reads_load:
            interval = config.report_interval_s
            board = boards.get(interval)
            if board is None:
                board = boards[interval] = LoadBoard(env, ordered, interval)
        candidates = {
            cell: tuple(servers[name] for name in names) for cell, names in group.candidates.items()
        }
        selectors.append(cls(config, candidates, board))
    return selectors
