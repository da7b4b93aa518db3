"""Timing helpers shared by the benchmark rows: CPU and wall time, fresh child processes.

The project's machine is shared (2 cores, other jobs running): wall time is polluted
by whatever else runs, CPU time of the measuring process much less so. Every speed
figure therefore records both, and ratios are taken on CPU time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
"""The checkout whose ``sim`` is measured (children run with it first on sys.path)."""


@dataclass(frozen=True)
class Timed:
    """One timed call: its CPU seconds (this process) and wall seconds."""

    cpu_s: float
    wall_s: float


def timed(fn: Callable[[], Any]) -> tuple[Any, Timed]:
    """Call ``fn`` once; its result and the CPU and wall seconds it took."""
    cpu, wall = time.process_time(), time.perf_counter()
    out = fn()
    return out, Timed(time.process_time() - cpu, time.perf_counter() - wall)


def best_of(repeats: int, fn: Callable[[], Any]) -> tuple[Any, Timed, list[Timed]]:
    """Call ``fn`` ``repeats`` times; the result and timing of the call with the least CPU
    time (the least disturbed by other work on the machine), and every timing."""
    runs = [timed(fn) for _ in range(max(1, repeats))]
    best = min(runs, key=lambda r: r[1].cpu_s)
    return best[0], best[1], [t for _, t in runs]


def child(code: str, timeout_s: float = 3600.0) -> dict[str, Any]:
    """Run ``code`` in a fresh Python process with this checkout first on sys.path;
    the JSON object it prints on its last line, plus the child's own peak RSS [MiB]
    and CPU seconds from ``resource`` (so one row's memory never pollutes another's).

    The child's last stdout line must be a JSON object."""
    prelude = f"import sys; sys.path.insert(0, {str(ROOT)!r})\n"
    wrapper = (
        "import resource, subprocess, sys, json\n"
        "p = subprocess.run([sys.executable, '-c', sys.argv[1]], capture_output=True, text=True)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr[-4000:],\n"
        "    'maxrss_mib': u.ru_maxrss / 1024, 'cpu_s': u.ru_utime + u.ru_stime}))\n"
    )
    # The wrapper reads RUSAGE_CHILDREN after its only child ended: that child's peak RSS
    # alone, whatever the benchmark process itself holds.
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    done = subprocess.run(
        [sys.executable, "-c", wrapper, prelude + code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout_s,
        env=env,
        check=True,
    )
    meta = json.loads(done.stdout)
    if meta["rc"] != 0:
        raise RuntimeError(f"benchmark child failed (exit {meta['rc']}):\n{meta['err']}")
    lines = [line for line in meta["out"].splitlines() if line.startswith("{")]
    result = json.loads(lines[-1])
    result["child_peak_rss_mib"] = meta["maxrss_mib"]
    result["child_cpu_s"] = meta["cpu_s"]
    return result


def machine() -> str:
    """One line: CPU model, CPUs, Python and SimPy versions, load average now."""
    import platform

    import simpy

    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    one, five, _ = os.getloadavg()
    return (
        f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"SimPy {simpy.__version__}; load average {one:.2f} (1 min) {five:.2f} (5 min)"
    )
