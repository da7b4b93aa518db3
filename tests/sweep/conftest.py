"""Shared pieces of the sweep tests: a small, fast version of the default scenario."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import sim
from tests.conftest import REPO

SCENARIO = Path(__file__).parent / "data" / "small.yaml"
"""Three strategies, about 0.2 s a run."""
SMALL: list[str] = []
"""Base overrides the tests apply to SCENARIO (none: it is small already)."""
RATE_KEY = "cells.enb.uplink.rate_bps"


def small_scenario(*extra: str) -> sim.Scenario:
    return sim.load(SCENARIO, [*SMALL, *extra])


def subprocess_env() -> dict[str, str]:
    """Environment for child processes: this checkout importable, no colour, no buffering."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
    )
    env["PYTHONUNBUFFERED"] = "1"
    return env


def sim_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "sim", *map(str, args)]


@pytest.fixture
def small() -> sim.Scenario:
    return small_scenario()
