"""Measure the simulator's speed and memory against a bare SimPy M/M/1 job.

    python -m benchmarks            # all four figures, a table and the ratios
    python -m benchmarks --quick    # smaller sizes (a minute), for a smoke check

Figures (issue "Performance"):
1. requests per wall second of a congested_lte-class scenario vs M/M/1 jobs per second;
2. SimPy events processed per request (no per-slot or per-packet events);
3. peak RSS for 1,000,000 requests with full per-request records (subprocess);
4. cost per request with 1,000 devices vs 10 devices, same total requests.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from benchmarks.mm1_reference import mm1_jobs_per_second  # noqa: E402

SCENARIO = ROOT / "scenarios" / "congested_lte.yaml"


def _requests_per_second(
    overrides: list[str], strategy: str = "bottlefit_c12"
) -> tuple[float, int, float]:
    """(requests per wall second, requests, events per request) for one strategy."""
    scenario = sim.load(SCENARIO, overrides)
    counter = {"events": 0}
    original = simpy.Environment.step

    def counting_step(self):
        counter["events"] += 1
        return original(self)

    simpy.Environment.step = counting_step
    try:
        started = time.perf_counter()
        results = sim.run(scenario, [strategy])
        wall = time.perf_counter() - started
    finally:
        simpy.Environment.step = original
    # Device requests only: background tenants' jobs are simulated too, and their events
    # are counted, but they are not requests (they have no device, channel or energy).
    n = len(results.requests)
    return n / wall, n, counter["events"] / max(n, 1)


def _peak_rss_for(requests: int) -> dict:
    """Run ~``requests`` requests in a fresh process; its peak RSS [MiB]."""
    # 30 devices x 5 fps x 1 strategy: duration to reach the count (background off).
    duration = requests / 150.0
    code = (
        "import resource, sys, time, sim\n"
        f"s = sim.load({str(SCENARIO)!r}, ['duration_s={duration}', 'warmup_s=1', 'servers.0.background=[]',"
        " 'outputs.per_batch=false'])\n"
        "t = time.perf_counter(); r = sim.run(s, ['bottlefit_c12']); wall = time.perf_counter() - t\n"
        "n = len(r.requests)\n"
        "print(n, wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    n, wall, rss = out.stdout.split()
    return {"requests": int(n), "wall_s": float(wall), "peak_rss_mib": float(rss)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    quick = args.quick

    mm1 = mm1_jobs_per_second(50_000 if quick else 300_000)
    duration = 20 if quick else 120
    rate, n, events = _requests_per_second([f"duration_s={duration}", "warmup_s=1"])
    # For scale: the same scenario with each camera on its own constant-rate link (no shared
    # cell, no fading, no HARQ): what the engine core costs without the channel models.
    plain, _, plain_events = _requests_per_second(
        [
            f"duration_s={duration}",
            "warmup_s=1",
            "cells.enb.uplink={kind: constant, rate_bps: 20.0e6}",
            "cells.enb.sharing=dedicated",
            "cells.enb.errors=null",
        ]
    )
    total = 20_000 if quick else 200_000
    # Same total requests and the same arrival law: Poisson devices superpose to one Poisson
    # stream of 100 requests/s whatever their number (10 at 10/s vs 1000 at 0.1/s), so only
    # the number of devices changes (each still has its own channel and FIFO). No background.
    dur = total / 100.0
    common = [f"duration_s={dur}", "warmup_s=0.5", "servers.0.background=[]"]

    def devices(count: int) -> list[str]:
        rate = 100.0 / count
        return [
            f"devices.pi.count={count}",
            f"devices.pi.workload={{kind: poisson, rate_hz: {rate}}}",
        ]

    few, _, _ = _requests_per_second([*common, *devices(10)])
    many, _, _ = _requests_per_second([*common, *devices(1000)])
    # The same comparison on constant-rate dedicated links: the engine's own scaling, apart
    # from the per-transfer cost of generating a rarely used physical channel.
    constant = [
        "cells.enb.uplink={kind: constant, rate_bps: 20.0e6}",
        "cells.enb.sharing=dedicated",
        "cells.enb.errors=null",
    ]
    few_plain, _, _ = _requests_per_second([*common, *constant, *devices(10)])
    many_plain, _, _ = _requests_per_second([*common, *constant, *devices(1000)])
    memory = _peak_rss_for(100_000 if quick else 1_000_000)
    figures = {
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}",
        "mm1_jobs_per_s": mm1,
        "scenario_requests_per_s": rate,
        "scenario_requests": n,
        "ratio_vs_mm1": rate / mm1,
        "events_per_request": events,
        "constant_link_requests_per_s": plain,
        "constant_link_ratio_vs_mm1": plain / mm1,
        "constant_link_events_per_request": plain_events,
        "memory": memory,
        "cost_ratio_1000_vs_10_devices": few / many,
        "requests_per_s_10_devices": few,
        "requests_per_s_1000_devices": many,
        "constant_link_cost_ratio_1000_vs_10_devices": few_plain / many_plain,
    }
    rows = [
        ("SimPy M/M/1 reference", f"{mm1:,.0f} jobs/s", "", ""),
        (
            "congested_lte (bottlefit_c12), device requests",
            f"{rate:,.0f} req/s",
            f"ratio {rate / mm1:.2f}",
            "target >= 1.0",
        ),
        ("events per request", f"{events:.2f}", "", "no per-slot events"),
        (
            "  same, dedicated constant-rate links (no channel models)",
            f"{plain:,.0f} req/s",
            f"ratio {plain / mm1:.2f}, {plain_events:.2f} ev/req",
            "for scale",
        ),
        (
            f"peak RSS, {memory['requests']:,} requests",
            f"{memory['peak_rss_mib']:,.0f} MiB",
            f"{memory['wall_s']:.0f} s",
            "target < 1024 MiB",
        ),
        (
            "cost per request, 1000 vs 10 devices",
            f"{few / many:.2f}x",
            f"{few:,.0f} vs {many:,.0f} req/s",
            "target <= 1.5",
        ),
        (
            "  same, dedicated constant-rate links (no channel models)",
            f"{few_plain / many_plain:.2f}x",
            f"{few_plain:,.0f} vs {many_plain:,.0f} req/s",
            "for scale",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"machine: {figures['machine']}  (quick={quick})")
    for name, value, extra, target in rows:
        print(f"{name:<{width}}  {value:>16}  {extra:>24}  {target}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
