"""The policy interface: per request, pick the plan a device follows.

A policy instance belongs to one device (adaptive policies keep per-device
estimates). ``choose`` is called when a request arrives; ``observe`` is called
with what the device learns when a request ends (its own transfer throughput,
the server's queue feedback carried in the response).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass

from sim.plans import Plan
from sim.policies.context import GroupContext, PolicyFactory

__all__ = ["DeviceView", "Feedback", "FixedPolicy", "GroupContext", "Policy", "PolicyFactory"]


@dataclass(frozen=True, slots=True)
class DeviceView:
    """What a device knows when it decides [s]."""

    now_s: float
    device: int
    pending: (
        int  # admitted requests still on the device (computing, or waiting for/using the radio)
    )
    processor_free_at_s: float
    uplink_free_at_s: float


@dataclass(frozen=True, slots=True)
class Feedback:
    """What a device learns when one of its requests ends."""

    now_s: float
    plan: Plan
    outcome: str
    uplink_bits: float
    uplink_s: float  # transfer time after promotion, 0 if none
    latency_s: float
    server_queue_len: (
        int  # jobs waiting at the server when the request's batch started (-1 unknown)
    )
    server_wait_s: float = math.nan  # server arrival to batch start (queue + batching), nan if none


class Policy(ABC):
    """Chooses a :class:`Plan` per request."""

    name: str
    wants_feedback: bool = True  # False: the engine skips building Feedback for it

    @abstractmethod
    def plans(self) -> list[Plan]:
        """Every plan this policy may choose (validated at load time)."""

    @abstractmethod
    def choose(self, view: DeviceView) -> Plan:
        """The plan for the request arriving now."""

    def observe(self, feedback: Feedback) -> None:  # noqa: B027 - optional hook
        """Learn from a finished request (fixed policies ignore it)."""

    def stats(self) -> dict[str, float]:
        """Counters reported per device at the end of a run (e.g. fallbacks taken)."""
        return {}


class FixedPolicy(Policy):
    """Always the same plan: the ``local``, ``offload`` and fixed split strategies."""

    wants_feedback = False

    def __init__(self, name: str, plan: Plan) -> None:
        self.name = name
        self.plan = plan

    def plans(self) -> list[Plan]:
        return [self.plan]

    def choose(self, view: DeviceView) -> Plan:
        return self.plan
