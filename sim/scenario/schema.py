"""The scenario file's schema: what a user writes in YAML, validated and frozen.

Units are in the key names (``duration_s``, ``rate_bps``). Unknown keys are
rejected. Cross-references (a device group's cell and server, the topology,
profile names, variants) are checked by :mod:`sim.scenario.load`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from sim.channel.config import CellConfig
from sim.policies.config import StrategyConfig
from sim.sweep.spec import SweepSpec
from sim.validation import (
    NonNegFloat,
    NonNegInt,
    PositiveFloat,
    PositiveInt,
    Probability,
    Strict,
)
from sim.workload import WorkloadConfig

StrategyRef = str | dict[str, Any]


class Batching(Strict):
    """Dynamic batching: a batch starts when ``max_batch`` jobs of one part wait,
    or when the oldest has waited ``max_wait_s`` (Triton's max queue delay)."""

    max_batch: PositiveInt = 1
    max_wait_s: NonNegFloat = 0.0


class ServiceVariability(Strict):
    """Random factor X (mean 1) multiplying the profile's service time S(b)."""

    kind: Literal["deterministic", "exponential", "gamma", "lognormal"] = "deterministic"
    cv: PositiveFloat | None = Field(
        default=None, description="coefficient of variation (gamma, lognormal)"
    )

    @model_validator(mode="after")
    def _cv(self) -> ServiceVariability:
        if self.kind in ("gamma", "lognormal") and self.cv is None:
            raise ValueError(f"'{self.kind}' needs cv; allowed: a positive number")
        if self.kind in ("deterministic", "exponential") and self.cv is not None:
            raise ValueError(f"'{self.kind}' takes no cv")
        return self


class BackgroundLoad(Strict):
    """Other tenants' jobs: Poisson arrivals of one model part at the server."""

    part: str = Field(min_length=3, description="'<model>/full' or '<model>/<variant>'")
    rate_hz: PositiveFloat


class ServerConfig(Strict):
    name: str = Field(min_length=1)
    node: str = Field(min_length=1)
    profile: str = Field(min_length=1)
    workers: PositiveInt = 1
    queue_capacity: PositiveInt | None = Field(
        default=None, description="jobs waiting (not in service); arrivals beyond are dropped"
    )
    batching: Batching = Batching()
    service_variability: ServiceVariability = ServiceVariability()
    background: list[BackgroundLoad] = Field(default_factory=list)


class NetworkLink(Strict):
    """A wired link of the topology (undirected)."""

    a: str = Field(min_length=1)
    b: str = Field(min_length=1)
    latency_s: NonNegFloat
    capacity_bps: PositiveFloat = 10e9


class Network(Strict):
    links: list[NetworkLink] = Field(default_factory=list)


class DeviceGroup(Strict):
    """``count`` identical devices: profile, model, workload, deadline, policy, cell."""

    name: str = Field(min_length=1)
    count: PositiveInt = 1
    device: str = Field(min_length=1)
    model: str = Field(min_length=1)
    workload: WorkloadConfig
    deadline_s: PositiveFloat
    cell: str = Field(min_length=1)
    server: str | None = Field(default=None, description="default: the nearest server")
    policy: StrategyRef = Field(
        default="compare", description="'compare' follows the strategy being compared"
    )
    max_pending: PositiveInt | None = Field(
        default=None,
        description="requests still on the device (computing or uploading) beyond which new ones are dropped",
    )
    result_bytes: PositiveInt = Field(
        default=16, description="response size: top-1 label and score"
    )
    accuracy: dict[str, Probability] = Field(
        default_factory=dict,
        description="override expected top-1 per variant ('local', 'bottlefit_c6', ...)",
    )


class Outputs(Strict):
    per_batch: bool = True
    background: bool = True
    csv: bool = False
    plots: bool = True


class ScenarioSpec(Strict):
    """A whole scenario as written by the user."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str = ""
    seed: NonNegInt = 0
    duration_s: PositiveFloat
    warmup_s: NonNegFloat = 0.0
    drain_s: NonNegFloat | None = Field(
        default=None,
        description="time after duration_s for in-flight requests (default 10 x max deadline)",
    )
    compare: list[StrategyRef] = Field(min_length=1)
    strategies: dict[str, StrategyConfig] = Field(default_factory=dict)
    devices: list[DeviceGroup] = Field(default_factory=list)
    cells: list[CellConfig] = Field(default_factory=list)
    network: Network = Network()
    servers: list[ServerConfig] = Field(default_factory=list)
    outputs: Outputs = Outputs()
    max_requests: PositiveInt = Field(
        default=20_000_000, description="refuse scenarios expected to exceed this many requests"
    )
    sweep: SweepSpec | None = Field(
        default=None, description="parameter sweep run by 'python -m sim sweep' (ignored by run)"
    )
