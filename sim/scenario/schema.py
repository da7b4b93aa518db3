"""The scenario file's schema: what a user writes in YAML, validated and frozen.

Units are in the key names (``duration_s``, ``rate_bps``). Unknown keys are
rejected. Cross-references (a device group's cell and server, the topology,
profile names, variants) are checked by :mod:`sim.scenario.load`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field, model_validator

from sim.channel.config import CellConfig
from sim.errors import SimInputError, did_you_mean, list_choices
from sim.exits.source import ExitSource
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

    max_batch: PositiveInt = Field(default=1, description="largest batch the server forms [jobs]")
    max_wait_s: NonNegFloat = Field(
        default=0.0,
        description="longest the oldest waiting job is held back for a fuller batch (0: start at "
        "once)",
    )


class ServiceVariability(Strict):
    """Random factor X (mean 1) multiplying the profile's service time S(b)."""

    kind: Literal["deterministic", "exponential", "gamma", "lognormal"] = Field(
        default="deterministic",
        description="law of the random factor X (mean 1) on each batch's service time: "
        "deterministic (X = 1), exponential, gamma or lognormal",
    )
    cv: PositiveFloat | None = Field(
        default=None, description="coefficient of variation (gamma, lognormal) [1]"
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
    rate_hz: PositiveFloat = Field(
        description="mean arrival rate of the other tenants' jobs (Poisson)"
    )


SELECTION_POLICIES = (
    "fixed",
    "nearest",
    "random",
    "round_robin",
    "jsq",
    "power_of_d",
    "least_latency",
)
LOAD_BLIND = ("fixed", "nearest", "random", "round_robin")
"""Selection policies that never read the servers' load (report_interval_s means nothing)."""


class Selection(Strict):
    """How each request's server is chosen, independently of the split policy
    (docs/choosing_a_server.md)."""

    policy: Literal[
        "fixed", "nearest", "random", "round_robin", "jsq", "power_of_d", "least_latency"
    ] = Field(
        default="nearest",
        description="fixed (always 'server'), nearest (lowest network latency), random, "
        "round_robin (one dispatcher per group), jsq (join the shortest queue), power_of_d (the "
        "shorter queue of d sampled servers), least_latency (least predicted network + queue + "
        "service time)",
    )
    server: str | None = Field(
        default=None, description="the server of policy fixed (servers[].name)"
    )
    d: int | None = Field(
        default=None,
        ge=2,
        description="servers sampled per request by power_of_d (default 2) [servers]",
    )
    report_interval_s: NonNegFloat = Field(
        default=0.0,
        description="information delay: load-aware policies see the servers' queue lengths as "
        "posted on a board refreshed every report_interval_s (Mitzenmacher's periodic bulletin "
        "board); 0: live state",
    )
    servers: list[str] | None = Field(
        default=None,
        min_length=1,
        description="candidate servers (servers[].name); default: every server reachable from "
        "the cell",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Selection:
        if self.policy == "fixed" and self.server is None:
            raise ValueError("policy 'fixed' needs server; allowed: a server name")
        if self.policy != "fixed" and self.server is not None:
            raise ValueError(
                f"policy '{self.policy}' takes no server (use servers: [...] for candidates)"
            )
        if self.policy != "power_of_d" and self.d is not None:
            raise ValueError(f"policy '{self.policy}' takes no d (only power_of_d does)")
        if self.policy in LOAD_BLIND and self.report_interval_s > 0:
            raise ValueError(
                f"policy '{self.policy}' does not read the servers' load: it takes no "
                "report_interval_s"
            )
        return self


class ServerConfig(Strict):
    name: str = Field(
        min_length=1, description="server name, referred to by devices[].server and in the outputs"
    )
    node: str = Field(min_length=1, description="topology node the server sits at (network.links)")
    profile: str = Field(
        min_length=1,
        description="server profile: a shipped name (python -m sim profiles server), a path, or a "
        "name found on the profile path",
    )
    tier: Literal["edge", "cloud"] = Field(
        default="edge",
        description="edge or cloud: a label reported in the outputs; a cloud is a server with a "
        "large profile reached over a long WAN path (network.links)",
    )
    workers: PositiveInt = Field(default=1, description="GPU workers serving batches in parallel")
    queue_capacity: PositiveInt | None = Field(
        default=None, description="jobs waiting (not in service); arrivals beyond are dropped"
    )
    batching: Batching = Field(
        default=Batching(),
        description="dynamic batching: a batch starts when max_batch jobs of one part wait or the "
        "oldest has waited max_wait_s",
    )
    service_variability: ServiceVariability = Field(
        default=ServiceVariability(), description="random factor on the profile's service time S(b)"
    )
    background: list[BackgroundLoad] = Field(
        default_factory=list,
        description="other tenants' jobs at this server (Poisson streams of one model part each)",
    )


class NetworkLink(Strict):
    """A wired link of the topology (undirected)."""

    a: str = Field(
        min_length=1, description="one end: a cell's node or a server's node or any other node name"
    )
    b: str = Field(min_length=1, description="the other end")
    latency_s: NonNegFloat = Field(
        description="one-way propagation and processing latency of the link"
    )
    capacity_bps: PositiveFloat = Field(
        default=10e9,
        description="link rate [bit/s]; adds store-and-forward transmission time payload/capacity "
        "per hop",
    )
    queueing: bool | None = Field(
        default=None,
        description="this link is a FIFO queue of bits per direction (true) or never queues "
        "(false); null: network.queueing",
    )


class Network(Strict):
    links: list[NetworkLink] = Field(
        default_factory=list,
        description="wired links of the topology (undirected); requests take the lowest-latency "
        "path from the cell's node to the server's node",
    )
    queueing: bool = Field(
        default=True,
        description="every link is a FIFO server of bits per direction at capacity_bps, store "
        "and forward hop by hop (a congested link delays payloads); false: links never queue "
        "(infinite capacity, only latency + payload/capacity per hop, the model before issue 17)",
    )


class DeviceGroup(Strict):
    """``count`` identical devices: profile, model, workload, deadline, policy, cell."""

    name: str = Field(
        min_length=1,
        description="group name, used in dotted keys (devices.<name>.count) and the outputs",
    )
    count: PositiveInt = Field(default=1, description="number of identical devices in the group")
    device: str = Field(
        min_length=1,
        description="device profile: a shipped name (python -m sim profiles device), a path to a "
        "YAML file, or a name found on the profile path (profile_path, "
        "SPLITSIM_PROFILE_PATH)",
    )
    model: str = Field(
        min_length=1,
        description="model profile: a shipped name (densenet201, resnet152, ...) or a path",
    )
    workload: WorkloadConfig = Field(
        description="how requests arrive at each device (kind: periodic, poisson, on_off, "
        "timestamps)",
    )
    deadline_s: PositiveFloat = Field(
        description="a request finishing later than this after its arrival is completed_late (a "
        "miss)",
    )
    cell: str = Field(
        min_length=1, description="name of the cell (cells[].name) the devices attach to"
    )
    server: str | None = Field(
        default=None,
        description="a fixed server for every request (short for selection: {policy: fixed, "
        "server: ...}); default: the selection policy's choice",
    )
    selection: Selection | None = Field(
        default=None,
        description="how each request's server is chosen (default: the nearest server)",
    )
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
    exits: ExitSource | None = Field(
        default=None,
        description="early-exit behaviour for progressive plans: a proxy table or a replay file "
        "(docs/early_exits.md); default: the PORTEND EfficientNet-B0 proxy table",
    )


class ChannelPlotOptions(Strict):
    """Which device and time window ``plots/channel_capacity.png`` shows."""

    device: NonNegInt | None = Field(
        default=None,
        description="device index (requests.parquet's device); default: the device with the "
        "most failed transfers, else the first device that sent anything",
    )
    start_s: NonNegFloat | None = Field(
        default=None,
        description="window start; default: shortly before that device's first failed "
        "transfer, else warmup_s",
    )
    span_s: PositiveFloat = Field(default=10.0, description="window length")


class Outputs(Strict):
    per_batch: bool = Field(
        default=True, description="write batches.parquet (one row per GPU batch)"
    )
    background: bool = Field(
        default=True, description="write background.parquet (the other tenants' jobs)"
    )
    csv: bool = Field(
        default=False, description="also write every table as CSV next to its Parquet file"
    )
    plots: bool = Field(default=True, description="write plots/*.png")
    stream_records: bool = Field(
        default=False,
        description="keep the request records on disk as the run goes (files in TMPDIR), not in "
        "RAM: memory stays flat in the run's length; summary and requests.parquet are read "
        "back a chunk at a time, plots are skipped (docs/howto/long_runs.md)",
    )
    channel_plot: ChannelPlotOptions = Field(
        default=ChannelPlotOptions(), description="device and time window of channel_capacity.png"
    )


class ScenarioSpec(Strict):
    """A whole scenario as written by the user."""

    name: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$",
        description="a safe file name (the default output folder is results/<name>)",
    )
    description: str = Field(
        default="", description="free text shown nowhere in the results; for the reader of the file"
    )
    seed: NonNegInt = Field(
        default=0,
        description="run seed: every random stream derives from it and a stable component name",
    )
    duration_s: PositiveFloat = Field(
        description="simulated time during which requests arrive (warm-up included)"
    )
    warmup_s: NonNegFloat = Field(
        default=0.0,
        description="requests arriving before this time are simulated but left out of the summary",
    )
    drain_s: NonNegFloat | None = Field(
        default=None,
        description="time after duration_s for in-flight requests (default 10 x max deadline)",
    )
    compare: list[StrategyRef] = Field(
        min_length=1,
        description="strategies to compare, each run on the same arrivals and channel: local, "
        "offload, a variant name (bottlefit_c12, ae_c12, split_<block>_<dtype>), "
        "static_optimum, adaptive, deadline_aware, or a name under strategies",
    )
    strategies: dict[str, StrategyConfig] = Field(
        default_factory=dict,
        description="named, tuned strategies (a mapping of name to a strategy with a kind) that "
        "compare can list",
    )
    devices: list[DeviceGroup] = Field(default_factory=list, description="device groups")
    cells: list[CellConfig] = Field(
        default_factory=list, description="radio cells and access points"
    )
    network: Network = Field(
        default=Network(), description="the wired topology between cells and servers"
    )
    servers: list[ServerConfig] = Field(default_factory=list, description="edge and cloud servers")
    outputs: Outputs = Field(
        default=Outputs(),
        description="what a run writes besides requests, devices, servers, stages and summary",
    )
    profile_path: list[str] = Field(
        default_factory=list,
        description="folders searched for profiles named without a path (device: my_board finds "
        "<folder>/devices/my_board.yaml), relative to the scenario file, before "
        "$SPLITSIM_PROFILE_PATH and the shipped profiles",
    )
    max_requests: PositiveInt = Field(
        default=20_000_000, description="refuse scenarios expected to exceed this many requests"
    )
    sweep: SweepSpec | None = Field(
        default=None, description="parameter sweep run by 'python -m sim sweep' (ignored by run)"
    )

    @model_validator(mode="after")
    def _cross_references(self) -> ScenarioSpec:
        """Checks between fields that need only the file: SimInputError with the value's key."""
        if self.warmup_s >= self.duration_s:
            raise SimInputError(
                "warmup_s must be less than duration_s",
                key="warmup_s",
                value=self.warmup_s,
                allowed=f"< {self.duration_s} (duration_s)",
            )
        named: tuple[tuple[str, Sequence[DeviceGroup | CellConfig | ServerConfig]], ...] = (
            ("devices", self.devices),
            ("cells", self.cells),
            ("servers", self.servers),
        )
        for kind, items in named:
            seen: set[str] = set()
            for i, item in enumerate(items):
                if item.name in seen:
                    raise SimInputError(
                        f"duplicate name in {kind}",
                        key=f"{kind}.{i}.name",
                        value=item.name,
                        allowed="unique names",
                    )
                seen.add(item.name)
        if not self.devices and not any(s.background for s in self.servers):
            raise SimInputError(
                "nothing generates requests: no device groups and no background load",
                key="devices",
                allowed="at least one device group or a server with background load",
            )
        cells = [c.name for c in self.cells]
        servers = [s.name for s in self.servers]
        for gi, group in enumerate(self.devices):
            if group.cell not in cells:
                raise SimInputError(
                    f"unknown cell{did_you_mean(group.cell, cells)}",
                    key=f"devices.{gi}.cell",
                    value=group.cell,
                    allowed=list_choices(cells) or "no cells are defined",
                )
            named_servers: list[tuple[str, str | None]] = [(f"devices.{gi}.server", group.server)]
            if group.selection is not None:
                named_servers.append((f"devices.{gi}.selection.server", group.selection.server))
                named_servers += [
                    (f"devices.{gi}.selection.servers.{j}", name)
                    for j, name in enumerate(group.selection.servers or ())
                ]
            for key, name in named_servers:
                if name is not None and name not in servers:
                    raise SimInputError(
                        f"unknown server{did_you_mean(name, servers)}",
                        key=key,
                        value=name,
                        allowed=list_choices(servers),
                    )
            if group.server is not None and group.selection is not None:
                raise SimInputError(
                    "give either server (a fixed server) or selection, not both",
                    key=f"devices.{gi}.server",
                    value=group.server,
                    allowed=f"selection: {{policy: fixed, server: {group.server}}}",
                )
        return self
