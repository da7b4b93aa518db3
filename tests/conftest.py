"""Shared fixtures: toy profiles and a small scenario builder."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from sim.scenario.load import build_scenario

# Property tests: the full suite runs hypothesis' defaults ("ci"); the fast
# profile (python -m pytest -m "not slow" --hypothesis-profile=fast) fewer examples.
settings.register_profile("ci", settings.default)
settings.register_profile("fast", max_examples=10, deadline=None)

DATA = Path(__file__).parent / "data"
PROFILES = DATA / "profiles"
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def toy_spec(**changes: Any) -> dict[str, Any]:
    """A one-device scenario on the toy profiles, constant link, idle server."""
    spec: dict[str, Any] = {
        "name": "toy",
        "seed": 1,
        "duration_s": 10.0,
        "warmup_s": 0.0,
        "compare": ["bottlefit_c2"],
        "devices": [
            {
                "name": "dev",
                "count": 1,
                "device": str(PROFILES / "toy_device.yaml"),
                "model": str(PROFILES / "toy_model.yaml"),
                "workload": {"kind": "timestamps", "times_s": [0.0, 0.01, 1.0]},
                "deadline_s": 0.5,
                "cell": "ap",
            }
        ],
        "cells": [
            {
                "name": "ap",
                "node": "ap",
                "radio": "none",
                "uplink": {"kind": "constant", "rate_bps": 1.0e6},
                "downlink_bps": 1.0e6,
                "propagation_s": 0.001,
            }
        ],
        "network": {"links": [{"a": "ap", "b": "edge", "latency_s": 0.002, "capacity_bps": 1.0e9}]},
        "servers": [
            {
                "name": "srv",
                "node": "edge",
                "profile": str(PROFILES / "toy_server.yaml"),
                "workers": 1,
                "batching": {"max_batch": 1, "max_wait_s": 0.0},
            }
        ],
    }
    for dotted, value in changes.items():
        node = spec
        parts = dotted.split("__")
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return copy.deepcopy(spec)


def toy_scenario(**changes: Any):
    return build_scenario(toy_spec(**changes), REPO / "tests" / "toy.yaml")


@pytest.fixture
def shared_traces() -> Path:
    folder = SHARED / "traces"
    if not folder.is_dir():
        pytest.skip(
            f"public traces not available at {folder} (../shared/traces beside the checkout)"
        )
    return folder
