"""A run's wired and downlink legs: the backhaul's FIFO links and every device's downlink.

:class:`sim.routing.Router` plays a request's two legs through this when the
engine has attached one (``router.legs``):

* to the server: air propagation, then the payload's path over the backhaul
  (:class:`sim.backhaul.Backhaul`: FIFO per link direction where links queue),
  then the server's JPEG decode for an offload;
* the way back: the result's path the other way, air propagation, then the
  device's downlink (:class:`sim.channel.downlink.DeviceDownlink`: its capacity
  process, shared in a shared cell, with receive power).

A path with no queueing hop costs no event: its arrival is the same sum as
before (:meth:`sim.network.Path.delay_s`), bit for bit. The downlink takes a
result at its arrival in the cell, one event per result (its FIFO and a shared
cell need the order of arrivals).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path as PathLib
from typing import TYPE_CHECKING, Any

import simpy

from sim.backhaul import Backhaul
from sim.channel.downlink import (
    DeviceDownlink,
    DownlinkBuilder,
    DownlinkResult,
    resolve_downlink_traces,
)

if TYPE_CHECKING:
    import numpy as np

    from sim.channel.config import CellConfig
    from sim.channel.link import RadioMeter
    from sim.channel.traces import Trace
    from sim.network import Path

__all__ = ["Legs"]


class Legs:
    """Per run: the :class:`Backhaul` and the devices' downlinks (one per device and cell,
    made on first use). ``streams(name)`` is the run's named random streams; ``window_s`` the
    measurement window of the link totals; ``downlink_traces`` each cell's downlink trace by
    cell name (:func:`sim.channel.downlink.resolve_downlink_traces`; {} when no cell has one);
    ``paths`` every (cell, server) route, so the backhaul may chain transit hops.
    """

    def __init__(
        self,
        env: simpy.Environment,
        streams: Callable[[str], np.random.Generator],
        window_s: tuple[float, float],
        *,
        horizon_s: float,
        downlink_traces: Mapping[str, Trace | None] | None = None,
        paths: Mapping[tuple[str, str], Path] | None = None,
    ) -> None:
        self.env = env
        self._reversed: dict[int, tuple[Path, Path]] = {}
        # Every (cell, server) route both ways, so the backhaul may chain transit hops.
        routes = None
        if paths is not None:
            routes = [*paths.values(), *(self.way_back_path(p) for p in paths.values())]
        self.backhaul = Backhaul(env, window_s, routes)
        self.downlink_builder = DownlinkBuilder(
            env, streams, downlink_traces or {}, horizon_s=horizon_s
        )
        self.downlinks: dict[tuple[int, str], DeviceDownlink] = {}

    @classmethod
    def for_run(cls, run: Any) -> Legs:
        """The legs of a :class:`sim.engine.Run` whose devices are built: its env, streams,
        window, horizon and routes; each device's downlink in its group's cell made now (so
        every device meters ``radio_rx``). Downlink traces are read back from the memo the
        loader filled when it checked them (sim/scenario/load.py)."""
        scenario = run.scenario
        spec = scenario.spec
        base_dir = scenario.path.parent if scenario.path is not None else PathLib(".")
        file = str(scenario.path) if scenario.path is not None else None
        legs = cls(
            run.env,
            run.streams,
            (run.window.start_s, run.window.end_s),
            horizon_s=spec.duration_s,
            downlink_traces=resolve_downlink_traces(spec.cells, base_dir, file=file),
            paths=scenario.paths,
        )
        for device in run.devices:
            group = scenario.groups[device.group]
            legs.downlink(
                device.index, group.cell, group.spec.name, device.index_in_group, device.radio
            )
        return legs

    def downlink(
        self, device: int, cell: CellConfig, group: str, index_in_group: int, radio: RadioMeter
    ) -> DeviceDownlink:
        """Device ``device``'s downlink in ``cell`` (built on first use; a device that changed
        cells has one per cell, each FIFO on its own)."""
        link = self.downlinks.get((device, cell.name))
        if link is None:
            link = self.downlinks[(device, cell.name)] = self.downlink_builder.for_device(
                device, cell, group, index_in_group, radio
            )
        return link

    def way_back_path(self, path: Path) -> Path:
        """``path`` reversed (cached: one per route)."""
        cached = self._reversed.get(id(path))
        if cached is None or cached[0] is not path:
            cached = self._reversed[id(path)] = (path, path.reversed())
        return cached[1]

    def receive(
        self,
        downlink: DeviceDownlink,
        row: int,
        bits: float,
        at_cell_s: float,
        on_result: Callable[[DownlinkResult], None],
    ) -> None:
        """Hand ``bits`` to ``downlink`` when the result reaches the cell at ``at_cell_s``."""
        now = self.env.now
        if at_cell_s <= now:
            downlink.send(row, bits, on_result, ready_s=at_cell_s)
            return
        event = self.env.timeout(at_cell_s - now)
        event.callbacks.append(lambda _e: downlink.send(row, bits, on_result))
