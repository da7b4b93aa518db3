"""Measure the simulator's speed, memory and start-up against bare SimPy and Ciw M/M/1 models.

    python -m benchmarks                  # every row (about 15-25 min on one free core)
    python -m benchmarks --quick          # small sizes, a smoke run (< 1 min)
    python -m benchmarks --only congested --only stages   # some rows (the yardstick runs too)
    python -m benchmarks --json out.json  # also write every figure as JSON

Rows (issue 16, "Performance, round two"), each printed with its measured value, its
ratio where it is one, the issue's target and the compass goal, in the same run:

  mm1        the yardstick: bare SimPy M/M/1 (rho 0.8), jobs per CPU second
  ciw        Ciw's M/M/1, same rates and jobs: a second peer yardstick
  congested  congested_lte (physical fading shared cell, HARQ, batching GPU), one remote
             strategy (bottlefit_c12): device requests per CPU second / yardstick
  dedicated  the same scenario on dedicated constant-rate links / yardstick
  events     SimPy events per device request (congested_lte and dedicated links)
  scale      cost per request, 1000 vs 10 devices (physical channels; and constant links)
  rss1m      peak RSS, 1 M requests with full records (fresh process)
  rss10m     peak RSS, 10 M requests with records streamed to disk (fresh process)
  import     `import sim` and `import sim.api` in fresh processes (least of several)
  plan       planning a sweep point (plan_sweep on scenarios/sweeps/edge_load.yaml)
  city       50 cells x 100 devices, 60 s simulated: wall and CPU time, requests/s, peak RSS
  stages     cProfile of congested_lte (bottlefit_c12) grouped into stages

Speeds are per CPU second of the measuring process (the machine is shared: wall time
includes other jobs' time slices; both are in the JSON), the best of a few repeats.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import rss, speed, stages, startup  # noqa: E402
from benchmarks.ciw_reference import batch_means, ciw_missing, ciw_mm1  # noqa: E402
from benchmarks.measure import machine  # noqa: E402
from benchmarks.mm1_reference import mm1_timed  # noqa: E402

ROWS = [
    "mm1",
    "ciw",
    "congested",
    "dedicated",
    "events",
    "scale",
    "rss1m",
    "rss10m",
    "import",
    "plan",
    "city",
    "stages",
]
RHO = 0.8
"""Yardstick load: arrival rate 0.8/s, service rate 1/s (mean time in system 5 s)."""

SIZES: dict[str, dict[str, Any]] = {
    "full": {
        "mm1_jobs": 300_000,
        "repeats": 3,
        "congested_s": 120.0,
        "dedicated_s": 600.0,  # 90 k requests, ~3 s a run: short runs are noisy on a shared machine
        "events_s": 20.0,
        "scale_requests": 20_000,
        "scale_constant_requests": 100_000,
        "rss1m": 1_000_000,
        "rss10m": 10_000_000,
        "rss10m_fallback": (1_000_000, 2_000_000),
        "city": (50, 100, 60.0),
        "stages_s": 120.0,  # as long as the congested row: the same per-run set-up share
        "import_repeats": 5,
    },
    "quick": {
        "mm1_jobs": 20_000,
        "repeats": 1,
        "congested_s": 4.0,
        "dedicated_s": 10.0,
        "events_s": 3.0,
        "scale_requests": 600,
        "scale_constant_requests": 3_000,
        "rss1m": 20_000,
        "rss10m": 60_000,
        "rss10m_fallback": (10_000, 20_000),
        "city": (3, 10, 3.0),
        "stages_s": 3.0,
        "import_repeats": 1,
    },
}


def _requests_per_second(
    overrides: list[str], strategy: str = "bottlefit_c12"
) -> tuple[float, int, float]:
    """(requests per wall second, requests, events per request) for one strategy of
    congested_lte (kept for tests/performance/test_events_per_request.py)."""
    rate = speed.requests_rate(overrides, strategy)
    n, events = speed.events_per_request(overrides, strategy)
    return rate["per_wall_s"], n, events


def _git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "sim"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return head + (" (sim/ has uncommitted changes)" if dirty else "")


_CURRENT = {"row": ""}


def _row(figure: str, value: str, ratio: str = "", target: str = "", goal: str = "", **kw: Any):
    return {
        "row": _CURRENT["row"],
        "figure": figure,
        "value": value,
        "ratio": ratio,
        "target": target,
        "goal": goal,
        **kw,
    }


def _progress(row: str) -> None:
    """One line on stderr as each row starts (a full run takes a while)."""
    _CURRENT["row"] = row
    print(f"[{time.strftime('%H:%M:%S')}] {row} ...", file=sys.stderr, flush=True)


def _status(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "MISSED")


def measure(only: list[str], size: dict[str, Any], quick: bool) -> tuple[list[dict], dict]:
    figures: dict[str, Any] = {}
    rows: list[dict] = []
    want = set(only) if only else set(ROWS)
    needs_yardstick = want & {"mm1", "congested", "dedicated"}
    if want & {"congested", "dedicated", "events", "scale", "stages"}:
        # Imports and first-use work (profiles, lazy modules) out of every timed run.
        speed.requests_rate(["duration_s=1", "warmup_s=0.5"])

    mm1 = None
    if needs_yardstick:
        _progress("mm1")
        jobs = size["mm1_jobs"]
        runs = [mm1_timed(jobs, RHO, seed=1) for _ in range(size["repeats"])]
        best = min(runs, key=lambda r: r[0].cpu_s)
        mean, half = batch_means(best[1] + best[2])
        mm1 = jobs / best[0].cpu_s
        figures["mm1"] = {
            "jobs": jobs,
            "jobs_per_cpu_s": mm1,
            "jobs_per_wall_s": jobs / best[0].wall_s,
            "cpu_s_each_repeat": [r[0].cpu_s for r in runs],
            "mean_sojourn_s": mean,
            "mean_sojourn_half_width_s": half,
            "theory_sojourn_s": 1 / (1 - RHO),
        }
        rows.append(
            _row(
                "yardstick: SimPy M/M/1 (rho 0.8), jobs per CPU s",
                f"{mm1:,.0f}",
                "1",
                "yardstick",
                "",
                note=f"mean sojourn {mean:.2f} ± {half:.2f} s vs 1/(mu-lambda) = {1 / (1 - RHO):.2f} s",
            )
        )
    if "ciw" in want:
        _progress("ciw")
        reason = ciw_missing()
        if reason:
            figures["ciw"] = {"skipped": reason}
            rows.append(_row("Ciw M/M/1 (second yardstick)", "skipped", note=reason))
        else:
            jobs = size["mm1_jobs"]
            out = ciw_mm1(jobs, RHO, seed=1)
            assert out is not None
            mean, half = batch_means(out["sojourn_s"])
            figures["ciw"] = {k: v for k, v in out.items() if k != "sojourn_s"}
            figures["ciw"].update(mean_sojourn_s=mean, mean_sojourn_half_width_s=half)
            ratio = f"{out['jobs_per_cpu_s'] / mm1:.2f}" if mm1 else ""
            rows.append(
                _row(
                    "Ciw M/M/1, same rates and jobs, jobs per CPU s",
                    f"{out['jobs_per_cpu_s']:,.0f}",
                    ratio,
                    "peer",
                    "",
                    note=f"mean sojourn {mean:.2f} ± {half:.2f} s vs {1 / (1 - RHO):.2f} s",
                )
            )
    reps = size["repeats"]
    for key, label, extra, repeats, target, digits in (
        (
            "congested",
            "congested_lte, device requests per CPU s / yardstick",
            [],
            min(reps, 2),
            0.30,
            1,
        ),
        (
            "dedicated",
            "same, dedicated constant-rate links / yardstick",
            list(speed.DEDICATED_CONSTANT),
            reps + 2,
            1.0,
            2,
        ),
    ):
        if key not in want:
            continue
        _progress(key)
        d = size[f"{key}_s"]
        out = speed.requests_rate([f"duration_s={d}", "warmup_s=1", *extra], repeats=repeats)
        ratio = out["per_cpu_s"] / mm1 if mm1 else float("nan")
        figures[key] = out | {"ratio": ratio}
        rows.append(
            _row(
                label,
                f"{out['per_cpu_s']:,.0f}",
                f"{ratio:.3f}",
                ">= 0.30" if target < 1 else ">= 1.0",
                ">= 1.0",
                status=_status(ratio >= target),
                note=f"{out['requests']:,} requests, {out['cpu_s']:.{digits}f} s CPU",
            )
        )
    if "events" in want:
        _progress("events")
        d = size["events_s"]
        n, ev = speed.events_per_request([f"duration_s={d}", "warmup_s=1"])
        _, ev2 = speed.events_per_request(
            [f"duration_s={d}", "warmup_s=1", *speed.DEDICATED_CONSTANT]
        )
        figures["events"] = {"congested": ev, "dedicated": ev2, "requests": n}
        rows.append(
            _row(
                "SimPy events per device request (congested_lte)",
                f"{ev:.2f}",
                "",
                "no per-slot events",
                "",
                note=f"dedicated constant links {ev2:.2f}; background jobs' events included",
            )
        )
    if "scale" in want:
        _progress("scale")
        total = size["scale_requests"]
        common = [f"duration_s={total / 100.0}", "warmup_s=0.5", "servers.0.background=[]"]
        few = speed.requests_rate([*common, *speed.poisson_devices(10)])
        many = speed.requests_rate([*common, *speed.poisson_devices(1000)])
        ratio = few["per_cpu_s"] / many["per_cpu_s"]
        total_c = size["scale_constant_requests"]
        common_c = [f"duration_s={total_c / 100.0}", "warmup_s=0.5", "servers.0.background=[]"]
        few_c = speed.requests_rate(
            [*common_c, *speed.DEDICATED_CONSTANT, *speed.poisson_devices(10)]
        )
        many_c = speed.requests_rate(
            [*common_c, *speed.DEDICATED_CONSTANT, *speed.poisson_devices(1000)]
        )
        ratio_c = few_c["per_cpu_s"] / many_c["per_cpu_s"]
        figures["scale"] = {
            "physical": {"10": few, "1000": many, "ratio": ratio},
            "constant": {"10": few_c, "1000": many_c, "ratio": ratio_c},
        }
        rows.append(
            _row(
                "cost per request, 1000 vs 10 devices (physical shared cell)",
                f"{ratio:.2f}x",
                f"{ratio:.2f}",
                "<= 1.5x",
                "<= 1.2x",
                status=_status(ratio <= 1.5),
                note=f"{few['per_cpu_s']:,.0f} vs {many['per_cpu_s']:,.0f} req per CPU s, "
                f"{few['requests']:,} requests",
            )
        )
        rows.append(
            _row(
                "  same, dedicated constant-rate links",
                f"{ratio_c:.2f}x",
                f"{ratio_c:.2f}",
                "",
                "",
                note=f"{few_c['per_cpu_s']:,.0f} vs {many_c['per_cpu_s']:,.0f} req per CPU s",
            )
        )
    if "rss1m" in want:
        _progress("rss1m")
        out = rss.full_records(size["rss1m"])
        figures["rss1m"] = out
        rows.append(
            _row(
                f"peak RSS, {out['requests']:,} requests, full records",
                f"{out['peak_rss_mib']:,.0f} MiB",
                "",
                "<= 600 MiB",
                "<= 512 MiB",
                status=_status(out["peak_rss_mib"] <= 600) if not quick else "",
                note=f"fresh process, {out['cpu_s']:.0f} s CPU run; dedicated constant links",
            )
        )
    if "rss10m" in want:
        _progress("rss10m")
        out = rss.streamed(size["rss10m"], size["rss10m_fallback"])
        figures["rss10m"] = out
        if out["streamed"]:
            note = (
                f"streamed and written, fresh process, {out['cpu_s']:.0f} s CPU; "
                f"{out['tenth']['peak_rss_mib']:,.0f} MiB at {out['tenth']['requests']:,} requests"
            )
        else:
            sizes = " and ".join(f"{r['requests']:,}" for r in out["extrapolated_from"])
            note = (
                f"NOT STREAMED YET: all records in memory; extrapolated from {sizes} "
                f"({out['mib_per_million_requests']:.0f} MiB per million requests)"
            )
        rows.append(
            _row(
                f"peak RSS, {out['requests']:,} requests, records streamed",
                f"{out['peak_rss_mib']:,.0f} MiB",
                "",
                "<= 1 GiB, flat",
                "<= 512 MiB",
                status=_status(out["streamed"] and out["peak_rss_mib"] <= 1024)
                if not quick
                else "",
                note=note,
            )
        )
    if "import" in want:
        _progress("import")
        n = size["import_repeats"]
        a = startup.import_time("sim", n)
        b = startup.import_time("sim.api", n)
        figures["import"] = {"sim": a, "sim.api": b}
        for name, out in (("sim", a), ("sim.api", b)):
            rows.append(
                _row(
                    f"`import {name}`, fresh process (least of {n})",
                    f"{out['cpu_s']:.3f} s CPU",
                    "",
                    "<= 0.5 s",
                    "",
                    status=_status(out["cpu_s"] <= 0.5),
                    note=f"wall {out['wall_s']:.3f} s, {out['modules']} modules loaded",
                )
            )
    if "plan" in want:
        _progress("plan")
        out = startup.planning_time(2 if quick else 3)
        figures["plan"] = out
        per = out["first_cpu_s_per_point"]
        rows.append(
            _row(
                "planning a sweep point (plan_sweep, edge_load.yaml)",
                f"{1e3 * per:.1f} ms CPU",
                "",
                "<= 20 ms",
                "",
                status=_status(per <= 0.020),
                note=f"{out['points']} points in a fresh process; later plannings "
                f"{1e3 * out['warm_cpu_s_per_point']:.1f} ms/point; loading the sweep file "
                f"{out['load_cpu_s']:.2f} s",
            )
        )
    if "city" in want:
        _progress("city")
        cells, per, dur = size["city"]

        from benchmarks.city import city_row

        out = city_row(cells, per, dur)
        speed_city = out["requests"] / out["cpu_s"]
        figures["city"] = out
        rows.append(
            _row(
                f"city: {cells} cells x {per} devices, {dur:g} s simulated",
                f"{out['wall_s']:.0f} s wall",
                "",
                "for scale",
                "",
                note=f"{out['cpu_s']:.0f} s CPU, {speed_city:,.0f} req per CPU s "
                f"({out['requests']:,} requests), peak RSS {out['child_peak_rss_mib']:,.0f} MiB, "
                f"{out.get('servers_used')} servers used; physical shared PF cells, HARQ",
            )
        )
    if "stages" in want:
        _progress("stages")
        d = size["stages_s"]
        prof = stages.profile_run([f"duration_s={d}", "warmup_s=1"], "bottlefit_c12")
        plain = speed.requests_rate([f"duration_s={d}", "warmup_s=1"])
        us = 1e6 * plain["cpu_s"] / max(plain["requests"], 1)
        for row in prof["stages"]:
            row["us_per_request_cpu"] = row["share"] * us
        prof["cpu_us_per_request_unprofiled"] = us
        figures["stages"] = prof
    return rows, figures


def print_table(rows: list[dict], figures: dict) -> None:
    head = ("figure", "measured", "ratio", "target", "compass goal", "", "conditions")
    table = [head] + [
        (
            r["figure"],
            r["value"],
            r["ratio"],
            r["target"],
            r["goal"],
            r.get("status", ""),
            r.get("note", ""),
        )
        for r in rows
    ]
    widths = [max(len(str(t[i])) for t in table) for i in range(6)]
    for t in table if rows else []:
        cells = [f"{t[i]!s:<{widths[i]}}" for i in range(6)]
        print("  ".join(cells) + "  " + t[6])
    if "stages" in figures:
        prof = figures["stages"]
        print(
            f"\nwhere congested_lte's time goes (cProfile, bottlefit_c12, {prof['requests']:,} "
            f"requests; shares of the profile applied to the unprofiled "
            f"{prof['cpu_us_per_request_unprofiled']:.0f} µs CPU per request):"
        )
        for row in prof["stages"]:
            print(
                f"  {row['stage']:<36} {row['share']:6.1%}  {row['us_per_request_cpu']:8.1f} µs/request"
            )
        print("  top functions by own time:")
        for f in prof["top_functions"][:8]:
            print(f"    {f['own_s']:7.3f} s  {f['calls']:>9,} calls  {f['function']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only", action="append", choices=ROWS, default=[], help="run only this row (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument(
        "--update",
        action="store_true",
        help="with --json: replace only the rows measured now in an existing file (each row "
        "keeps the revision it was measured at)",
    )
    args = parser.parse_args(argv)
    size = SIZES["quick" if args.quick else "full"]
    started = time.perf_counter()
    header = {
        "machine": machine(),
        "revision": _git_revision(),
        "quick": args.quick,
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    print(f"{header['machine']}\nsim at {header['revision']}; quick={args.quick}\n")
    rows, figures = measure(args.only, size, args.quick)
    print_table(rows, figures)
    header["wall_s"] = time.perf_counter() - started
    print(f"\n({header['wall_s']:.0f} s; {machine().split('; ')[-1]})")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {**header, "rows": rows, "figures": figures}
        measured = {r["row"] for r in rows} | set(figures)
        payload["revision_by_row"] = {key: header["revision"] for key in measured}
        if args.update and args.json.exists():
            old = json.loads(args.json.read_text())
            kept = [r for r in old["rows"] if r.get("row") not in measured]
            order = {key: i for i, key in enumerate(ROWS)}
            payload["rows"] = sorted(kept + rows, key=lambda r: order.get(r.get("row"), 99))
            payload["figures"] = {**old["figures"], **figures}
            payload["revision_by_row"] = {
                **old.get("revision_by_row", {}),
                **payload["revision_by_row"],
            }
            payload["revision"] = ", ".join(sorted(set(payload["revision_by_row"].values())))
        args.json.write_text(json.dumps(payload, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
