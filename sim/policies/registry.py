"""From a strategy's configuration to a per-device policy factory (the ``kind`` registry)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sim.errors import SimInputError, list_choices
from sim.plans import Plan, build_plan
from sim.policies.adaptive import AdaptivePolicy
from sim.policies.base import FixedPolicy, Policy
from sim.policies.config import (
    CANDIDATE_FAMILIES,
    AdaptiveStrategy,
    DeadlineAwareStrategy,
    LocalStrategy,
    OffloadStrategy,
    SpinnStrategy,
    SplitStrategy,
    StaticOptimumStrategy,
    StrategyConfig,
    strategy_label,
)
from sim.policies.costs import CostModel, candidate_plans
from sim.policies.deadline_aware import DeadlineAwarePolicy
from sim.policies.spinn import build_spinn
from sim.policies.static_optimum import StaticOptimumPolicy, static_optimum
from sim.profiles.schema import DeviceProfile, ModelProfile, ServerProfile

if TYPE_CHECKING:
    from sim.channel.traces import Trace
    from sim.scenario.load import GroupRuntime
    from sim.scenario.schema import ServerConfig


@dataclass(frozen=True)
class GroupContext:
    """What a policy may know about its device group when it is built.

    ``runtime`` (the group's spec, cell, server order and network paths),
    ``server_profiles``/``server_configs`` (by server name) and ``trace`` (the
    cell's uplink trace, if any) give decision policies the mean channel and
    server figures; fixed strategies need only the profiles.
    """

    model: ModelProfile
    device: DeviceProfile
    accuracy_overrides: dict[str, float]
    file: str | None
    key: str
    runtime: GroupRuntime | None = None
    server_profiles: Mapping[str, ServerProfile] = field(default_factory=dict)
    server_configs: Mapping[str, ServerConfig] = field(default_factory=dict)
    trace: Trace | None = None


@dataclass(frozen=True)
class PolicyFactory:
    """Builds one policy per device; ``plans`` are all it may choose."""

    label: str
    plans: tuple[Plan, ...]
    make: Callable[[int], Policy]


@dataclass(frozen=True)
class _Maker:
    """``policy_class(*args, **kwargs)`` for each device: picklable, unlike a closure, so a
    resolved scenario can be sent to sweep workers with the standard library."""

    policy_class: type[Policy]
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, _device: int) -> Policy:
        return self.policy_class(*self.args, **self.kwargs)


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
        exits=ctx.runtime.spec.exits if ctx.runtime is not None else None,
    )
    return PolicyFactory(label, (plan,), _Maker(FixedPolicy, (label, plan)))


def _static(config: StrategyConfig, ctx: GroupContext) -> PolicyFactory:
    assert isinstance(config, StaticOptimumStrategy)
    label = strategy_label(config)
    choice = static_optimum(config, ctx)
    return PolicyFactory(label, (choice.chosen.plan,), _Maker(StaticOptimumPolicy, (label, choice)))


def _prior_rate(
    model: CostModel, given: float | None, plans: list[Plan], ctx: GroupContext
) -> float:
    rate = given or model.nominal_rate_bps
    if rate is None:
        if any(p.kind != "local" for p in plans):
            raise SimInputError(
                "cannot tell this cell's mean uplink capacity for the throughput prior",
                file=ctx.file,
                key=f"{ctx.key}.initial_rate_bps",
                allowed="a rate in bit/s, e.g. initial_rate_bps: 5.0e6",
            )
        return 1.0
    return rate


def _estimating_kwargs(
    config: AdaptiveStrategy | DeadlineAwareStrategy, prior: float
) -> dict[str, Any]:
    return {
        "objective": config.objective,
        "min_accuracy": config.min_accuracy,
        "energy_budget_j": config.energy_budget_j,
        "alpha": config.ewma_alpha,
        "prior_rate_bps": prior,
        "probe_after_s": config.probe_after_s,
        "overdue_factor": config.overdue_factor,
    }


def _adaptive(config: StrategyConfig, ctx: GroupContext) -> PolicyFactory:
    assert isinstance(config, AdaptiveStrategy)
    label = strategy_label(config)
    plans = candidate_plans(config.candidates, ctx, f"{ctx.key}.candidates")
    model = CostModel(ctx, plans)
    costs = [model.costs[p.name] for p in plans]
    kwargs = _estimating_kwargs(config, _prior_rate(model, config.initial_rate_bps, plans, ctx))

    make = _Maker(
        AdaptivePolicy, (label, model, costs), {"switch_margin": config.switch_margin, **kwargs}
    )
    return PolicyFactory(label, tuple(plans), make)


def default_ladder(model: ModelProfile) -> tuple[str, list[str]]:
    """(preferred, fallbacks) by default: the BottleFit variant with most channels, then fewer
    channels, then local; offload then local for a model with no BottleFit variant."""
    bottlefit = sorted(
        (v.channels, name) for name, v in model.variants.items() if v.kind == "bottlefit"
    )
    if not bottlefit:
        return "offload", ["local"]
    names = [name for _, name in reversed(bottlefit)]
    return names[0], [*names[1:], "local"]


def _smaller_of_family(model: ModelProfile, preferred: str) -> list[str]:
    spec = model.variants.get(preferred)
    if spec is None:
        return ["local"]
    smaller = sorted(
        ((v.channels, n) for n, v in model.variants.items() if v.kind == spec.kind),
        reverse=True,
    )
    return [n for c, n in smaller if c < spec.channels] + ["local"]


def _deadline_aware(config: StrategyConfig, ctx: GroupContext) -> PolicyFactory:
    assert isinstance(config, DeadlineAwareStrategy)
    label = strategy_label(config)
    preferred, fallbacks = default_ladder(ctx.model)
    if config.preferred is not None:
        preferred = config.preferred
        fallbacks = _smaller_of_family(ctx.model, preferred)
    if config.fallbacks is not None:
        fallbacks = list(config.fallbacks)
    ladder = [preferred, *fallbacks]
    keys = [f"{ctx.key}.preferred"] + [f"{ctx.key}.fallbacks.{i}" for i in range(len(fallbacks))]
    for name, key in zip(ladder, keys, strict=True):
        if name in CANDIDATE_FAMILIES:
            raise SimInputError(
                "the deadline-aware ladder names single plans, not families",
                file=ctx.file,
                key=key,
                value=name,
                allowed="local, offload or a variant name such as "
                + list_choices(list(ctx.model.variants)),
            )
    plans = candidate_plans(ladder, ctx, ctx.key, keys)
    model = CostModel(ctx, plans)
    costs = [model.costs[p.name] for p in plans]
    kwargs = _estimating_kwargs(config, _prior_rate(model, config.initial_rate_bps, plans, ctx))
    deadline = ctx.runtime.spec.deadline_s if ctx.runtime is not None else float("inf")

    make = _Maker(
        DeadlineAwarePolicy,
        (label, model, costs),
        {"deadline_s": deadline, "margin": config.margin, **kwargs},
    )
    return PolicyFactory(label, tuple(plans), make)


BUILDERS: dict[type, Callable[[StrategyConfig, GroupContext], PolicyFactory]] = {
    LocalStrategy: _fixed,
    OffloadStrategy: _fixed,
    SplitStrategy: _fixed,
    StaticOptimumStrategy: _static,
    AdaptiveStrategy: _adaptive,
    DeadlineAwareStrategy: _deadline_aware,
    SpinnStrategy: build_spinn,
}


def policy_factory(config: StrategyConfig, ctx: GroupContext) -> PolicyFactory:
    """The factory for ``config`` (raises SimInputError for unknown variants)."""
    return BUILDERS[type(config)](config, ctx)
