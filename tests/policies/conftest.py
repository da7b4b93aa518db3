"""Scenario builders for the policy tests: one device on shipped profiles, scripted channel."""

from __future__ import annotations

from typing import Any

from sim.scenario.load import build_scenario
from tests.conftest import REPO


def one_device_spec(
    *,
    device: str = "jetson_nano",
    model: str = "resnet152",
    uplink: dict[str, Any] | None = None,
    times_s: list[float] | None = None,
    compare: list[Any] | None = None,
    radio: str = "none",
    deadline_s: float = 5.0,
    duration_s: float | None = None,
    timeout_s: float | None = None,
    drain_s: float | None = None,
) -> dict[str, Any]:
    """One device, a dedicated link, one idle H100 (batch 1, deterministic service)."""
    times = times_s if times_s is not None else [0.5, 3.5, 6.5, 9.5]
    cell: dict[str, Any] = {
        "name": "ap",
        "node": "ap",
        "radio": radio,
        "uplink": uplink or {"kind": "constant", "rate_bps": 10.0e6},
        "downlink_bps": 50.0e6,
        "propagation_s": 0.001,
    }
    if timeout_s is not None:
        cell["transfer_timeout_s"] = timeout_s
    spec: dict[str, Any] = {
        "name": "policy_test",
        "seed": 1,
        "duration_s": duration_s if duration_s is not None else times[-1] + 1.0,
        "compare": compare or ["local"],
        "devices": [
            {
                "name": "dev",
                "device": device,
                "model": model,
                "workload": {"kind": "timestamps", "times_s": times},
                "deadline_s": deadline_s,
                "cell": "ap",
            }
        ],
        "cells": [cell],
        "network": {"links": [{"a": "ap", "b": "edge", "latency_s": 0.002}]},
        "servers": [{"name": "gpu", "node": "edge", "profile": "h100_eager_pytorch"}],
    }
    if drain_s is not None:
        spec["drain_s"] = drain_s
    return spec


def one_device(**kwargs: Any):
    return build_scenario(one_device_spec(**kwargs), REPO / "tests" / "policy_test.yaml")
