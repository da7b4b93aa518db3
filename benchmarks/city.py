"""The city-scale scenario: many cells of physical shared uplinks, many devices, several servers.

Generated from ``scenarios/congested_lte.yaml`` into a temporary folder: ``cells`` copies of
its cell (physical 3GPP UMa LTE uplink with shadowing, fading, blockage and HARQ,
proportional-fair shared cell), each with its own base station on a 1 km grid and
``devices_per_cell`` Raspberry Pi 4 cameras (BottleFit split) at Poisson ``rate_hz`` each,
and one H100 server (no background tenant) per ten cells, each cell wired to its
own server's node (devices use the nearest server: the default).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from benchmarks.measure import ROOT

BASE = ROOT / "scenarios" / "congested_lte.yaml"


def city_spec(
    cells: int, devices_per_cell: int, duration_s: float, rate_hz: float = 0.2
) -> dict[str, Any]:
    """The scenario as a mapping (written to YAML by :func:`write_city`)."""
    import yaml

    base = yaml.safe_load(BASE.read_text())
    cell0, group0, server0 = base["cells"][0], base["devices"][0], base["servers"][0]
    servers = max(1, round(cells / 10))
    spec: dict[str, Any] = {
        "name": f"city_{cells}x{devices_per_cell}",
        "description": "benchmark: city-scale physical shared cells (benchmarks/city.py)",
        "seed": base["seed"],
        "duration_s": duration_s,
        "warmup_s": min(5.0, duration_s / 10),
        "compare": ["bottlefit_c12"],
        "devices": [],
        "cells": [],
        "servers": [],
        "network": {"links": []},
        "outputs": {"per_batch": False},
    }
    for s in range(servers):
        spec["servers"].append({**server0, "name": f"gpu{s}", "node": f"edge{s}", "background": []})
        spec["network"]["links"].append(
            {"a": f"edge{s}", "b": "core", "latency_s": 0.001, "capacity_bps": 10.0e9}
        )
    for k in range(cells):
        cell = copy.deepcopy(cell0)
        cell["name"], cell["node"] = f"cell{k}", f"site{k}"
        cell["uplink"]["base_stations"] = [
            {
                "name": f"bs{k}",
                "x_m": 1000.0 * (k % 10),
                "y_m": 1000.0 * (k // 10),
                "height_m": 25.0,
            }
        ]
        spec["cells"].append(cell)
        spec["network"]["links"].append(
            {"a": f"site{k}", "b": f"edge{k % servers}", "latency_s": 0.004, "capacity_bps": 1.0e9}
        )
        spec["devices"].append(
            {
                **group0,
                "name": f"cams{k}",
                "count": devices_per_cell,
                "cell": f"cell{k}",
                "workload": {"kind": "poisson", "rate_hz": rate_hz},
            }
        )
    return spec


def write_city(folder: Path, **kwargs: Any) -> Path:
    """Write the city scenario into ``folder``; its path."""
    import yaml

    path = Path(folder) / "city.yaml"
    path.write_text(yaml.safe_dump(city_spec(**kwargs), sort_keys=False))
    return path


CHILD = """
import json, tempfile, time
from pathlib import Path
from benchmarks.city import write_city
import sim
folder = Path(tempfile.mkdtemp(prefix='splitsim-city-'))
path = write_city(folder, cells={cells}, devices_per_cell={per}, duration_s={duration}, rate_hz={rate})
c, w = time.process_time(), time.perf_counter()
scenario = sim.load(path)
load_cpu = time.process_time() - c
c, w = time.process_time(), time.perf_counter()
results = sim.run(scenario, ['bottlefit_c12'])
cpu, wall = time.process_time() - c, time.perf_counter() - w
n = len(results.requests)
servers = int(results.requests['server'].nunique()) if 'server' in results.requests else None
print(json.dumps({{'requests': n, 'cpu_s': cpu, 'wall_s': wall, 'load_cpu_s': load_cpu,
                  'servers_used': servers, 'cells': {cells}, 'devices': {cells} * {per}}}))
"""


def city_row(cells: int, per: int, duration_s: float, rate_hz: float = 0.2) -> dict[str, Any]:
    """Run the city in a fresh process: requests, CPU and wall seconds, its peak RSS."""
    from benchmarks.measure import child

    return child(CHILD.format(cells=cells, per=per, duration=duration_s, rate=rate_hz))
