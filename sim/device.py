"""A mobile device: FIFO processor, compute energy, its uplink and its policy.

The processor is FIFO and each request's compute time is known when it is
queued, so start and end times follow by arithmetic:
start = max(now, free_at), end = start + t. Energy (docs/energy.md): the
board draws ``idle_w`` all the time (its baseline) and ``device_w - idle_w``
more while it computes; the radio's draw adds to both. Each request is charged
what it adds above idle; the meter here totals the board over the measurement
window only (whole board = baseline + compute above idle + radio).

What the device learns when a request ends (its policy's feedback) is queued
with the time it is learnt and handed to the policy before its next decision,
in time order: the same information at the same moments as delivering it when
the request ends, without an event per request.
"""

from __future__ import annotations

import heapq
import itertools
from typing import Any

from sim.channel.link import DeviceUplink, RadioMeter, Window
from sim.policies.base import Feedback, Policy


class Device:
    """State of one device during a run."""

    __slots__ = (
        "_ends",
        "_feedback",
        "_seq",
        "_unknown_ends",
        "busy_window_s",
        "compute_window_j",
        "free_at_s",
        "group",
        "idle_w",
        "index",
        "index_in_group",
        "policy",
        "radio",
        "uplink",
        "wants_feedback",
        "window",
    )

    def __init__(
        self,
        index: int,
        group: int,
        index_in_group: int,
        policy: Policy,
        uplink: DeviceUplink,
        radio: RadioMeter,
        idle_w: float,
        window: Window,
    ) -> None:
        self.index = index
        self.group = group
        self.index_in_group = index_in_group
        self.policy = policy
        self.uplink = uplink
        self.radio = radio
        self.idle_w = idle_w
        self.window = window
        self.free_at_s = 0.0
        self.busy_window_s = 0.0
        self.compute_window_j = 0.0
        self.wants_feedback = policy.wants_feedback
        # Admitted requests whose device-side work (compute, uplink) is not done: those whose
        # end is known (a heap of end times) and those still waiting for a shared cell.
        self._ends: list[float] = []
        self._unknown_ends = 0
        self._feedback: list[tuple[float, int, Feedback]] = []
        self._seq = itertools.count()

    def pending(self, now_s: float) -> int:
        """Admitted requests still on the device at ``now_s`` (computing or uploading)."""
        ends = self._ends
        while ends and ends[0] <= now_s:
            heapq.heappop(ends)
        return len(ends) + self._unknown_ends

    def hold_until(self, end_s: float | None) -> None:
        """A request stays on the device until ``end_s`` (None: until :meth:`release`)."""
        if end_s is None:
            self._unknown_ends += 1
        else:
            heapq.heappush(self._ends, end_s)

    def release(self) -> None:
        """A request whose end was unknown has left the device."""
        self._unknown_ends -= 1

    def learn(self, feedback: Feedback) -> None:
        """Queue what the device learns at ``feedback.now_s``."""
        heapq.heappush(self._feedback, (feedback.now_s, next(self._seq), feedback))

    def deliver(self, now_s: float) -> None:
        """Hand the policy everything learnt up to ``now_s``, oldest first."""
        queue = self._feedback
        observe = self.policy.observe
        while queue and queue[0][0] <= now_s:
            observe(heapq.heappop(queue)[2])

    def reserve(self, now_s: float, seconds: float, power_w: float) -> tuple[float, float, float]:
        """Queue ``seconds`` of compute at board power ``power_w`` [W]:
        (start [s], end [s], energy above the board's idle draw [J])."""
        start = max(now_s, self.free_at_s)
        end = start + seconds
        self.free_at_s = end
        above_w = max(0.0, power_w - self.idle_w)
        inside = self.window.overlap(start, end)
        self.busy_window_s += inside
        self.compute_window_j += above_w * inside
        return start, end, above_w * seconds

    def energy_components_j(self) -> dict[str, float]:
        """Device energy inside the window by component [J]; their sum is the whole board.

        ``board_idle``: the baseline ``idle_w`` over the whole window; every other part is
        drawn on top of it (``compute_above_idle``: ``device_w - idle_w`` while computing;
        ``radio_*``: the radio power-state model, whose figures are above the radio's idle).
        """
        length = self.window.end_s - self.window.start_s
        parts = {
            "board_idle": self.idle_w * length,
            "compute_above_idle": self.compute_window_j,
            "radio_idle": self.radio.idle_energy_j(),
        }
        parts.update(self.radio.energy_j)
        return parts

    def result_row(self) -> dict[str, Any]:
        """This device's row of the per-device table (sim/collect.py adds strategy and group):
        its energy by component inside the window [J], the window [s], and its policy's stats."""
        parts = self.energy_components_j()
        return {
            "device": self.index,
            "index_in_group": self.index_in_group,
            **{f"e_{k}_j": v for k, v in parts.items()},
            "e_total_j": float(sum(parts.values())),
            "window_s": self.window.end_s - self.window.start_s,
            "board_idle_w": self.idle_w,
            "radio_transfers_above_range": self.radio.above_fitted_range,
            **{f"policy_{k}": v for k, v in self.policy.stats().items()},
        }
