"""The two wired legs of a request: cell -> server ("to server") and server -> device ("way back").

Each leg is one method of :class:`Router`. With ``router.legs`` attached
(:class:`sim.legs.Legs`) the payload crosses the backhaul's FIFO links
(sim/backhaul.py) and the result comes back over them and the device's
downlink (sim/channel/downlink.py); without, both legs are arithmetic on
fixed delays:

    to server = cell propagation + wired path(payload) [+ JPEG decode, offload]
    way back  = wired path(result) + cell propagation + result / downlink rate

(store and forward on every hop, :meth:`sim.network.Path.delay_s`). A
:class:`Route` is made once per (group, cell, plan, server) and cached.

The engine calls :meth:`Router.to_server` when the payload leaves the device
(the end of its upload: at that simulated time for a shared cell or a dynamic
server selection, earlier for a dedicated link with a fixed server: the backhaul then
enters the payload into its first queue at the departure time itself) and :meth:`Router.way_back` when the request's batch
ends (always at that simulated time). Each hands its result time to the
engine's callback, now or later.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sim.channel.intercell import cell_names

if TYPE_CHECKING:
    from sim.channel.config import CellConfig
    from sim.channel.downlink import DownlinkResult
    from sim.legs import Legs
    from sim.network import Path
    from sim.plans import Plan
    from sim.scenario.model import GroupRuntime, Scenario
    from sim.server import EdgeServer

Arrived = Callable[[float, Any, "Route"], None]
"""``arrived(t_s, request, route)``: the payload is at the server at ``t_s`` [s]."""
Home = Callable[[float, Any, Any, bool], None]
"""``home(t_s, request, job, ok)``: the result is back on the device at ``t_s`` [s] (not
``ok``: its downlink ended before it was received)."""


class Route:
    """One (group, cell, plan, server): the server, the fixed leg delays [s] and their parts."""

    __slots__ = ("back_s", "cell", "path", "payload_bytes", "result_bytes", "server", "to_server_s")

    def __init__(
        self,
        server: EdgeServer,
        cell: CellConfig,
        path: Path,
        payload_bytes: int,
        result_bytes: int,
        to_server_s: float,
        back_s: float,
    ) -> None:
        self.server = server
        self.cell = cell
        self.path = path
        self.payload_bytes = payload_bytes
        self.result_bytes = result_bytes
        self.to_server_s = to_server_s
        self.back_s = back_s


class Router:
    """Routes of one run and its two legs; ``arrived`` and ``home`` are the engine's callbacks."""

    def __init__(
        self,
        scenario: Scenario,
        servers: dict[str, EdgeServer],
        arrived: Arrived,
        home: Home,
    ) -> None:
        self.scenario = scenario
        self.servers = servers
        self._arrived = arrived
        self._home = home
        # Every name a transfer's end may carry -> its cell's settings: the cell's own name
        # and '<cell>/<station>' for stations that are cells of their own.
        self._cells = {c.name: c for c in scenario.spec.cells}
        for config in scenario.spec.cells:
            self._cells.update(dict.fromkeys(cell_names(config), config))
        self.cell_names = list(self._cells)  # the requests' cell column's labels
        self._routes: dict[tuple[int, str, int, str], Route] = {}
        # The run's backhaul and downlinks (sim/legs.py), attached by the engine; None: both
        # legs are today's arithmetic on fixed delays.
        self.legs: Legs | None = None

    def route(self, group: GroupRuntime, cell: str, plan: Plan, code: int, server: str) -> Route:
        """The cached route of ``plan`` (plan code ``code``) from ``cell`` to ``server``."""
        key = (group.index, cell, code, server)
        route = self._routes.get(key)
        if route is None:
            config = self._cells[cell]
            path = (
                group.paths[server]
                if cell == group.cell.name
                else self.scenario.paths[(cell, server)]
            )
            to_server = config.propagation_s + path.delay_s(plan.payload_bytes)
            if plan.kind == "offload":
                to_server += self.scenario.servers[server].jpeg_decode_s.value
            result_bytes = group.spec.result_bytes
            back = (
                path.delay_s(result_bytes)
                + config.propagation_s
                + 8.0 * result_bytes / config.downlink_bps
            )
            route = self._routes[key] = Route(
                self.servers[server],
                config,
                path,
                plan.payload_bytes,
                result_bytes,
                to_server,
                back,
            )
        return route

    def to_server(self, route: Route, depart_s: float, request: Any) -> None:
        """The payload leaves the cell at ``depart_s`` [s]; report its arrival at the server."""
        legs = self.legs
        if legs is None:
            self._arrived(depart_s + route.to_server_s, request, route)
            return
        path, bits = route.path, 8.0 * route.payload_bytes
        enter_s = depart_s + route.cell.propagation_s
        if not any(path.queues):  # arithmetic, as before; the links still count the payload
            legs.backhaul.arrival_s(path, bits, enter_s)
            self._arrived(depart_s + route.to_server_s, request, route)
            return
        # The JPEG decode (offload) after the wired path: what to_server_s adds to them.
        decode_s = route.to_server_s - route.cell.propagation_s - path.delay_s(route.payload_bytes)
        legs.backhaul.send(
            path, bits, lambda t: self._arrived(t + decode_s, request, route), t_s=enter_s
        )

    def way_back(self, route: Route, ready_s: float, request: Any, job: Any) -> None:
        """The result is ready at the server at ``ready_s`` [s]; report it back on the device."""
        legs = self.legs
        if legs is None:
            self._home(ready_s + route.back_s, request, job, True)
            return
        # Wired path back, air propagation, then the device's downlink (its energy is charged
        # to the request like the uplink's: the radio meter's charge callback).
        device, cell, row = request.device, route.cell, request.row
        downlink = legs.downlink(
            device.index,
            cell,
            self.scenario.groups[device.group].spec.name,
            device.index_in_group,
            device.radio,
        )
        bits = 8.0 * route.result_bytes

        def received(result: DownlinkResult) -> None:
            device.radio.charge_tail(row, result.energy_j)
            self._home(result.end_s, request, job, result.ok)

        def at_cell(t_s: float) -> None:
            legs.receive(downlink, row, bits, t_s + cell.propagation_s, received)

        back = legs.way_back_path(route.path)
        if any(back.queues):
            legs.backhaul.send(back, bits, at_cell, t_s=ready_s)
        else:
            at_cell(legs.backhaul.arrival_s(back, bits, ready_s))
