"""Start-up rows: ``import sim`` and ``import sim.api`` in a fresh process, and planning a
sweep point (``plan_sweep`` of a shipped sweep file, per point)."""

from __future__ import annotations

from typing import Any

from benchmarks.measure import ROOT, child

IMPORT = """
import time
c, w = time.process_time(), time.perf_counter()
import {module}
cpu, wall = time.process_time() - c, time.perf_counter() - w
import json
print(json.dumps({{'cpu_s': cpu, 'wall_s': wall, 'modules': len(sys.modules)}}))
"""

SWEEP = ROOT / "scenarios" / "sweeps" / "edge_load.yaml"

PLAN = """
import time, json
import sim
from sim.sweep.plan import plan_sweep
from sim.sweep.runner import merge_spec, open_target
c = time.process_time()
scenario, spec, _ = open_target({sweep!r}, [])
load_cpu = time.process_time() - c
merged = merge_spec(spec)
timings = []
for _ in range({repeats}):
    c, w = time.process_time(), time.perf_counter()
    plan = plan_sweep(scenario, merged)
    timings.append((time.process_time() - c, time.perf_counter() - w))
print(json.dumps({{'points': len(plan.points), 'runs': len(plan.runs), 'load_cpu_s': load_cpu,
                  'plans': timings}}))
"""


def import_time(module: str, repeats: int) -> dict[str, Any]:
    """CPU and wall seconds of ``import module`` in ``repeats`` fresh processes: the least
    of each (the import is deterministic; the spread is other work on the machine)."""
    runs = [child(IMPORT.format(module=module)) for _ in range(max(1, repeats))]
    return {
        "cpu_s": min(r["cpu_s"] for r in runs),
        "wall_s": min(r["wall_s"] for r in runs),
        "cpu_s_each": [r["cpu_s"] for r in runs],
        "modules": runs[0]["modules"],
    }


def planning_time(repeats: int = 3) -> dict[str, Any]:
    """Seconds per sweep point of ``plan_sweep`` on ``scenarios/sweeps/edge_load.yaml``
    (8 points x 3 replications) in a fresh process: the first planning (what a user pays,
    caches cold) and the least of the later ones (caches warm)."""
    out = child(PLAN.format(sweep=str(SWEEP), repeats=max(2, repeats)))
    points = out["points"]
    first_cpu, first_wall = out["plans"][0]
    later = out["plans"][1:]
    return {
        "points": points,
        "runs": out["runs"],
        "sweep_file": "scenarios/sweeps/edge_load.yaml",
        "first_cpu_s_per_point": first_cpu / points,
        "first_wall_s_per_point": first_wall / points,
        "warm_cpu_s_per_point": min(c for c, _ in later) / points,
        "load_cpu_s": out["load_cpu_s"],
    }
