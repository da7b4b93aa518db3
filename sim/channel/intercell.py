"""Base stations as cells of their own: per-station shared uplinks, and a transfer that
follows its device across them at each handover.

With ``uplink.stations_as_cells`` (a physical uplink) each station ``s`` of cell ``c``
is a cell named ``c/s``: its own scheduling domain (a :class:`SharedCell` when the
cell's ``sharing`` is ``shared``) and its own topology node. A device's serving station
comes from its :class:`~sim.channel.physical.PhysicalSource` (A3 with time-to-trigger,
:mod:`sim.channel.handover`), decided as its capacity's steps are generated.

Handover of a transfer in flight (:class:`RoamingTransfer`): at the handover time the
transfer leaves the old cell with the bits it still has to send
(:meth:`SharedCell.withdraw`); during the interruption it is in no cell (nothing is sent
and it takes no air time from anyone); at the interruption's end it joins the new
cell's scheduler with those remaining bits. So the transfer *resumes*: the bits already
sent are kept, as with lossless X2/Xn forwarding of the PDCP buffer (TS 36.300 §10.1.2.3;
Simu5G's ``losslessHandover``, false by default there, drops the buffered packets and
leaves the recovery to the transport). We resume because a split-computing payload is
one application message over a reliable transport: with forwarding the receiver keeps
what arrived, and without it TCP retransmits only the lost segments, not the whole
payload, so a restart from zero would overstate the cost of a handover.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import simpy

from sim.channel.capacity import Capacity
from sim.channel.physical_config import PhysicalUplink
from sim.channel.shared import SharedCell

if TYPE_CHECKING:
    from sim.channel.config import CellConfig
    from sim.channel.physical import PhysicalSource

WATCH_S = 0.5  # how far ahead a transfer in flight looks for its device's next handover [s]


def cell_names(config: CellConfig) -> tuple[str, ...]:
    """Names of the cells ``config`` stands for: its own, or ``<cell>/<station>`` each."""
    uplink = config.uplink
    if isinstance(uplink, PhysicalUplink) and uplink.stations_as_cells:
        return tuple(f"{config.name}/{station.name}" for station in uplink.base_stations)
    return (config.name,)


def station_nodes(config: CellConfig) -> dict[str, str]:
    """Topology node of each cell ``config`` stands for (a station's own, else the cell's)."""
    uplink = config.uplink
    if not (isinstance(uplink, PhysicalUplink) and uplink.stations_as_cells):
        return {config.name: config.node}
    return {
        f"{config.name}/{station.name}": station.node or config.node
        for station in uplink.base_stations
    }


def build_cells(
    env: simpy.Environment, config: CellConfig, cells: dict[str, SharedCell]
) -> SharedCell | tuple[SharedCell, ...] | None:
    """The shared uplink(s) of a cell's devices, made once per name in ``cells``: None when
    dedicated, one :class:`SharedCell`, or one per station (``stations_as_cells``)."""
    if config.sharing != "shared":
        return None
    names = cell_names(config)
    for name in names:
        if name not in cells:
            cells[name] = SharedCell(env, name, config.scheduler)
    if names == (config.name,):
        return cells[config.name]
    return tuple(cells[name] for name in names)


class RoamingTransfer:
    """One attempt's bits through the per-station cells its device is served by.

    ``on_done(end_s, ok, bits_sent)`` is called once, as :meth:`SharedCell.start`'s is,
    with the bits sent in every cell it went through. ``station`` is the station whose
    cell carried (or, at a failure during an interruption, was to carry) its last bit.
    """

    def __init__(
        self,
        env: simpy.Environment,
        key: int,
        capacity: Capacity,
        source: PhysicalSource,
        cells: tuple[SharedCell, ...],
        bits: float,
        limit_s: float,
        on_done: Callable[[float, bool, float], None],
    ) -> None:
        self.env = env
        self.key = key
        self.capacity = capacity
        self.source = source
        self.cells = cells
        self.limit_s = limit_s
        self.on_done = on_done
        self.remaining_bits = bits
        self.carried_bits = 0.0  # sent in the cells it left [bit]
        self.in_cell_bits = 0.0  # handed to the current cell [bit]
        self.cell: SharedCell | None = None
        self.station = -1
        self.handovers = 0
        self._live = True
        self._version = 0  # bumps at each move, so a stale watch does nothing
        self._moves = source.can_hand_over
        self.join()

    def _at(self, t_s: float, callback: Callable[[], None]) -> None:
        self.env.timeout(max(t_s - self.env.now, 0.0)).callbacks.append(lambda _e: callback())

    def join(self) -> None:
        """Enter the serving station's cell now, or wait for the interruption's end."""
        if not self._live:
            return
        now = self.env.now
        self.capacity.bits_until(now)  # the steps up to now are decided (may skip to now)
        self.station, free_s = self.source.handover.attachment(now)
        if free_s > now:  # inside a handover interruption: in no cell
            if self.limit_s <= free_s:
                self._at(self.limit_s, lambda: self._end(self.env.now, False, 0.0))
            else:
                self._at(free_s, self.join)
            return
        self.cell = self.cells[self.station]
        self.in_cell_bits = self.remaining_bits
        self.cell.start(self.key, self.capacity, self.remaining_bits, self.limit_s, self._done)
        if self._moves:
            self._watch()

    def _watch(self) -> None:
        now = self.env.now
        horizon = min(now + WATCH_S, self.limit_s)
        self.capacity.bits_until_contiguous(horizon)  # decides the steps up to the horizon
        version = self._version
        t_h = self.source.handover.next_handover(now)
        if t_h is not None and t_h <= horizon:
            self._at(t_h, lambda: self._handover(version))
        elif horizon < self.limit_s:
            self._at(horizon, lambda: self._rewatch(version))

    def _rewatch(self, version: int) -> None:
        if self._live and version == self._version:
            self._watch()

    def _handover(self, version: int) -> None:
        if not self._live or version != self._version:
            return
        assert self.cell is not None  # watched only while in a cell
        remaining = self.cell.withdraw(self.key)
        sent = self.in_cell_bits - remaining
        if remaining <= 1e-9 * self.in_cell_bits + 1e-6:  # SharedCell's own end tolerance
            self._end(self.env.now, True, self.in_cell_bits)
            return
        self._version += 1
        self.handovers += 1
        self.carried_bits += sent
        self.remaining_bits = remaining
        self.cell = None
        self.join()

    def _done(self, end_s: float, ok: bool, sent: float) -> None:
        self._end(end_s, ok, sent)

    def _end(self, end_s: float, ok: bool, sent_in_cell: float) -> None:
        if not self._live:
            return
        self._live = False
        self.cell = None
        total = self.carried_bits + sent_in_cell
        self.on_done(end_s, ok, total if math.isfinite(total) else self.carried_bits)
