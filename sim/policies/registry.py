"""From a strategy's configuration to a per-device policy factory (the ``kind`` registry)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.errors import SimInputError, list_choices
from sim.plans import PlanKind, build_plan
from sim.policies.adaptive import AdaptivePolicy
from sim.policies.base import FixedPolicy
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
from sim.policies.context import (
    GroupContext,
    Maker,
    PolicyFactory,
    estimating_kwargs,
    prior_rate,
)
from sim.policies.costs import CostModel, candidate_plans
from sim.policies.deadline_aware import DeadlineAwarePolicy
from sim.policies.spinn import build_spinn
from sim.policies.static_optimum import StaticOptimumPolicy, static_optimum
from sim.profiles.schema import ModelProfile

__all__ = ["BUILDERS", "GroupContext", "PolicyFactory", "default_ladder", "policy_factory"]


def _fixed(config: StrategyConfig, ctx: GroupContext) -> PolicyFactory:
    label = strategy_label(config)
    kind: PlanKind
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
    return PolicyFactory(label, (plan,), Maker(FixedPolicy, (label, plan)))


def _static(config: StrategyConfig, ctx: GroupContext) -> PolicyFactory:
    assert isinstance(config, StaticOptimumStrategy)
    label = strategy_label(config)
    choice = static_optimum(config, ctx)
    return PolicyFactory(label, (choice.chosen.plan,), Maker(StaticOptimumPolicy, (label, choice)))


def _adaptive(config: StrategyConfig, ctx: GroupContext) -> PolicyFactory:
    assert isinstance(config, AdaptiveStrategy)
    label = strategy_label(config)
    plans = candidate_plans(config.candidates, ctx, f"{ctx.key}.candidates")
    model = CostModel(ctx, plans)
    costs = [model.costs[p.name] for p in plans]
    kwargs = estimating_kwargs(config, prior_rate(model, config.initial_rate_bps, plans, ctx))

    make = Maker(
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
    kwargs = estimating_kwargs(config, prior_rate(model, config.initial_rate_bps, plans, ctx))
    deadline = ctx.runtime.spec.deadline_s if ctx.runtime is not None else float("inf")

    make = Maker(
        DeadlineAwarePolicy,
        (label, model, costs),
        {"deadline_s": deadline, "margin": config.margin, **kwargs},
    )
    return PolicyFactory(label, tuple(plans), make)


BUILDERS: dict[type, Callable[[Any, GroupContext], PolicyFactory]] = {
    # Each builder takes its own strategy class (the key); policy_factory dispatches on it.
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
