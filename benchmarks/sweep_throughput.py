"""Sweep throughput with 2 local worker processes against 1, and the per-run overhead of Dask.

    python benchmarks/sweep_throughput.py                 # both parts, ~5 minutes on 2 cores
    python benchmarks/sweep_throughput.py --json out.json # also write the figures

Part 1 runs the same planned sweep (the default scenario shortened to
``--duration`` simulated seconds, ``--runs`` runs) with 1 and with 2 local
worker processes, each time into a fresh output folder, alternating
``--repeat`` times. Throughput is runs per second of execution, counting the
start of the worker pool and the writing of every run's Parquet partitions
(planning, the same for both, is timed separately). The speed-up is the ratio
of the median times (also: of the best times, less sensitive to other work
on the machine; and "once the workers run", from the first run's start to the
last run's end, which leaves out starting the worker processes).

Part 2 measures what Dask adds per run: on a warm LocalCluster with one
single-threaded worker process, runs execute one after another, so
``(wall - sum of the runs' own time on the worker) / runs`` is the per-run
cost of submitting, scheduling, moving the task and its Parquet bytes, and
storing them. The same quantity for one local worker process and for the
in-process executor is printed beside it, and so is the cluster's start time.

Each timing says what share of the machine's CPUs other processes used
meanwhile (/proc/stat minus this process and its workers): other work on the
machine makes the 2-worker figure look worse than it is.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.sweep.executors import DaskExecutor, InlineExecutor, ProcessExecutor  # noqa: E402
from sim.sweep.plan import SweepPlan, plan_sweep  # noqa: E402
from sim.sweep.runner import execute_plan, merge_spec  # noqa: E402
from sim.sweep.store import SweepStore  # noqa: E402

SCENARIO = ROOT / "scenarios" / "congested_lte.yaml"
LOAD_KEY = "servers.gpu0.background.0.rate_hz"
"""Swept by a hair (150, 151, ... jobs/s) so that every point costs the same to simulate."""


def plan(overrides: list[str], points: int, replications: int) -> tuple[SweepPlan, float]:
    """A sweep of ``points`` background loads x ``replications`` seeds, and the seconds to plan it."""
    started = time.perf_counter()
    scenario = sim.load(SCENARIO, overrides)
    loads = [150 + k for k in range(points)]
    result = plan_sweep(
        scenario, merge_spec({"grid": {LOAD_KEY: loads}, "replications": replications})
    )
    return result, time.perf_counter() - started


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (from /proc/stat; 0 elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    """CPU seconds of this process and its finished children (the worker processes)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class Timing:
    """One execution of a planned sweep."""

    wall_s: float  # from the call to the last run stored, pool start included
    steady_s: float  # from the first run's start to the last run's end on the workers
    runs_s: float  # sum of the runs' own seconds on their workers
    others: float  # share of the machine's CPUs other processes used meanwhile


