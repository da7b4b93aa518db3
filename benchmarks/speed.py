"""Speed rows: device requests per CPU second of a scenario, and SimPy events per request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import simpy

from benchmarks.measure import ROOT, best_of

SCENARIO = ROOT / "scenarios" / "congested_lte.yaml"
STRATEGY = "bottlefit_c12"
"""One remote strategy (BottleFit split at C = 12): head on the Pi, tail on the GPU."""

DEDICATED_CONSTANT = [
    "cells.enb.uplink={kind: constant, rate_bps: 20.0e6}",
    "cells.enb.sharing=dedicated",
    "cells.enb.errors=null",
]
"""The same scenario with each camera on its own constant-rate link (no shared cell, no
fading, no HARQ): what the engine core costs without the channel models."""


def _load(overrides: list[str], scenario: Path = SCENARIO):
    import sim

    return sim.load(scenario, overrides)


def requests_rate(
    overrides: list[str], strategy: str = STRATEGY, repeats: int = 1, scenario: Path = SCENARIO
) -> dict[str, Any]:
    """Device requests per CPU and per wall second of ``sim.run`` (loading not timed), the
    best of ``repeats`` runs (least CPU time). Background tenants' jobs are simulated but
    not counted: they are not requests (no device, channel or energy)."""
    import sim

    loaded = _load(overrides, scenario)
    results, best, every = best_of(repeats, lambda: sim.run(loaded, [strategy]))
    n = len(results.requests)
    return {
        "requests": n,
        "cpu_s": best.cpu_s,
        "wall_s": best.wall_s,
        "per_cpu_s": n / best.cpu_s,
        "per_wall_s": n / best.wall_s,
        "cpu_s_each_repeat": [t.cpu_s for t in every],
    }


def events_per_request(
    overrides: list[str], strategy: str = STRATEGY, scenario: Path = SCENARIO
) -> tuple[int, float]:
    """(device requests, SimPy events per device request): ``simpy.Environment.step`` calls,
    background jobs' events included. Counted in a run of its own (the counter slows it)."""
    import sim

    loaded = _load(overrides, scenario)
    counter = {"events": 0}
    original = simpy.Environment.step

    def counting_step(self):
        counter["events"] += 1
        return original(self)

    simpy.Environment.step = counting_step  # type: ignore[method-assign]
    try:
        results = sim.run(loaded, [strategy])
    finally:
        simpy.Environment.step = original  # type: ignore[method-assign]
    n = len(results.requests)
    return n, counter["events"] / max(n, 1)


def poisson_devices(count: int, total_rate_hz: float = 100.0) -> list[str]:
    """``count`` cameras with Poisson arrivals summing to ``total_rate_hz``: the superposed
    stream has the same law whatever ``count``, so only the number of devices changes."""
    return [
        f"devices.pi.count={count}",
        f"devices.pi.workload={{kind: poisson, rate_hz: {total_rate_hz / count}}}",
    ]
