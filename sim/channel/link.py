"""A device's uplink: FIFO transfers over its capacity, HARQ and retries, radio power states.

Each device sends one payload at a time (FIFO, like a socket send buffer).
On a *dedicated* link the finish time is computed by integrating the device's
capacity (no events beyond the one the request waits on), including HARQ
retransmissions and application-level retries (:mod:`sim.channel.harq`). In a
*shared* cell the active transfers split the cell's time
(:mod:`sim.channel.shared`), and finish times are recomputed only when a
transfer starts or ends, never per slot. Where the stations of a physical uplink
are cells of their own, a transfer in flight follows its device from cell to cell
at each handover and resumes there (:mod:`sim.channel.intercell`); every result
names the cell that carried its last bit (``TransferResult.cell``).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import simpy

from sim.channel.capacity import Capacity
from sim.channel.harq import BlerErrors, GilbertElliottErrors, RetryConfig, harq_outcome
from sim.channel.intercell import RoamingTransfer
from sim.channel.physical import PhysicalSource
from sim.channel.radio import RadioPowerModel
from sim.channel.shared import SharedCell

__all__ = ["DeviceUplink", "RadioMeter", "SharedCell", "TransferResult", "Window"]


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
    # The cell that carried its last bit: the cell's name, or '<cell>/<station>' where the
    # stations are cells of their own (stations_as_cells); the wired path starts at its node.
    cell: str = ""


class RadioMeter:
    """Radio power states of one device; energy by state inside the window.

    What is charged when (docs/energy.md): promotion power for the promotion;
    from the end of the promotion to the end of the transfer, beta for the whole
    time (also while the transfer waits for its share of a shared cell, during
    HARQ round trips and retry back-offs: the radio is connected and listening)
    plus alpha_u per bit actually sent, retransmissions included; then the tail.
    The tail after a transfer is charged to that transfer's request once it is
    known how long it lasted: up to the next transfer, the end of the tail or
    the end of the measurement window, whichever comes first, so a request's
    energy does not depend on how long the run goes on after the window.
    ``tx_power_dbm(t)`` gives the device's transmit power when the radio model
    has a transmit-power term (Lauridsen) and the channel knows it.
    """

    def __init__(
        self,
        model: RadioPowerModel,
        window: Window,
        charge_tail: Callable[[int, float], None],
        tx_power_dbm: Callable[[float], float] | None = None,
    ) -> None:
        self.model = model
        self.window = window
        self.charge_tail = charge_tail
        self.tx_power_dbm = tx_power_dbm
        self.last_end_s = -math.inf
        self.last_row = -1
        # The last activity begun and the gap before it (its tail was closed then): a result
        # received inside that gap is fitted in by sim/channel/downlink.py.
        self.last_start_s = -math.inf
        self.gap_start_s = -math.inf
        self.gap_row = -1
        self.energy_j = {"radio_promotion": 0.0, "radio_tx": 0.0, "radio_tail": 0.0}
        self.above_fitted_range = 0  # transfers whose mean rate was above the model's range
        # Fixed per run: looked up once, not per transfer.
        self._tail_total_s = model.tail_total_s
        self._tail_stages = [(a, b, w) for a, b, w in model.tail_power_w() if b > a]

    def begin(self, t_s: float) -> tuple[float, float]:
        """Radio activity starts at ``t_s``: (promotion delay [s], promotion energy [J])."""
        model = self.model
        gap = t_s - self.last_end_s
        self.gap_start_s, self.gap_row, self.last_start_s = self.last_end_s, self.last_row, t_s
        if self.last_row >= 0:
            self._close_tail(min(gap, self._tail_total_s))
        if gap <= self._tail_total_s:
            return 0.0, 0.0
        promo_s = model.promotion_s
        self.energy_j["radio_promotion"] += model.promotion_w * self.window.overlap(
            t_s, t_s + promo_s
        )
        return promo_s, model.promotion_w * promo_s

    def end(self, row: int, tx_start_s: float, end_s: float, bits: float) -> float:
        """A transfer occupied [tx_start_s, end_s] and sent ``bits``: its energy [J]."""
        duration = end_s - tx_start_s
        power_dbm = None
        if self.model.tx_rf != "none" and self.tx_power_dbm is not None:
            power_dbm = self.tx_power_dbm(tx_start_s)
        energy = self.model.transfer_energy_j(duration, bits, power_dbm)
        # A relative 1e-9 margin: a transfer at exactly the range's top (bits / duration
        # rounds a hair above it) is inside the range.
        if duration > 0 and bits / duration > self.model.fitted_max_bps * (1.0 + 1e-9):
            self.above_fitted_range += 1  # power capped at the fitted range (radio.py)
        if duration > 0:
            self.energy_j["radio_tx"] += energy * self.window.overlap(tx_start_s, end_s) / duration
        self.last_end_s = end_s
        self.last_row = row
        return energy

    def _close_tail(self, tail_s: float) -> None:
        """The last transfer's tail lasted ``tail_s``: meter it, and charge its request the
        part before the window's end."""
        start = self.last_end_s
        overlap = self.window.overlap
        window_end = self.window.end_s
        in_window = 0.0
        charged = 0.0
        for a, b, watts in self._tail_stages:
            stage_end = min(b, tail_s)
            if stage_end > a:
                in_window += watts * overlap(start + a, start + stage_end)
                charged += watts * max(0.0, min(start + stage_end, window_end) - (start + a))
        self.energy_j["radio_tail"] += in_window
        self.charge_tail(self.last_row, charged)
        self.last_row = -1

    def close(self) -> None:
        """End of run: the last tail runs to its end (charged up to the window's end)."""
        if self.last_row >= 0:
            self._close_tail(self._tail_total_s)

    def idle_energy_j(self) -> float:
        return self.model.idle_w * (self.window.end_s - self.window.start_s)


