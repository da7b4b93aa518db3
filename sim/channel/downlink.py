"""A device's downlink: results received over a capacity process, dedicated or shared.

The downlink is modelled like the uplink (:mod:`sim.channel.link`): each device
has its own capacity process c(t) [bit/s] (any uplink kind, ``cells[].downlink``;
constant at ``downlink_bps`` when none is given) and receives one result at a
time, first in first out (the base station's per-device queue). In a
*dedicated* cell the finish time is the integral of c(t) (no events); in a
*shared* cell the results being received split the cell's downlink air time
with the cell's scheduler, in a :class:`~sim.channel.shared.SharedCell` of its
own (the downlink and the uplink are separate carriers or subframes, so they do
not take time from each other). No block errors or retries on the downlink (a
stated simplification: results are acknowledged by the RLC, whose
retransmissions the capacity process already averages over).

Receive power (Huang et al., MobiSys 2012; channels.md §B.10): receiving B bits
over d seconds costs beta d + alpha_d B (:meth:`RadioPowerModel.receive_energy_j`),
on the above-idle basis like the uplink. Reception is radio activity: a result
that finds the radio idle pays the promotion, and the tail runs from the end
of the last reception or transmission, charged to that request (the device's
:class:`~sim.channel.link.RadioMeter`). A dedicated upload is booked when its
request arrives, so a result may come back in the gap before an upload already
booked, whose tail the meter charged at booking: the reception is fitted in (the
earlier tail ends where it starts, its own tail runs to the booked upload), so
the accounting is the chronological one. When a reception overlaps a
transmission of the same device, each is charged beta for its own time:
Huang's model pays beta once, so the overlap is counted twice (an upper bound
of beta x overlap; results are short, so the overlap is rare and brief). A
reception in the gap does not undo a promotion the booked upload already paid.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

import simpy

from sim.channel.capacity import Capacity
from sim.channel.config import CellConfig, build_capacity, resolve_trace
from sim.channel.link import RadioMeter
from sim.channel.shared import SharedCell

if TYPE_CHECKING:
    import numpy as np

    from sim.channel.traces import Trace

__all__ = [
    "DeviceDownlink",
    "DownlinkBuilder",
    "DownlinkResult",
    "resolve_downlink_traces",
]


class _Gap(NamedTuple):
    """The gap before an activity booked on the radio [s], and the row its tail was charged to."""

    start_s: float
    row: int
    end_s: float


class DownlinkResult(NamedTuple):
    """What happened to one result on the downlink. Times in [s], bits in [bit], energy in [J]."""

    start_s: float  # the downlink took the result (after the device's earlier results)
    rx_start_s: float  # after the radio's promotion, if it was idle: first bit on air
    end_s: float  # last bit received (inf: never, the capacity ran out)
    ok: bool
    bits_received: float
    energy_j: float  # promotion + reception (the tail after it is charged by the meter later)


class DeviceDownlink:
    """One device's downlink: FIFO of results, over its own capacity, dedicated or shared.

    ``cell``: the cell's downlink :class:`SharedCell` (shared), or None (dedicated).
    ``above_fitted_range`` counts receptions faster than the radio model's fitted downlink
    range (their alpha_d term was capped, :class:`~sim.channel.radio.RadioPowerModel`).
    """

    def __init__(
        self,
        env: simpy.Environment,
        key: int,
        capacity: Capacity,
        radio: RadioMeter,
        *,
        cell: SharedCell | None = None,
    ) -> None:
        self.env = env
        self.key = key
        self.capacity = capacity
        self.radio = radio
        self.cell = cell
        self.free_at_s = 0.0
        self.above_fitted_range = 0
        self._queue: deque[tuple[int, float, Callable[[DownlinkResult], None]]] = deque()
        self._busy = False
        radio.energy_j.setdefault("radio_rx", 0.0)

    def send(
        self,
        row: int,
        bits: float,
        on_result: Callable[[DownlinkResult], None],
        ready_s: float | None = None,
    ) -> None:
        """Receive ``bits`` for request ``row``, handed to the downlink now.

        Dedicated: computed at once, ``on_result`` is called now with a result that may end
        later; ``ready_s`` (<= now) is when the result reached the cell if that was earlier
        (an early-exit job's result). Shared: ``on_result`` is called when the last bit is
        received.
        """
        if self.cell is None:
            now = self.env.now
            ready = now if ready_s is None else min(ready_s, now)
            on_result(self._dedicated(row, ready, bits))
            return
        self._queue.append((row, bits, on_result))
        if not self._busy:
            self._start_next()

    # -- radio
    def _begin(self, start_s: float) -> tuple[float, float, _Gap | None]:
        """Radio activity from ``start_s``: (promotion delay [s], promotion energy [J], the
        gap it falls in when it comes before a transmission already booked, else None).

        Three cases: after the radio's last activity (the meter's usual begin: the last
        tail closes, a promotion if it has ended); during the booked activity (the radio is
        active: nothing to pay); in the gap before a booked activity (a dedicated upload is
        booked when its request arrives), whose tail the meter charged when it was booked:
        :meth:`_end` corrects it.
        """
        radio = self.radio
        if start_s >= radio.last_end_s:
            return (*radio.begin(start_s), None)
        if start_s >= radio.last_start_s:
            return 0.0, 0.0, None
        gap = _Gap(radio.gap_start_s, radio.gap_row, radio.last_start_s)
        model = radio.model
        if start_s - gap.start_s <= model.tail_total_s:
            return 0.0, 0.0, gap
        promo_s = model.promotion_s
        radio.energy_j["radio_promotion"] += model.promotion_w * radio.window.overlap(
            start_s, start_s + promo_s
        )
        return promo_s, model.promotion_w * promo_s, gap

    def _end(
        self, row: int, start_s: float, rx_start_s: float, end_s: float, bits: float, gap
    ) -> float:
        """A reception occupied [rx_start_s, end_s] and received ``bits``: its energy [J]."""
        radio = self.radio
        model = radio.model
        duration = end_s - rx_start_s
        energy = model.receive_energy_j(duration, bits)
        if duration > 0:
            radio.energy_j["radio_rx"] += (
                energy * radio.window.overlap(rx_start_s, end_s) / duration
            )
            if bits / duration > model.rx_fitted_max_bps * (1.0 + 1e-9):
                self.above_fitted_range += 1
        if gap is not None:
            self._fit_into_gap(row, start_s, end_s, gap)
        elif end_s >= radio.last_end_s:  # the tail now runs from here, charged to this request
            radio.last_end_s = end_s
            radio.last_row = row
        return energy

    def _fit_into_gap(self, row: int, start_s: float, end_s: float, gap: _Gap) -> None:
        """Re-cut the tail charged for ``gap``: the earlier activity's tail now ends where this
        reception starts, and this reception's tail runs to the booked activity."""
        radio = self.radio
        total = radio.model.tail_total_s
        if gap.row >= 0:
            old_in, old_charged = self._tail_j(gap.start_s, min(gap.end_s - gap.start_s, total))
            new_in, new_charged = self._tail_j(gap.start_s, min(start_s - gap.start_s, total))
            radio.energy_j["radio_tail"] += new_in - old_in
            radio.charge_tail(gap.row, new_charged - old_charged)
        after_in, after_charged = self._tail_j(end_s, min(max(gap.end_s - end_s, 0.0), total))
        radio.energy_j["radio_tail"] += after_in
        radio.charge_tail(row, after_charged)
        # A later result received in the same gap comes after this one.
        radio.gap_start_s, radio.gap_row = end_s, row

    def _tail_j(self, start_s: float, length_s: float) -> tuple[float, float]:
        """Energy of a tail from ``start_s`` lasting ``length_s`` [J]: (inside the window,
        charged to its request: up to the window's end), as the meter closes a tail."""
        window = self.radio.window
        inside = charged = 0.0
        for a, b, watts in self.radio.model.tail_power_w():
            stage_end = min(b, length_s)
            if stage_end > a:
                inside += watts * window.overlap(start_s + a, start_s + stage_end)
                charged += watts * max(0.0, min(start_s + stage_end, window.end_s) - (start_s + a))
        return inside, charged

    # -- dedicated: arithmetic
    def _dedicated(self, row: int, ready_s: float, bits: float) -> DownlinkResult:
        start = max(ready_s, self.free_at_s)
        promo_s, promo_j, gap = self._begin(start)
        rx_start = start + promo_s
        end = self.capacity.time_to_send(rx_start, bits)
        if math.isinf(end):
            # A finite process (a non-looping trace) ended first: the reception fails at its
            # end with what it received, as an upload does (sim/channel/link.py).
            end = max(rx_start, self.capacity.end_s)
            received = self.capacity.bits_between(rx_start, end) if end > rx_start else 0.0
            self.free_at_s = end
            energy = promo_j + self._end(row, start, rx_start, end, received, gap)
            return DownlinkResult(start, rx_start, end, False, received, energy)
        self.free_at_s = end
        energy = promo_j + self._end(row, start, rx_start, end, bits, gap)
        return DownlinkResult(start, rx_start, end, True, bits, energy)

    # -- shared cell: event driven
    def _start_next(self) -> None:
        row, bits, on_result = self._queue.popleft()
        self._busy = True
        env = self.env
        start = env.now
        promo_s, promo_j, gap = self._begin(start)
        rx_start = start + promo_s

        def done(end_s: float, ok: bool, received: float) -> None:
            energy = promo_j + self._end(row, start, rx_start, end_s, received, gap)
            self._busy = False
            self.free_at_s = end_s
            on_result(DownlinkResult(start, rx_start, end_s, ok, received, energy))
            if self._queue:
                self._start_next()

        def launch(_event: object = None) -> None:
            assert self.cell is not None
            # deadline: a finite process's end (capacity 0 after it), else never
            deadline = max(env.now, self.capacity.end_s)
            self.cell.start(self.key, self.capacity, bits, deadline, done)

        if promo_s > 0:
            env.timeout(promo_s).callbacks.append(launch)
        else:
            launch()