def timed(plan_: SweepPlan, executor, scratch: Path) -> Timing:
    out = Path(tempfile.mkdtemp(dir=scratch))
    busy, own = busy_cpu_s(), own_cpu_s()
    started = time.perf_counter()
    result = execute_plan(plan_, SweepStore(out), executor, progress=False)
    wall = time.perf_counter() - started
    used = (busy_cpu_s() - busy) - (own_cpu_s() - own)
    assert result.executed == len(plan_.runs) and result.complete
    info = result.table("run_info")
    ends = info["started_unix_s"] + info["wall_s"]
    shutil.rmtree(out)
    return Timing(
        wall_s=wall,
        steady_s=float(ends.max() - info["started_unix_s"].min()),
        runs_s=float(info["wall_s"].sum()),
        others=max(0.0, used) / (wall * (os.cpu_count() or 1)),
    )


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def throughput(args: argparse.Namespace, scratch: Path) -> dict:
    overrides = [f"duration_s={args.duration}", "warmup_s=1"]
    replications = max(1, args.runs // args.points)
    plan_, plan_s = plan(overrides, args.points, replications)
    runs = len(plan_.runs)
    print(
        f"\n[1] {runs} runs of {SCENARIO.name} ({args.duration:g} s simulated, 3 strategies); "
        f"planned in {plan_s:.1f} s; {load()}"
    )
    timings: dict[int, list[Timing]] = {1: [], 2: []}
    for rep in range(args.repeat):
        for workers in (1, 2):
            t = timed(plan_, ProcessExecutor(workers), scratch)
            timings[workers].append(t)
            print(
                f"    repeat {rep + 1}: {workers} worker(s): {t.wall_s:6.1f} s "
                f"({runs / t.wall_s:.2f} runs/s; first start to last end {t.steady_s:.1f} s; "
                f"runs' own time {t.runs_s:.1f} s; other processes used {t.others:.0%} of the CPUs)"
            )

    def median(workers: int, field: str) -> float:
        return statistics.median(getattr(t, field) for t in timings[workers])

    speedup = median(1, "wall_s") / median(2, "wall_s")
    steady = median(1, "steady_s") / median(2, "steady_s")
    best = min(t.wall_s for t in timings[1]) / min(t.wall_s for t in timings[2])
    print(
        f"    median: 1 worker {runs / median(1, 'wall_s'):.2f} runs/s, 2 workers "
        f"{runs / median(2, 'wall_s'):.2f} runs/s -> speed-up {speedup:.2f}x end to end "
        f"(best of {args.repeat}: {best:.2f}x), {steady:.2f}x once the workers run   ({load()})"
    )
    return {
        "runs": runs,
        "duration_s": args.duration,
        "plan_s": plan_s,
        "timings_1_worker": [asdict(t) for t in timings[1]],
        "timings_2_workers": [asdict(t) for t in timings[2]],
        "runs_per_s_1": runs / median(1, "wall_s"),
        "runs_per_s_2": runs / median(2, "wall_s"),
        "speedup": speedup,
        "speedup_best": best,
        "speedup_steady": steady,
    }


def overhead(args: argparse.Namespace, scratch: Path) -> dict:
    from distributed import Client, LocalCluster

    overrides = ["duration_s=1", "warmup_s=0.2", "devices.pi.count=1"]
    plan_, _ = plan(overrides, 1, args.small_runs)
    warm, _ = plan(overrides, 1, 4)
    runs = len(plan_.runs)
    print(f"\n[2] per-run overhead: {runs} short runs, one worker; {load()}")
    figures = {}
    t = timed(plan_, InlineExecutor(), scratch)
    figures["inline"] = (t.wall_s - t.runs_s) / runs
    print(
        f"    in this process:        {1e3 * figures['inline']:6.1f} ms per run "
        f"(runs themselves {1e3 * t.runs_s / runs:.1f} ms)"
    )
    t = timed(plan_, ProcessExecutor(1), scratch)
    figures["local_process"] = (t.wall_s - t.runs_s) / runs
    print(
        f"    1 local process:        {1e3 * figures['local_process']:6.1f} ms per run "
        "(including the pool's start, spread over the runs)"
    )
    started = time.perf_counter()
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    with Client(cluster) as client:
        client.wait_for_workers(1)
        figures["dask_start_s"] = time.perf_counter() - started
        timed(warm, DaskExecutor(cluster.scheduler_address), scratch)  # imports sim on the worker
        t = timed(plan_, DaskExecutor(cluster.scheduler_address), scratch)
        figures["dask"] = (t.wall_s - t.runs_s) / runs
    cluster.close()
    print(
        f"    Dask, 1 worker (warm):  {1e3 * figures['dask']:6.1f} ms per run "
        f"(cluster start {figures['dask_start_s']:.1f} s, once)"
    )
    figures["run_ms"] = 1e3 * t.runs_s / runs
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=48, help="runs in the throughput sweep")
    parser.add_argument("--points", type=int, default=4, help="parameter points among them")
    parser.add_argument("--duration", type=float, default=30.0, help="simulated seconds per run")
    parser.add_argument("--repeat", type=int, default=2, help="alternating repeats of 1 vs 2")
    parser.add_argument("--small-runs", type=int, default=40, help="runs for the overhead part")
    parser.add_argument("--skip-dask", action="store_true", help="only the throughput part")
    parser.add_argument("--skip-throughput", action="store_true", help="only the overhead part")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    scratch = Path(tempfile.mkdtemp(prefix="sweep-bench-"))
    try:
        figures = {} if args.skip_throughput else {"throughput": throughput(args, scratch)}
        if not args.skip_dask:
            figures["overhead"] = overhead(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