class _Attempt(NamedTuple):
    """One attempt's plan: bits to push through the cell, HARQ tail [s], residual failure."""

    bits: float
    tail_s: float
    harq_failed: bool


class DeviceUplink:
    """One device's uplink: FIFO of payloads, radio states, errors, dedicated or shared medium."""

    def __init__(
        self,
        env: simpy.Environment,
        key: int,
        capacity: Capacity,
        radio: RadioMeter,
        *,
        cell: SharedCell | tuple[SharedCell, ...] | None = None,
        cell_names: tuple[str, ...] = (),
        timeout_s: float | None = None,
        errors: BlerErrors | GilbertElliottErrors | None = None,
        retry: RetryConfig | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.env = env
        self.key = key
        self.capacity = capacity
        self.radio = radio
        self.cell = cell
        # One name, or one per station when the stations are cells of their own (then the
        # capacity is a physical source's, which says which station serves when).
        if not cell_names:
            cell_names = (cell.name,) if isinstance(cell, SharedCell) else ("",)
        self.cell_names = cell_names
        self.source: PhysicalSource | None = None
        if len(cell_names) > 1 or isinstance(cell, tuple):
            source = getattr(capacity, "source", None)
            if not isinstance(source, PhysicalSource):
                raise ValueError("cells per station need a physical uplink")
            self.source = source
        self._roaming: RoamingTransfer | None = None
        self.timeout_s = timeout_s if timeout_s is not None else math.inf
        self.errors = errors
        self.retry = retry or RetryConfig()
        if errors is not None and rng is None:
            raise ValueError("an error model needs a random stream")
        self.rng = rng
        self.free_at_s = 0.0
        self._queue: deque[tuple[int, float, Callable[[TransferResult], None]]] = deque()
        self._busy = False

    def send(self, row: int, bits: float, on_result: Callable[[TransferResult], None]) -> None:
        """Shared cell: queue ``bits`` for request ``row`` now; ``on_result`` when it ends."""
        assert self.cell is not None, "dedicated links are computed with dedicated()"
        self._queue.append((row, bits, on_result))
        if not self._busy:
            self._start_next()

    # -- attempts
    def _plan(self, t_s: float, bits: float) -> _Attempt:
        """Bits to send (retransmissions included) and HARQ tail of an attempt starting at t_s."""
        if self.errors is None:
            return _Attempt(bits, 0.0, False)
        air_end = self.capacity.time_to_send(t_s, bits)
        if math.isinf(air_end):
            return _Attempt(bits, 0.0, False)
        assert self.rng is not None
        outcome = harq_outcome(self.errors, air_end - t_s, self.rng)
        need = bits * (1.0 + outcome.extra_blocks / outcome.blocks)
        return _Attempt(
            need, outcome.tail_rounds * self.errors.harq_rtt_s, outcome.failed_blocks > 0
        )

    def _attempt_deadline(self, t_s: float, deadline_s: float) -> float:
        limit = self.retry.attempt_timeout_s
        limit_s = deadline_s if limit is None else min(deadline_s, t_s + limit)
        # A finite process (loop: false) carries nothing after its end: an attempt then
        # fails there with the bits sent, or at once if it starts later (capacity.py).
        return max(t_s, min(limit_s, self.capacity.end_s))

    def _may_retry(self, retries_done: int, end_s: float, deadline_s: float) -> bool:
        return (
            retries_done < self.retry.max_retries
            and not math.isinf(end_s)
            and end_s + self.retry.backoff_s < min(deadline_s, self.capacity.end_s)
        )

    # -- dedicated: all arithmetic
    def dedicated(self, row: int, ready_s: float, bits: float) -> TransferResult:
        """Dedicated link: the transfer of ``bits`` that is ready at ``ready_s``, FIFO after
        the device's previous ones, computed without events (end ``inf`` if it never ends)."""
        start = max(ready_s, self.free_at_s)
        promo_s, promo_j = self.radio.begin(start)
        tx_start = start + promo_s
        deadline = tx_start + self.timeout_s
        t = tx_start
        retries = 0
        radio_bits = 0.0
        while True:
            plan = self._plan(t, bits)
            limit = self._attempt_deadline(t, deadline)
            end = self.capacity.time_to_send(t, plan.bits) + plan.tail_s
            if end > limit:
                end = limit
                ok = False
                sent = (
                    min(self.capacity.bits_between(t, end), plan.bits)
                    if not math.isinf(end)
                    else 0.0
                )
            else:
                ok = not plan.harq_failed
                sent = plan.bits
            radio_bits += sent
            if ok or not self._may_retry(retries, end, deadline):
                break
            retries += 1
            t = end + self.retry.backoff_s
        self.free_at_s = end
        if math.isinf(end):
            return TransferResult(start, tx_start, end, False, 0.0, promo_j, self._cell_at(start))
        energy = self.radio.end(row, tx_start, end, radio_bits)
        sent = bits if ok else sent
        return TransferResult(start, tx_start, end, ok, sent, promo_j + energy, self._cell_at(end))

    def _cell_at(self, end_s: float) -> str:
        """Name of the cell that carried a dedicated transfer's last bit, before ``end_s``."""
        if self.source is None:
            return self.cell_names[0]
        return self.cell_names[self.source.handover.station_before(end_s)]

    def _carrier(self, end_s: float) -> str:
        """Name of the cell that carried a shared transfer's last bit."""
        roaming = self._roaming
        if roaming is None:
            return self._cell_at(end_s)
        return self.cell_names[roaming.station]

    def handovers_between(self, t0_s: float, t1_s: float) -> int:
        """Handovers of this device's serving station in [t0_s, t1_s) (between stations of
        one cell or between cells); decides the steps up to ``t1_s`` where needed."""
        source = getattr(self.capacity, "source", None)
        if not isinstance(source, PhysicalSource) or not source.can_hand_over:
            return 0
        self.capacity.bits_until(t1_s)  # may skip: a skip replays the serving station
        return len(source.handover.handovers_between(t0_s, t1_s))

    # -- shared cell: event driven
    def _start_next(self) -> None:
        row, bits, on_result = self._queue.popleft()
        self._busy = True
        env = self.env
        start = env.now
        promo_s, promo_j = self.radio.begin(start)
        tx_start = start + promo_s
        deadline = tx_start + self.timeout_s
        state: dict[str, Any] = {"retries": 0, "radio_bits": 0.0}

        def finish(end_s: float, ok: bool, sent: float) -> None:
            energy = self.radio.end(row, tx_start, end_s, state["radio_bits"])
            sent = bits if ok else sent
            cell = self._carrier(end_s)
            self._roaming = None
            on_result(TransferResult(start, tx_start, end_s, ok, sent, promo_j + energy, cell))
            self._busy = False
            self.free_at_s = end_s
            if self._queue:
                self._start_next()

        def failed(end_s: float, sent: float) -> None:
            if self._may_retry(state["retries"], end_s, deadline):
                state["retries"] += 1
                env.timeout(self.retry.backoff_s).callbacks.append(launch)
            else:
                finish(end_s, False, sent)

        def launch(_event=None) -> None:
            assert self.cell is not None
            now = env.now
            plan = self._plan(now, bits)
            limit = self._attempt_deadline(now, deadline)

            def on_done(end_s: float, ok: bool, sent: float) -> None:
                state["radio_bits"] += sent
                if not ok:
                    failed(end_s, sent)
                    return
                if end_s + plan.tail_s > limit:
                    env.timeout(limit - end_s).callbacks.append(lambda _e: failed(limit, sent))
                    return

                def decoded(_e=None) -> None:
                    if plan.harq_failed:
                        failed(env.now, sent)
                    else:
                        finish(env.now, True, sent)

                if plan.tail_s > 0:
                    env.timeout(plan.tail_s).callbacks.append(decoded)
                else:
                    decoded()

            if isinstance(self.cell, SharedCell):
                self.cell.start(self.key, self.capacity, plan.bits, limit, on_done)
            else:
                assert self.source is not None  # checked when built
                self._roaming = RoamingTransfer(
                    env, self.key, self.capacity, self.source, self.cell, plan.bits, limit, on_done
                )

        if promo_s > 0:
            env.timeout(promo_s).callbacks.append(launch)
        else:
            launch()
