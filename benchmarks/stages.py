"""Where a run's CPU time goes: a cProfile of one strategy, grouped into stages.

Each function's own time (tottime) goes to the stage of the file it is in. Time in
functions outside the simulator and SimPy (numpy, builtins, pydantic, ...) goes to the
stages of their callers, in proportion to the time each caller spent through them
(pstats' caller edges), so ``np.searchsorted`` called by the shared cell counts as
shared-cell time.
"""

from __future__ import annotations

import cProfile
import pstats
from typing import Any

STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("HARQ", ("sim/channel/harq",)),
    ("uplink / shared cell", ("sim/channel/",)),
    ("wired network / routing", ("sim/network", "sim/backhaul", "sim/routing")),
    (
        "server / batching",
        ("sim/server", "sim/profiles/", "sim/batching", "sim/tenants", "sim/selection/"),
    ),
    ("device compute", ("sim/device", "sim/energy")),
    (
        "arrivals / policy",
        ("sim/workload", "sim/policies/", "sim/rng", "sim/plans", "sim/exits/"),
    ),
    (
        "records / collect",
        (
            "sim/records",
            "sim/collect",
            "sim/record_stream",
            "sim/results",
            "sim/metrics",
            "sim/output",
        ),
    ),
    ("SimPy core", ("simpy/",)),
    ("engine glue (request process)", ("sim/engine",)),
    ("other simulator code", ("sim/",)),
    ("imports (first use)", ("<frozen importlib",)),
]
"""Stages in match order (first match wins): a file path containing one of the fragments."""

OTHER = "unattributed (no simulator caller)"


def stage_of_file(filename: str) -> str | None:
    path = filename.replace("\\", "/")
    for stage, fragments in STAGES:
        for fragment in fragments:
            if fragment.startswith("<") and path.startswith(fragment):
                return stage
            if fragment == "simpy/" and "/simpy/" in path:
                return stage
            if fragment.startswith("sim/") and ("/" + fragment) in path and "/simpy/" not in path:
                return stage
    return None


def split(stats: pstats.Stats) -> dict[str, float]:
    """Seconds per stage (own time, foreign functions' time given to their callers)."""
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    shares: dict[Any, dict[str, float]] = {}

    def share(func: Any, visiting: frozenset) -> dict[str, float]:
        if func in shares:
            return shares[func]
        own = stage_of_file(func[0])
        if own is not None:
            result = {own: 1.0}
        else:
            callers = table.get(func, (0, 0, 0, 0, {}))[4]
            total = sum(edge[3] for edge in callers.values()) or 0.0
            result = {}
            if total > 0 and func not in visiting:
                for caller, edge in callers.items():
                    if caller not in table:
                        continue
                    for stage, frac in share(caller, visiting | {func}).items():
                        result[stage] = result.get(stage, 0.0) + frac * edge[3] / total
            if not result:
                result = {OTHER: 1.0}
        shares[func] = result
        return result

    seconds: dict[str, float] = {}
    for func, (_cc, _nc, tottime, _ct, _callers) in table.items():
        for stage, frac in share(func, frozenset()).items():
            seconds[stage] = seconds.get(stage, 0.0) + tottime * frac
    return seconds


def _short(filename: str) -> str:
    """A profile entry's file relative to its package root (sim/..., simpy/..., numpy/...)."""
    path = filename.replace("\\", "/")
    if "site-packages/" in path:
        return path.split("site-packages/")[-1]
    for root in ("/sim/", "/benchmarks/"):
        if root in path:
            return root[1:] + path.split(root, 1)[1]
    return path


def profile_run(overrides: list[str], strategy: str) -> dict[str, Any]:
    """Profile one ``sim.run`` of congested_lte (loading not profiled): seconds and share
    per stage, requests, and the ten functions with the most own time."""
    import sim
    from benchmarks.speed import SCENARIO

    # Lazy imports and first-use caches out of the profile: a short run first.
    sim.run(sim.load(SCENARIO, ["duration_s=1", "warmup_s=0.5"]), [strategy])
    loaded = sim.load(SCENARIO, overrides)
    profiler = cProfile.Profile()
    profiler.enable()
    results = sim.run(loaded, [strategy])
    profiler.disable()
    stats = pstats.Stats(profiler)
    seconds = split(stats)
    total = sum(seconds.values())
    n = len(results.requests)
    order = [s for s, _ in STAGES] + [OTHER]
    rows = [
        {
            "stage": s,
            "seconds": seconds[s],
            "share": seconds[s] / total,
            "us_per_request": 1e6 * seconds[s] / max(n, 1),
        }
        for s in order
        if seconds.get(s, 0.0) > 0
    ]
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    top = sorted(table.items(), key=lambda kv: kv[1][2], reverse=True)[:10]
    return {
        "requests": n,
        "profiled_s": total,
        "stages": rows,
        "top_functions": [
            {
                "function": f"{_short(f[0])}:{f[1]}({f[2]})",
                "own_s": v[2],
                "calls": v[1],
            }
            for f, v in top
        ],
    }