class DownlinkBuilder:
    """Builds each device's :class:`DeviceDownlink` for one run, as the engine builds uplinks.

    Random streams: ``downlink/<cell>/<group>/<k>`` per device (``channel_per_device``), else
    ``downlink/<cell>`` for one process the cell's devices share; named apart from the uplink's
    (``channel/...``) so adding the downlink leaves every other stream as it was. One downlink
    :class:`SharedCell` per shared cell, with the cell's scheduler. ``traces``: each cell's
    downlink trace by cell name (:func:`resolve_downlink_traces`; None for kinds without one).
    """

    def __init__(
        self,
        env: simpy.Environment,
        streams: Callable[[str], np.random.Generator],
        traces: Mapping[str, Trace | None],
        *,
        horizon_s: float,
    ) -> None:
        self.env = env
        self.streams = streams
        self.traces = traces
        self.horizon_s = horizon_s
        self.cells: dict[str, SharedCell] = {}
        self._shared_capacity: dict[str, Capacity] = {}

    def for_device(
        self, key: int, cell: CellConfig, group: str, index_in_group: int, radio: RadioMeter
    ) -> DeviceDownlink:
        """The downlink of device ``key`` (the ``index_in_group``-th of ``group``) in ``cell``."""
        config = cell.downlink_config()
        trace = self.traces.get(cell.name)
        if cell.channel_per_device:
            rng = self.streams(f"downlink/{cell.name}/{group}/{index_in_group}")
            capacity = build_capacity(config, trace, rng, horizon_s=self.horizon_s)
        elif cell.name in self._shared_capacity:
            capacity = self._shared_capacity[cell.name]
        else:
            rng = self.streams(f"downlink/{cell.name}")
            capacity = self._shared_capacity[cell.name] = build_capacity(
                config, trace, rng, horizon_s=self.horizon_s
            )
        shared = None
        if cell.sharing == "shared":
            shared = self.cells.get(cell.name)
            if shared is None:
                shared = self.cells[cell.name] = SharedCell(
                    self.env, f"{cell.name}/downlink", cell.scheduler
                )
        return DeviceDownlink(self.env, key, capacity, radio, cell=shared)


def resolve_downlink_traces(
    cells: Sequence[CellConfig], base_dir: Path, *, file: str | None
) -> dict[str, Trace | None]:
    """Each cell's downlink trace (read once per scenario; None for kinds without one)."""
    return {
        cell.name: resolve_trace(
            cell.downlink_config(), base_dir, file=file, key=f"cells.{i}.downlink"
        )
        for i, cell in enumerate(cells)
    }
