"""Policies: which of local / offload / split a device uses for each request."""

from sim.policies.base import DeviceView, Feedback, FixedPolicy, Policy
from sim.policies.config import StrategyConfig, strategy_label
from sim.policies.registry import PolicyFactory, policy_factory

__all__ = [
    "DeviceView",
    "Feedback",
    "FixedPolicy",
    "Policy",
    "PolicyFactory",
    "StrategyConfig",
    "policy_factory",
    "strategy_label",
]
