"""The :class:`Plan` record and the device-side figures every plan builder reads.

Below both sim/plans.py (vanilla and BottleFit plans) and sim/exits/plan.py
(progressive plans with early exits), so neither imports the other back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from sim.exits.plan import ExitPlan
    from sim.profiles.schema import DeviceProfile, ModelProfile

PlanKind = Literal["local", "offload", "split"]


@dataclass(frozen=True, slots=True)
class ServerPart:
    """The server-side work of a plan: ``key`` is '<model>/<part>'."""

    key: str
    model: str
    part: str  # 'full', a variant name, or 'tail_after_<block>'
    macs: float


@dataclass(frozen=True, slots=True)
class Plan:
    """One way to serve a request; times [s], power [W], payload [bytes]."""

    name: str
    kind: PlanKind
    model: str
    device_s: float
    device_w: float
    payload_bytes: int
    server: ServerPart | None
    accuracy: float
    device_provenance: str
    exits: ExitPlan | None = None  # progressive plans only (sim/exits/plan.py)


def device_block_s(device: DeviceProfile, model: ModelProfile, index: int) -> tuple[float, str]:
    """Block ``index``'s device time [s] and its provenance (measured table, else the cost model)."""
    block = model.blocks[index]
    times = device.models.get(model.name)
    if times is not None and block.name in times.blocks_s:
        return times.blocks_s[block.name], times.provenance
    cost = device.cost_model
    return cost.overhead_per_block_s + block.macs / cost.macs_per_s, cost.provenance


def worst_provenance(provenances: set[str]) -> str:
    """The weakest provenance among ``provenances`` (assumed < given < derived < published < measured)."""
    for level in ("assumed", "given", "derived", "published", "measured"):
        if level in provenances:
            return level
    return "measured"


def device_power_w(device: DeviceProfile, model: ModelProfile) -> float:
    """The device's compute power [W] running ``model`` (per-model figure, else the device's)."""
    times = device.models.get(model.name)
    if times is not None and times.compute_w is not None:
        return times.compute_w.value
    return device.power.compute_w.value
