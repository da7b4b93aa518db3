"""The resolved scenario the engine runs: frozen dataclasses, no loading.

:mod:`sim.scenario.load` builds these from YAML (overrides, profile lookup,
cross-checks, policy factories through the registry); the engine, results and
sweeps read them and import only this module, so nothing here reaches back into
the loader or the policy registry.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.policies.config import StrategyConfig, strategy_label
from sim.scenario.overrides import apply_overrides

if TYPE_CHECKING:
    from sim.channel.config import CellConfig
    from sim.channel.traces import Trace
    from sim.network import Path as NetPath
    from sim.policies.context import PolicyFactory
    from sim.profiles.schema import DeviceProfile, ModelProfile, ServerProfile
    from sim.profiles.service import ServiceModel
    from sim.scenario.schema import DeviceGroup, ScenarioSpec, Selection

Builder = Callable[..., "Scenario"]
"""``build(raw, path, applied=...)``: how a scenario is resolved again from its raw data."""


@dataclass(frozen=True)
class GroupRuntime:
    """A device group's resolved pieces."""

    spec: DeviceGroup
    index: int
    model: ModelProfile
    device: DeviceProfile
    cell: CellConfig
    server: str | None  # fixed server, or None when the selection policy chooses
    server_order: tuple[str, ...]  # candidate servers reachable from the cell, nearest first
    paths: dict[str, NetPath]  # from the group's cell, to every server it reaches
    selection: Selection  # resolved: policy fixed when the group names a server
    candidates: dict[str, tuple[str, ...]]  # cell -> candidate servers reachable, nearest first


@dataclass(frozen=True)
class Scenario:
    """A fully resolved scenario, ready to build and run.

    ``builder`` is the loader function that made it (:func:`sim.scenario.load.build_scenario`),
    handed in so that :meth:`with_overrides` can resolve the changed raw data the same
    way without this module importing the loader.
    """

    spec: ScenarioSpec
    path: Path | None
    raw: dict[str, Any]
    strategies: tuple[StrategyConfig, ...]
    groups: tuple[GroupRuntime, ...]
    servers: dict[str, ServerProfile]
    traces: dict[str, Trace | None]
    factories: dict[tuple[str, str], PolicyFactory]  # (group, strategy label)
    service_models: dict[tuple[str, str], ServiceModel]  # (server, part key)
    models: dict[str, ModelProfile] = field(default_factory=dict)
    paths: dict[tuple[str, str], NetPath] = field(default_factory=dict)  # (cell, server): route
    builder: Builder | None = field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def strategy_labels(self) -> list[str]:
        return [strategy_label(s) for s in self.strategies]

    def factory(self, group: str, strategy: str) -> PolicyFactory:
        return self.factories[(group, strategy)]

    def with_overrides(self, overrides: list[str]) -> Scenario:
        """This scenario with 'dotted.key=value' overrides applied (a list of strings)."""
        if self.builder is None:
            raise TypeError("this Scenario was not made by sim.load; it cannot be re-resolved")
        applied: dict[str, str] = {}
        data = apply_overrides(copy.deepcopy(self.raw), overrides, "with_overrides", applied)
        return self.builder(data, self.path, applied=applied)
