"""A ResNet-152 / Jetson Nano scenario builder for the early-exit tests (shipped profiles)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from sim.scenario.load import build_scenario


def exit_spec(**changes: Any) -> dict[str, Any]:
    """Four Jetson Nanos, ResNet-152, constant 20 Mbit/s LTE uplink, an H100 edge server."""
    spec: dict[str, Any] = {
        "name": "exits",
        "seed": 5,
        "duration_s": 20.0,
        "warmup_s": 0.0,
        "compare": ["split_layer2_uint8", "progressive_layer2_t1"],
        "devices": [
            {
                "name": "board",
                "count": 4,
                "device": "jetson_nano",
                "model": "resnet152",
                "workload": {"kind": "poisson", "rate_hz": 2.0},
                "deadline_s": 0.5,
                "cell": "lte",
            }
        ],
        "cells": [
            {
                "name": "lte",
                "node": "enb",
                "radio": "lte",
                "uplink": {"kind": "constant", "rate_bps": 20.0e6},
                "downlink_bps": 50.0e6,
                "propagation_s": 0.005,
            }
        ],
        "network": {"links": [{"a": "enb", "b": "edge", "latency_s": 0.005}]},
        "servers": [
            {
                "name": "gpu0",
                "node": "edge",
                "profile": "h100_eager_pytorch",
                "batching": {"max_batch": 4, "max_wait_s": 0.02},
                "background": [{"part": "resnet152/full", "rate_hz": 150}],
            }
        ],
    }
    for key, value in changes.items():
        spec[key] = value
    return spec


def exit_scenario(base_dir: Path | None = None, device_changes: dict | None = None, **changes):
    spec = exit_spec(**changes)
    if device_changes:
        spec["devices"][0].update(copy.deepcopy(device_changes))
    path = (base_dir or Path.cwd()) / "exits.yaml"
    return build_scenario(copy.deepcopy(spec), path)
