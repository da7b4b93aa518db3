"""From a strategy's configuration to a per-device policy factory (the ``kind`` registry)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sim.plans import Plan, build_plan
from sim.policies.base import FixedPolicy, Policy
from sim.policies.config import (
    LocalStrategy,
    OffloadStrategy,
    SplitStrategy,
    StrategyConfig,
    strategy_label,
)
from sim.profiles.schema import DeviceProfile, ModelProfile


@dataclass(frozen=True)
class GroupContext:
    """What a policy may know about its device group when it is built."""

    model: ModelProfile
    device: DeviceProfile
    accuracy_overrides: dict[str, float]
    file: str | None
    key: str


@dataclass(frozen=True)
class PolicyFactory:
    """Builds one policy per device; ``plans`` are all it may choose."""

    label: str
    plans: tuple[Plan, ...]
    make: Callable[[int], Policy]


def _fixed(config: StrategyConfig, ctx: GroupContext) -> PolicyFactory:
    label = strategy_label(config)
    if isinstance(config, LocalStrategy):
        kind, variant = "local", "full"
    elif isinstance(config, OffloadStrategy):
        kind, variant = "offload", "full"
    else:
        assert isinstance(config, SplitStrategy)
        kind, variant = "split", config.variant
    override_key = variant if kind == "split" else kind
    plan = build_plan(
        kind,
        variant,
        ctx.model,
        ctx.device,
        accuracy_override=ctx.accuracy_overrides.get(override_key),
        where=(ctx.file, f"{ctx.key}.variant" if kind == "split" else ctx.key),
    )
    return PolicyFactory(label, (plan,), lambda _device: FixedPolicy(label, plan))


BUILDERS: dict[type, Callable[[StrategyConfig, GroupContext], PolicyFactory]] = {
    LocalStrategy: _fixed,
    OffloadStrategy: _fixed,
    SplitStrategy: _fixed,
}


def policy_factory(config: StrategyConfig, ctx: GroupContext) -> PolicyFactory:
    """The factory for ``config`` (raises SimInputError for unknown variants)."""
    return BUILDERS[type(config)](config, ctx)
