"""A device's uplink: FIFO transfers over its capacity, radio power states, shared cells.

Each device sends one payload at a time (FIFO, like a socket send buffer).
On a *dedicated* link the finish time is computed by integrating the device's
capacity (no events beyond the one the request waits on). In a *shared* cell
the active transfers split the cell's time equally (round robin): each gets
its own capacity divided by the number of active transfers, and finish times
are recomputed only when a transfer starts or ends, never per slot.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import simpy

from sim.channel.capacity import Capacity
from sim.channel.radio import RadioPowerModel


@dataclass(frozen=True, slots=True)
class Window:
    """The measurement window [start_s, end_s) that device energy totals cover."""

    start_s: float
    end_s: float

    def overlap(self, a: float, b: float) -> float:
        return max(0.0, min(b, self.end_s) - max(a, self.start_s))


class TransferResult(NamedTuple):
    """What happened to one uplink transfer. Times in [s], energy in [J]."""

    start_s: float  # the radio took the transfer (after the device's FIFO)
    tx_start_s: float  # after promotion
    end_s: float
    ok: bool
    bits_sent: float
    energy_j: float  # promotion + transfer (the tail is attributed later)


class RadioMeter:
    """Radio power states of one device; energy by state inside the window.

    The tail after a transfer is charged to that transfer's request once it is
    known how long it lasted (cut short by the next transfer, or complete).
    """

    def __init__(
        self,
        model: RadioPowerModel,
        window: Window,
        charge_tail: Callable[[int, float], None],
    ) -> None:
        self.model = model
        self.window = window
        self.charge_tail = charge_tail
        self.last_end_s = -math.inf
        self.last_row = -1
        self.energy_j = {"radio_promotion": 0.0, "radio_tx": 0.0, "radio_tail": 0.0}

    def begin(self, t_s: float) -> tuple[float, float]:
        """Radio activity starts at ``t_s``: (promotion delay [s], promotion energy [J])."""
        model = self.model
        gap = t_s - self.last_end_s
        if self.last_row >= 0:
            self._close_tail(min(gap, model.tail_s))
        if gap <= model.tail_s:
            return 0.0, 0.0
        promo_s = model.promotion_s
        self.energy_j["radio_promotion"] += model.promotion_w * self.window.overlap(
            t_s, t_s + promo_s
        )
        return promo_s, model.promotion_w * promo_s

    def end(self, row: int, tx_start_s: float, end_s: float, bits: float) -> float:
        """A transfer occupied [tx_start_s, end_s]: its energy [J]."""
        duration = end_s - tx_start_s
        energy = self.model.transfer_energy_j(duration, bits)
        if duration > 0:
            self.energy_j["radio_tx"] += energy * self.window.overlap(tx_start_s, end_s) / duration
        self.last_end_s = end_s
        self.last_row = row
        return energy

    def _close_tail(self, tail_s: float) -> None:
        model = self.model
        start = self.last_end_s
        self.energy_j["radio_tail"] += model.tail_w * self.window.overlap(start, start + tail_s)
        self.charge_tail(self.last_row, model.tail_w * tail_s)
        self.last_row = -1

    def close(self) -> None:
        """End of run: the last tail runs its full length."""
        if self.last_row >= 0:
            self._close_tail(self.model.tail_s)

    def idle_energy_j(self) -> float:
        return self.model.idle_w * (self.window.end_s - self.window.start_s)


class _Active:
    __slots__ = ("capacity", "deadline_s", "on_done", "remaining_bits", "total_bits")

    def __init__(self, capacity: Capacity, bits: float, deadline_s: float, on_done) -> None:
        self.capacity = capacity
        self.remaining_bits = bits
        self.total_bits = bits
        self.deadline_s = deadline_s
        self.on_done = on_done


class SharedCell:
    """Equal time-share (round-robin) scheduler of the transfers active in one cell."""

    def __init__(self, env: simpy.Environment, name: str) -> None:
        self.env = env
        self.name = name
        self.active: dict[int, _Active] = {}
        self._last_s = 0.0
        self._version = 0
        self.max_concurrent = 0

    def start(
        self,
        key: int,
        capacity: Capacity,
        bits: float,
        deadline_s: float,
        on_done: Callable[[float, bool, float], None],
    ) -> None:
        """Begin sending ``bits`` for ``key``; ``on_done(end_s, ok, bits_sent)`` when it ends."""
        self._advance()
        self.active[key] = _Active(capacity, bits, deadline_s, on_done)
        self.max_concurrent = max(self.max_concurrent, len(self.active))
        self._reschedule()

    def _advance(self) -> None:
        now = self.env.now
        n = len(self.active)
        if n and now > self._last_s:
            for item in self.active.values():
                item.remaining_bits -= item.capacity.bits_between(self._last_s, now) / n
        self._last_s = now

    def _reschedule(self) -> None:
        self._version += 1
        n = len(self.active)
        if not n:
            return
        now = self.env.now
        soonest = math.inf
        for item in self.active.values():
            finish = item.capacity.time_to_send(now, max(item.remaining_bits, 0.0) * n)
            soonest = min(soonest, finish, item.deadline_s)
        if math.isinf(soonest):
            return
        version = self._version
        timer = self.env.timeout(max(soonest - now, 0.0))
        timer.callbacks.append(lambda _event: self._on_timer(version))

    def _on_timer(self, version: int) -> None:
        if version != self._version:
            return  # superseded by a later start or end
        self._advance()
        now = self.env.now
        finished = []
        for key, item in self.active.items():
            tolerance = 1e-9 * item.total_bits + 1e-6
            if item.remaining_bits <= tolerance:
                finished.append((key, True))
            elif now >= item.deadline_s:
                finished.append((key, False))
        for key, ok in finished:
            item = self.active.pop(key)
            sent = item.total_bits if ok else item.total_bits - max(item.remaining_bits, 0.0)
            item.on_done(now, ok, sent)
        self._reschedule()


class DeviceUplink:
    """One device's uplink: FIFO of payloads, radio states, dedicated or shared medium."""

    def __init__(
        self,
        env: simpy.Environment,
        key: int,
        capacity: Capacity,
        radio: RadioMeter,
        *,
        cell: SharedCell | None = None,
        timeout_s: float | None = None,
    ) -> None:
        self.env = env
        self.key = key
        self.capacity = capacity
        self.radio = radio
        self.cell = cell
        self.timeout_s = timeout_s if timeout_s is not None else math.inf
        self.free_at_s = 0.0
        self._queue: deque[tuple[int, float, simpy.Event]] = deque()
        self._busy = False

    def transfer(self, row: int, bits: float) -> simpy.Event:
        """Queue ``bits`` for request ``row`` now; the event's value is a TransferResult."""
        if self.cell is None:
            result = self._dedicated(row, self.env.now, bits)
            delay = result.end_s - self.env.now
            if math.isinf(delay):
                return self.env.event()  # never completes; the run's end marks it failed
            return self.env.timeout(delay, value=result)
        event = self.env.event()
        self._queue.append((row, bits, event))
        if not self._busy:
            self._start_next()
        return event

    # -- dedicated: all arithmetic
    def _dedicated(self, row: int, ready_s: float, bits: float) -> TransferResult:
        start = max(ready_s, self.free_at_s)
        promo_s, promo_j = self.radio.begin(start)
        tx_start = start + promo_s
        end = self.capacity.time_to_send(tx_start, bits)
        ok = True
        sent = bits
        if end - tx_start > self.timeout_s:
            end = tx_start + self.timeout_s
            ok = False
            sent = self.capacity.bits_between(tx_start, end)
        if math.isinf(end):
            self.free_at_s = end
            return TransferResult(start, tx_start, end, False, 0.0, promo_j)
        energy = self.radio.end(row, tx_start, end, sent)
        self.free_at_s = end
        return TransferResult(start, tx_start, end, ok, sent, promo_j + energy)

    # -- shared cell: event driven
    def _start_next(self) -> None:
        row, bits, event = self._queue.popleft()
        self._busy = True
        start = self.env.now
        promo_s, promo_j = self.radio.begin(start)

        def on_done(end_s: float, ok: bool, sent: float) -> None:
            energy = self.radio.end(row, start + promo_s, end_s, sent)
            event.succeed(TransferResult(start, start + promo_s, end_s, ok, sent, promo_j + energy))
            self._busy = False
            self.free_at_s = end_s
            if self._queue:
                self._start_next()

        def launch(_event=None) -> None:
            assert self.cell is not None
            self.cell.start(self.key, self.capacity, bits, self.env.now + self.timeout_s, on_done)

        if promo_s > 0:
            self.env.timeout(promo_s).callbacks.append(launch)
        else:
            launch()
