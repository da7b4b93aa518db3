"""Two ``python -m benchmarks --json`` files side by side, as Markdown tables.

    python -m benchmarks.compare benchmarks/results/before-55c8562.json \\
        benchmarks/results/after-<commit>.json

Prints the issue's rows (before, after, target, compass goal) and the profile's stages
(µs of CPU per request, before and after): the tables of docs/performance.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def _get(figures: dict, *keys: str) -> Any:
    for key in keys:
        if not isinstance(figures, dict) or key not in figures:
            return None
        figures = figures[key]
    return figures


def _fmt(value: Any, pattern: str) -> str:
    return "—" if value is None else pattern.format(value)


def issue_rows(f: dict) -> list[tuple[str, str]]:
    """(figure, measured) in the issue table's order, from one run's figures."""
    mm1 = _get(f, "mm1", "jobs_per_cpu_s")
    ciw = _get(f, "ciw", "jobs_per_cpu_s")
    c, d = _get(f, "congested") or {}, _get(f, "dedicated") or {}
    scale = _get(f, "scale", "physical") or {}
    scale_c = _get(f, "scale", "constant") or {}
    r1, r10 = _get(f, "rss1m") or {}, _get(f, "rss10m") or {}
    imp, plan, city = _get(f, "import") or {}, _get(f, "plan") or {}, _get(f, "city") or {}
    ev = _get(f, "events") or {}
    if r10.get("streamed"):
        r10_text = (
            f"{r10['peak_rss_mib']:,.0f} MiB streamed "
            f"({r10['tenth']['peak_rss_mib']:,.0f} MiB at {r10['tenth']['requests']:,})"
        )
    elif r10:
        r10_text = f"~{r10['peak_rss_mib']:,.0f} MiB (not streamed: extrapolated)"
    else:
        r10_text = "—"
    city_text = "—"
    if city:
        city_text = (
            f"{city['wall_s']:.0f} s wall, {city['cpu_s']:.0f} s CPU, "
            f"{city['requests'] / city['cpu_s']:,.0f} req/CPU s, "
            f"{city['child_peak_rss_mib']:,.0f} MiB"
        )
    return [
        ("SimPy M/M/1 yardstick, jobs per CPU s", _fmt(mm1, "{:,.0f}")),
        (
            "Ciw M/M/1, jobs per CPU s (ratio to SimPy)",
            "—" if ciw is None or mm1 is None else f"{ciw:,.0f} ({ciw / mm1:.2f})",
        ),
        (
            "congested_lte, device requests per CPU s ÷ yardstick",
            "—" if not c else f"**{c['ratio']:.3f}** ({c['per_cpu_s']:,.0f} req/s)",
        ),
        (
            "same scenario on dedicated constant links ÷ yardstick",
            "—" if not d else f"**{d['ratio']:.3f}** ({d['per_cpu_s']:,.0f} req/s)",
        ),
        (
            "SimPy events per device request (congested_lte; dedicated links)",
            "—" if not ev else f"{ev['congested']:.2f}; {ev['dedicated']:.2f}",
        ),
        (
            "cost per request, 1000 vs 10 devices (physical channels)",
            "—"
            if not scale
            else f"**{scale['ratio']:.2f}x** ({scale['10']['per_cpu_s']:,.0f} vs "
            f"{scale['1000']['per_cpu_s']:,.0f} req/s)",
        ),
        (
            "  same on dedicated constant links",
            "—" if not scale_c else f"{scale_c['ratio']:.2f}x",
        ),
        (
            "peak RSS, 1 M requests, full records",
            "—" if not r1 else f"**{r1['peak_rss_mib']:,.0f} MiB**",
        ),
        ("peak RSS, 10 M requests, records streamed", r10_text),
        ("`import sim`, CPU", _fmt(_get(imp, "sim", "cpu_s"), "{:.3f} s")),
        ("`import sim.api`, CPU", _fmt(_get(imp, "sim.api", "cpu_s"), "**{:.2f} s**")),
        (
            "planning a sweep point (first planning in a fresh process)",
            "—" if not plan else f"**{1e3 * plan['first_cpu_s_per_point']:.1f} ms**",
        ),
        ("city-scale run (see its size below)", city_text),
    ]


TARGETS = {
    "congested_lte": ("≥ 0.30", "≥ 1.0"),
    "same scenario on dedicated": ("≥ 1.0", "≥ 1.0"),
    "cost per request": ("≤ 1.5x", "≤ 1.2x"),
    "peak RSS, 1 M": ("≤ 600 MiB", "≤ 512 MiB"),
    "peak RSS, 10 M": ("≤ 1 GiB, flat in duration", "≤ 512 MiB"),
    "`import sim`": ("≤ 0.5 s", ""),
    "`import sim.api`": ("≤ 0.5 s", ""),
    "planning": ("≤ 20 ms", ""),
}


def targets(name: str) -> tuple[str, str]:
    for prefix, pair in TARGETS.items():
        if name.startswith(prefix):
            return pair
    return ("", "")


def stage_rows(before: dict, after: dict) -> list[tuple[str, str, str]]:
    def by_stage(f: dict) -> dict[str, float]:
        return {r["stage"]: r["us_per_request_cpu"] for r in (_get(f, "stages", "stages") or [])}

    b, a = by_stage(before), by_stage(after)
    names = [s for s in {**b, **a} if max(b.get(s, 0), a.get(s, 0)) >= 0.05]
    rows = [(s, _fmt(b.get(s), "{:.1f}"), _fmt(a.get(s), "{:.1f}")) for s in names]
    rows.append(
        (
            "**total (unprofiled CPU per request)**",
            _fmt(_get(before, "stages", "cpu_us_per_request_unprofiled"), "**{:.0f}**"),
            _fmt(_get(after, "stages", "cpu_us_per_request_unprofiled"), "**{:.0f}**"),
        )
    )
    return rows


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__)
        return 2
    before, after = (json.loads(Path(p).read_text()) for p in args)
    fb, fa = before["figures"], after["figures"]
    print(
        f"| figure | before ({before['revision']}) | after ({after['revision']}) "
        "| target | compass goal |"
    )
    print("|---|---|---|---|---|")
    for (name, b), (_, a) in zip(issue_rows(fb), issue_rows(fa), strict=True):
        print(f"| {name} | {b} | {a} | {' | '.join(targets(name))} |")
    print("\n| stage | before, µs CPU/request | after, µs CPU/request |")
    print("|---|---|---|")
    for row in stage_rows(fb, fa):
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
