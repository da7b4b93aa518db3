"""Every scenario and sweep settings model in one place (the scenario file's schema).

The models live beside the code that uses them; this module only re-exports them,
grouped as in a scenario file, so a maintainer finds the whole schema here.
:func:`sim.schema_doc.json_schema` (``python -m sim schema``) renders it from
:data:`ROOT`. Each model's own docstring and field descriptions are the reference text.

- Scenario root: :class:`ScenarioSpec` (the whole file).
- Devices: :class:`DeviceGroup` (a group of identical devices and what they run).
- Workload (``devices.workload``, by ``kind``): :class:`Periodic`, :class:`Poisson`,
  :class:`OnOff`, :class:`Timestamps`.
- Mobility (``devices.mobility``): :class:`StaticMobility`, :class:`StraightLineMobility`,
  :class:`RandomWaypointMobility`, inside an :class:`Area`.
- Cells: :class:`CellConfig`; uplink kinds (``cells.uplink``): :class:`ConstantUplink`,
  :class:`SeriesUplink`, :class:`TraceUplink`, :class:`MarkovUplink`,
  :class:`GilbertElliottUplink`, :class:`PhysicalUplink`.
- Physical uplink parts: :class:`LinkConfig` (link budget and rate mapping),
  :class:`BaseStation`, :class:`FadingConfig`, :class:`TruncatedShannon`,
  :class:`PowerControl`, :class:`HandoverConfig`, :class:`BlockageConfig`.
- Radio energy: :class:`RadioPowerModel`.
- HARQ and retries: :class:`BlerErrors`, :class:`GilbertElliottErrors` (error models),
  :class:`RetryConfig`.
- Servers: :class:`ServerConfig`, with :class:`Batching`, :class:`ServiceVariability`,
  :class:`BackgroundLoad`; a device group's server selection: :class:`Selection`; the backhaul: :class:`Network`, :class:`NetworkLink`.
- Strategies (``strategies``, by ``kind``): :class:`LocalStrategy`, :class:`OffloadStrategy`,
  :class:`SplitStrategy`, :class:`StaticOptimumStrategy`, :class:`AdaptiveStrategy`,
  :class:`DeadlineAwareStrategy`, :class:`SpinnStrategy`.
- Early exits (``devices.exits``): :class:`ProxyExitSource`, :class:`ReplayExitSource`.
- Outputs: :class:`Outputs`, :class:`ChannelPlotOptions`.
- Sweeps: :class:`SweepSpec` (a scenario's ``sweep`` block), :class:`SweepFile` (a sweep in
  its own file), :class:`RandomSamples`, :class:`RandomParam`.
- Unions a field holds (pydantic discriminated by ``kind``): :data:`UplinkConfig`,
  :data:`WorkloadConfig`, :data:`MobilityConfig`, :data:`ErrorModelConfig`,
  :data:`StrategyConfig`, :data:`ExitSource`.
"""

from __future__ import annotations

from sim.channel.config import (
    CellConfig,
    ConstantUplink,
    GilbertElliottUplink,
    MarkovUplink,
    SeriesUplink,
    TraceUplink,
    UplinkConfig,
)
from sim.channel.harq import BlerErrors, ErrorModelConfig, GilbertElliottErrors, RetryConfig
from sim.channel.mobility import (
    Area,
    MobilityConfig,
    RandomWaypointMobility,
    StaticMobility,
    StraightLineMobility,
)
from sim.channel.physical_config import (
    BaseStation,
    BlockageConfig,
    FadingConfig,
    HandoverConfig,
    LinkConfig,
    PhysicalUplink,
    PowerControl,
    TruncatedShannon,
)
from sim.channel.radio import RadioPowerModel
from sim.exits.source import ExitSource, ProxyExitSource, ReplayExitSource
from sim.policies.config import (
    AdaptiveStrategy,
    DeadlineAwareStrategy,
    LocalStrategy,
    OffloadStrategy,
    SpinnStrategy,
    SplitStrategy,
    StaticOptimumStrategy,
    StrategyConfig,
)
from sim.scenario.schema import (
    BackgroundLoad,
    Batching,
    ChannelPlotOptions,
    DeviceGroup,
    Network,
    NetworkLink,
    Outputs,
    ScenarioSpec,
    Selection,
    ServerConfig,
    ServiceVariability,
)
from sim.sweep.spec import RandomParam, RandomSamples, SweepFile, SweepSpec
from sim.workload import OnOff, Periodic, Poisson, Timestamps, WorkloadConfig

ROOT = ScenarioSpec
"""The model a scenario file is validated into; every other model is reachable from it."""

__all__ = [
    "ROOT",
    "AdaptiveStrategy",
    "Area",
    "BackgroundLoad",
    "BaseStation",
    "Batching",
    "BlerErrors",
    "BlockageConfig",
    "CellConfig",
    "ChannelPlotOptions",
    "ConstantUplink",
    "DeadlineAwareStrategy",
    "DeviceGroup",
    "ErrorModelConfig",
    "ExitSource",
    "FadingConfig",
    "GilbertElliottErrors",
    "GilbertElliottUplink",
    "HandoverConfig",
    "LinkConfig",
    "LocalStrategy",
    "MarkovUplink",
    "MobilityConfig",
    "Network",
    "NetworkLink",
    "OffloadStrategy",
    "OnOff",
    "Outputs",
    "Periodic",
    "PhysicalUplink",
    "Poisson",
    "PowerControl",
    "ProxyExitSource",
    "RadioPowerModel",
    "RandomParam",
    "RandomSamples",
    "RandomWaypointMobility",
    "ReplayExitSource",
    "RetryConfig",
    "ScenarioSpec",
    "Selection",
    "SeriesUplink",
    "ServerConfig",
    "ServiceVariability",
    "SpinnStrategy",
    "SplitStrategy",
    "StaticMobility",
    "StaticOptimumStrategy",
    "StraightLineMobility",
    "StrategyConfig",
    "SweepFile",
    "SweepSpec",
    "Timestamps",
    "TraceUplink",
    "TruncatedShannon",
    "UplinkConfig",
    "WorkloadConfig",
]
