"""A mobile device: FIFO processor, compute energy, its uplink and its policy.

The processor is FIFO and each request's compute time is known when it is
queued, so start and end times follow by arithmetic:
start = max(now, free_at), end = start + t. Energy is whole-board power:
``idle_w`` when the processor is idle, the plan's ``device_w`` while it
computes; totals cover the measurement window only.
"""

from __future__ import annotations

from sim.channel.link import DeviceUplink, RadioMeter, Window
from sim.policies.base import Policy


class Device:
    """State of one device during a run."""

    __slots__ = (
        "busy_window_s",
        "compute_window_j",
        "free_at_s",
        "group",
        "idle_w",
        "index",
        "index_in_group",
        "on_device",
        "policy",
        "radio",
        "uplink",
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
        self.on_device = 0  # admitted requests whose device-side work (compute, uplink) is not done

    def reserve(self, now_s: float, seconds: float, power_w: float) -> tuple[float, float, float]:
        """Queue ``seconds`` of compute: (start [s], end [s], energy [J])."""
        start = max(now_s, self.free_at_s)
        end = start + seconds
        self.free_at_s = end
        inside = self.window.overlap(start, end)
        self.busy_window_s += inside
        self.compute_window_j += power_w * inside
        return start, end, power_w * seconds

    def energy_components_j(self) -> dict[str, float]:
        """Device energy inside the window by component [J]; their sum is the device total."""
        length = self.window.end_s - self.window.start_s
        parts = {
            "idle": self.idle_w * (length - self.busy_window_s),
            "compute": self.compute_window_j,
            "radio_idle": self.radio.idle_energy_j(),
        }
        parts.update(self.radio.energy_j)
        return parts
