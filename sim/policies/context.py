"""What a policy may know about its device group, and the factory it is built into.

This module sits below the strategy registry (sim/policies/registry.py) and the
policy builders (costs, static optimum, SPINN): they all read it and none of
them is imported from here, so the builders need not import the registry back.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sim.errors import SimInputError

if TYPE_CHECKING:
    from sim.channel.traces import Trace
    from sim.plans import Plan
    from sim.policies.base import Policy
    from sim.policies.config import AdaptiveStrategy, DeadlineAwareStrategy, SpinnStrategy
    from sim.policies.costs import CostModel
    from sim.profiles.schema import DeviceProfile, ModelProfile, ServerProfile
    from sim.scenario.model import GroupRuntime
    from sim.scenario.schema import ServerConfig
    from sim.validation import Strict

T = TypeVar("T")


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
class Maker:
    """``policy_class(*args, **kwargs)`` for each device: picklable, unlike a closure, so a
    resolved scenario can be sent to sweep workers with the standard library."""

    policy_class: type[Policy]
    args: tuple[Any, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, _device: int) -> Policy:
        return self.policy_class(*self.args, **self.kwargs)


def prior_rate(
    model: CostModel, given: float | None, plans: list[Plan], ctx: GroupContext
) -> float:
    """The throughput prior [bit/s] of an estimating policy: the strategy's
    ``initial_rate_bps``, else the cell's mean uplink capacity; 1.0 (never used)
    when every plan is local."""
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


def estimating_kwargs(
    config: AdaptiveStrategy | DeadlineAwareStrategy | SpinnStrategy, prior: float
) -> dict[str, Any]:
    """The keyword arguments every :class:`~sim.policies.adaptive.EstimatingPolicy` takes."""
    return {
        "objective": config.objective,
        "min_accuracy": config.min_accuracy,
        "energy_budget_j": config.energy_budget_j,
        "alpha": config.ewma_alpha,
        "prior_rate_bps": prior,
        "probe_after_s": config.probe_after_s,
        "overdue_factor": config.overdue_factor,
    }


_BY_SETTINGS: OrderedDict[tuple[str, str, str], Any] = OrderedDict()
_BY_SETTINGS_MAX = 256


def memo_on_settings(what: str, settings: Strict, compute: Callable[[], T]) -> T:
    """``compute()``, a figure that depends only on ``settings``, memoised on their values.

    For figures a policy builder derives from one settings model alone, such as the mean
    of a channel realisation drawn from a fixed private stream: every point of a sweep
    rebuilt its policies and redrew it. The key is ``what``, the model's class and its
    JSON (every field's value), so equal settings give the stored figure and any change
    a new one; results must be immutable (numbers, frozen objects).
    """
    key = (what, type(settings).__qualname__, settings.model_dump_json())
    if key in _BY_SETTINGS:
        _BY_SETTINGS.move_to_end(key)
        return _BY_SETTINGS[key]
    value = compute()
    _BY_SETTINGS[key] = value
    while len(_BY_SETTINGS) > _BY_SETTINGS_MAX:
        _BY_SETTINGS.popitem(last=False)
    return value


def clear_settings_memo() -> None:
    """Forget every figure :func:`memo_on_settings` stored."""
    _BY_SETTINGS.clear()
