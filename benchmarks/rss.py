"""Memory rows: peak RSS of long runs, each in a fresh process (``ru_maxrss`` of that child).

The runs are ``congested_lte`` with one strategy (BottleFit C = 12), no background
tenant, no per-batch records, each camera on its own constant-rate link: the records
are the same columns as on the physical channel, and the run is fast enough that
10 M requests fit in a benchmark (the physical shared cell simulates ~1-2 k requests a
CPU second, which would take hours).
"""

from __future__ import annotations

from typing import Any

from benchmarks.measure import child
from benchmarks.speed import DEDICATED_CONSTANT, SCENARIO

RATE_HZ = 150.0
"""Requests per simulated second: 30 cameras x 5 frames/s."""

FULL = """
import json, time
import sim
s = sim.load({scenario!r}, {overrides!r})
c, w = time.process_time(), time.perf_counter()
r = sim.run(s, ['bottlefit_c12'])
n = len(r.requests)
print(json.dumps({{'requests': n, 'cpu_s': time.process_time() - c,
                  'wall_s': time.perf_counter() - w, 'streamed': False}}))
"""


def overrides_for(requests: int) -> list[str]:
    return [
        f"duration_s={requests / RATE_HZ}",
        "compare=[bottlefit_c12]",  # the size check counts every compared strategy
        "warmup_s=1",
        "servers.0.background=[]",
        "outputs.per_batch=false",
        *DEDICATED_CONSTANT,
    ]


def full_records(requests: int) -> dict[str, Any]:
    """Peak RSS [MiB] of a fresh process that runs ``requests`` requests and keeps every
    record in memory (``sim.run``'s results)."""
    out = child(FULL.format(scenario=str(SCENARIO), overrides=overrides_for(requests)))
    out["peak_rss_mib"] = out["child_peak_rss_mib"]
    return out


STREAMED = """
import json, shutil, tempfile, time
from pathlib import Path
import sim
s = sim.load({scenario!r}, {overrides!r})
c, w = time.process_time(), time.perf_counter()
r = sim.run(s, ['bottlefit_c12'])
run_cpu = time.process_time() - c
folder = Path(tempfile.mkdtemp(prefix='splitsim-rss-'))
try:
    r.write(folder / 'out', plots=False, csv=False)
    import pyarrow.parquet as pq
    files = sorted((folder / 'out').rglob('requests*.parquet'))
    n = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
finally:
    shutil.rmtree(folder, ignore_errors=True)
print(json.dumps({{'requests': n, 'cpu_s': time.process_time() - c, 'run_cpu_s': run_cpu,
                  'wall_s': time.perf_counter() - w, 'streamed': True}}))
"""


def can_stream() -> bool:
    """Whether this simulator streams records to disk (``outputs.stream_records``)."""
    try:
        from sim.scenario.schema import Outputs
    except ImportError:
        return False
    return "stream_records" in Outputs.model_fields


def streaming_code(requests: int) -> str | None:
    """The child program that runs ``requests`` requests with records streamed to disk and
    writes them (Parquet, summary; no plots), or None while the simulator cannot stream."""
    if not can_stream():
        return None
    overrides = [*overrides_for(requests), "outputs.stream_records=true"]
    return STREAMED.format(scenario=str(SCENARIO), overrides=overrides)


def streamed(requests: int, fallback: tuple[int, int]) -> dict[str, Any]:
    """Peak RSS [MiB] of ``requests`` requests with records streamed to disk and written
    (Parquet), and of a tenth as many (flat in duration); while the
    simulator cannot stream, the full-records run at the two sizes in ``fallback``,
    extrapolated linearly to ``requests`` and marked so (a 10 M in-memory run would take
    ~8 GiB of a shared machine)."""
    code = streaming_code(requests)
    if code is not None:
        out = child(code)
        out["peak_rss_mib"] = out["child_peak_rss_mib"]
        # Flat in duration: the same at a tenth of the requests.
        tenth = child(streaming_code(requests // 10) or "")
        out["tenth"] = {
            "requests": tenth["requests"],
            "peak_rss_mib": tenth["child_peak_rss_mib"],
            "cpu_s": tenth["cpu_s"],
        }
        return out
    small, large = (full_records(n) for n in fallback)
    slope = (large["peak_rss_mib"] - small["peak_rss_mib"]) / (
        large["requests"] - small["requests"]
    )
    estimate = large["peak_rss_mib"] + slope * (requests - large["requests"])
    return {
        "requests": requests,
        "streamed": False,
        "peak_rss_mib": estimate,
        "extrapolated_from": [
            {"requests": r["requests"], "peak_rss_mib": r["peak_rss_mib"], "cpu_s": r["cpu_s"]}
            for r in (small, large)
        ],
        "mib_per_million_requests": slope * 1e6,
    }
