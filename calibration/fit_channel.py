"""Fit compact channel models to throughput traces; print trace vs fitted statistics side by side.

    python calibration/fit_channel.py TRACE... [--format auto] [--bin-s 0.1] [--levels 10]
        [--outage-mbps 0.1] [--ge-bad-mbps X] [--column NAME] [--select k=v ...]
        [--scale 1.0] [--name NAME] [--out calibration/channel_fits/NAME.yaml] [--seed 1]

Fits (see ``sim/channel/fit.py``) a Markov chain of throughput states and a
Gilbert-Elliott good/bad channel, pooled over all the traces given, and writes
a YAML file whose ``uplink:`` block (``kind: markov``) and ``gilbert_elliott:``
block can be pasted as a scenario's ``cells[].uplink``. ``--scale`` multiplies
every rate (e.g. to turn a 3G or downlink trace into a plausible uplink).

Statistics compared: mean, p5/p95 of the binned throughput [Mbit/s], outage
fraction (bins < --outage-mbps), autocorrelation at 1 s, and p10/p50/p90/p99
of the time to send 10 kB and 45 kB from a uniformly random start [ms]. Both
models are discrete-time on the bin grid (``step_s``: geometric holding times),
so their bins reproduce the state statistics of the trace's bins. The fitted
models are simulated for max(20 x the traces' total length, 8 h).

Examples (the shipped fits in calibration/channel_fits/ were made like this):

    python calibration/fit_channel.py ../shared/traces/mahimahi_cellular/*.up \\
        --name mahimahi_lte_uplink --bin-s 0.5
    python calibration/fit_channel.py ../shared/traces/irish_5g_raca2020/Download/Static/*.csv \\
        --name irish_5g_static_dl --bin-s 1
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.channel.config import GilbertElliottUplink, MarkovUplink  # noqa: E402
from sim.channel.fit import (  # noqa: E402
    PAYLOADS_BYTES,
    SEND_QUANTILES,
    ChannelStatistics,
    binned,
    capacity_statistics,
    fit_gilbert_elliott,
    fit_markov,
    load_trace,
    simulate_markov,
    trace_statistics,
)
from sim.errors import SimInputError  # noqa: E402
from sim.yamlio import dump_yaml  # noqa: E402

FITS_DIR = ROOT / "calibration" / "channel_fits"
TRACES_DIR = ROOT.parent / "shared" / "traces"
_MOBILITY = "fivegophers_narayanan2020/All-Carriers/03-User-Mobility"

# The shipped fits: name -> (trace globs relative to ../shared/traces, bin [s], note).
TRACE_SETS: dict[str, tuple[list[str], float, str]] = {
    "mahimahi_lte_uplink": (
        ["mahimahi_cellular/*.up"],
        0.5,
        "LTE uplink, 4 saturated .up traces pooled (ATT 2012/2016 driving, T-Mobile, Verizon)",
    ),
    "att_lte_driving_uplink": (
        ["mahimahi_cellular/ATT-LTE-driving.up"],
        0.5,
        "AT&T LTE uplink while driving (the most erratic uplink trace)",
    ),
    "irish_5g_static_dl": (
        ["irish_5g_raca2020/Download/Static/*.csv"],
        1.0,
        "5G NSA downlink, static (scale by a UL/DL ratio ~0.1-0.2 for an uplink)",
    ),
    "irish_5g_driving_dl": (
        ["irish_5g_raca2020/Download/Driving/*.csv"],
        1.0,
        "5G/LTE/3G downlink while driving",
    ),
    "norway_hsdpa": (["hsdpa_norway_riiser2013/cooked/*"], 1.0, "3G HSDPA commute downlink"),
    "fivegophers_mobility": (
        [
            f"{_MOBILITY}/car-driving-trace-{k}.csv::{carrier}_throughput_mbps"
            for k in (1, 2)
            for carrier in ("Sprint", "TMobile", "Verizon")
        ]
        + [f"{_MOBILITY}/walking-trace.csv"],
        1.0,
        "5G downlink (mmWave/low/mid band), driving and walking",
    ),
}


def trace_set_paths(name: str, traces_dir: Path = TRACES_DIR) -> list[str]:
    """The trace files of a shipped set (``PATH::COLUMN`` entries keep their column)."""
    paths: list[str] = []
    for pattern in TRACE_SETS[name][0]:
        glob, sep, column = pattern.partition("::")
        found = sorted(traces_dir.glob(glob))
        if not found:
            raise SimInputError("no trace files found", file=traces_dir / glob)
        paths.extend(f"{p}{sep}{column}" for p in found)
    return paths


MIN_SIMULATED_S = 8 * 3600.0


def _parse_select(items: list[str]) -> dict[str, str] | None:
    if not items:
        return None
    out = {}
    for item in items:
        if "=" not in item:
            raise SimInputError("--select needs key=value", value=item)
        key, value = item.split("=", 1)
        out[key] = value
    return out


def fit_traces(
    paths: list[Path | str],
    *,
    fmt: str = "auto",
    bin_s: float = 0.1,
    levels: int = 10,
    outage_mbps: float = 0.1,
    ge_bad_mbps: float | None = None,
    column: str | None = None,
    select: dict | None = None,
    scale: float = 1.0,
    seed: int = 1,
    min_simulated_s: float = MIN_SIMULATED_S,
) -> dict:
    """Fit both models to ``paths``; returns the fits and the three sets of statistics."""
    traces = []
    for item in paths:
        path, _, own_column = str(item).partition("::")
        traces.append(
            load_trace(path, fmt, bin_s=bin_s, column=own_column or column, select=select)
        )
    if scale != 1.0:
        traces = [t.scaled(scale) for t in traces]
    outage_bps = outage_mbps * 1e6
    series = [binned(t, bin_s) for t in traces]
    series = [s for s in series if s.size >= 2]
    if not series:
        raise SimInputError("traces shorter than two bins", allowed=f"longer than {2 * bin_s} s")
    markov = fit_markov(series, bin_s, levels=levels, outage_bps=outage_bps)
    ge = fit_gilbert_elliott(
        series, bin_s, bad_bps=(ge_bad_mbps * 1e6 if ge_bad_mbps is not None else outage_bps)
    )
    # Round trip through the scenario schema: what we write is what a scenario accepts.
    markov_cfg = MarkovUplink.model_validate(markov.as_uplink())
    ge_cfg = GilbertElliottUplink.model_validate(ge.as_uplink())
    total_s = sum(t.duration_s for t in traces)
    horizon = max(20.0 * total_s, min_simulated_s)
    rng = np.random.default_rng(seed)
    stats = {"trace": trace_statistics(traces, bin_s, outage_bps=outage_bps, rng=rng)}
    for name, cfg in (("markov", markov_cfg), ("gilbert_elliott", ge_cfg.as_markov())):
        capacity = simulate_markov(
            np.asarray(cfg.rates_bps),
            np.asarray(cfg.mean_sojourn_s),
            cfg.jump_matrix(),
            horizon + 300.0,
            rng,
            cfg.step_s,
        )
        stats[name] = capacity_statistics(capacity, horizon, bin_s, outage_bps=outage_bps, rng=rng)
    return {
        "traces": traces,
        "markov": markov,
        "gilbert_elliott": ge,
        "markov_uplink": markov_cfg,
        "ge_uplink": ge_cfg,
        "stats": stats,
        "total_s": total_s,
        "simulated_s": horizon,
    }


def format_table(stats: dict[str, ChannelStatistics]) -> str:
    """Trace and fitted statistics side by side, as a Markdown table."""
    names = list(stats)
    rows = [
        ("mean [Mbit/s]", lambda s: f"{s.mean_mbps:.3g}"),
        ("p5 [Mbit/s]", lambda s: f"{s.p5_mbps:.3g}"),
        ("p95 [Mbit/s]", lambda s: f"{s.p95_mbps:.3g}"),
        ("outage fraction", lambda s: f"{s.outage_fraction:.3f}"),
        ("autocorrelation at 1 s", lambda s: f"{s.acf_1s:.2f}"),
    ]
    for size in PAYLOADS_BYTES:
        q = "/".join(f"p{x}" for x in SEND_QUANTILES)
        rows.append(
            (
                f"send {size // 1000} kB {q} [ms]",
                lambda s, size=size: " / ".join(_ms(v) for v in s.send_ms[size]),
            )
        )
    lines = ["| statistic | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for label, fmt in rows:
        lines.append(f"| {label} | " + " | ".join(fmt(stats[n]) for n in names) + " |")
    return "\n".join(lines)


def _ms(value: float) -> str:
    return "inf" if not np.isfinite(value) else f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def write_fit(result: dict, out: Path, name: str, args: dict) -> None:
    """Write the fit file: provenance, the two uplink blocks, the statistics."""
    traces = result["traces"]
    ge = result["gilbert_elliott"]
    data = {
        "name": name,
        "provenance": "derived",
        "source": {
            "traces": [_relative_source(t.source) for t in traces],
            "total_s": round(result["total_s"], 1),
            "fitted_by": "calibration/fit_channel.py " + " ".join(args["argv"]),
            **{k: v for k, v in args.items() if k != "argv"},
        },
        "uplink": result["markov"].as_uplink(),
        "gilbert_elliott": result["gilbert_elliott"].as_uplink(),
        "statistics": {k: v.as_dict() for k, v in result["stats"].items()},
        "simulated_s": round(result["simulated_s"], 1),
    }
    if ge.note:
        data["source"]["gilbert_elliott_note"] = ge.note
    out.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Channel models fitted to {len(traces)} trace(s); paste 'uplink' (Markov chain of\n"
        "# throughput states) or 'gilbert_elliott' as a scenario's cells[].uplink.\n"
        "# Regenerate with the command in source.fitted_by (run from the repository root).\n"
    )
    tmp = out.with_suffix(".tmp")
    tmp.write_text(header + dump_yaml(data), encoding="utf-8")
    tmp.replace(out)


def _relative_arg(arg: str) -> str:
    path, sep, column = arg.partition("::")
    return _relative(path) + sep + column


def _relative_source(source: str) -> str:
    path, _, rest = source.partition(" (")
    return _relative(path) + (f" ({rest}" if rest else "")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("traces", nargs="*", help="trace files; PATH::COLUMN picks a CSV column")
    parser.add_argument(
        "--set",
        dest="trace_set",
        choices=[*TRACE_SETS, "all"],
        help="refit a shipped trace set (or all of them) from --traces-dir",
    )
    parser.add_argument("--traces-dir", type=Path, default=TRACES_DIR)
    parser.add_argument(
        "--format",
        default="auto",
        choices=["auto", "mahimahi", "time_mbps", "irish_5g", "fivegophers", "csv"],
    )
    parser.add_argument("--bin-s", type=float, default=0.1, help="bin for fitting [s]")
    parser.add_argument("--levels", type=int, default=10, help="Markov states (outage included)")
    parser.add_argument("--outage-mbps", type=float, default=0.1)
    parser.add_argument("--ge-bad-mbps", type=float, default=None)
    parser.add_argument("--column", default=None, help="rate column (CSV formats)")
    parser.add_argument("--select", nargs="*", default=[], help="fivegophers: column=value")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every rate")
    parser.add_argument("--name", default=None)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    if args.bin_s <= 0 or args.levels < 2 or args.scale <= 0:
        parser.error("--bin-s and --scale must be > 0, --levels >= 2")
    if args.trace_set is not None:
        names = list(TRACE_SETS) if args.trace_set == "all" else [args.trace_set]
        for set_name in names:
            try:
                paths = trace_set_paths(set_name, args.traces_dir)
            except SimInputError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            code = main([*paths, "--name", set_name, "--bin-s", str(TRACE_SETS[set_name][1])])
            if code:
                return code
            print()
        return 0
    if not args.traces:
        parser.error("give trace files or --set")
    first = Path(args.traces[0].partition("::")[0])
    name = args.name or first.stem.replace(".", "_").replace("-", "_").lower()
    try:
        result = fit_traces(
            args.traces,
            fmt=args.format,
            bin_s=args.bin_s,
            levels=args.levels,
            outage_mbps=args.outage_mbps,
            ge_bad_mbps=args.ge_bad_mbps,
            column=args.column,
            select=_parse_select(args.select),
            scale=args.scale,
            seed=args.seed,
        )
    except SimInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out or FITS_DIR / f"{name}.yaml"
    print(
        f"{name}: {len(result['traces'])} trace(s), {result['total_s']:.0f} s, "
        f"bins of {args.bin_s:g} s; models simulated for {result['simulated_s']:.0f} s"
    )
    print(format_table(result["stats"]))
    markov = result["markov_uplink"]
    print(
        f"markov: {len(markov.rates_bps)} states, rates "
        + ", ".join(f"{r / 1e6:.3g}" for r in markov.rates_bps)
        + " Mbit/s"
    )
    ge = result["ge_uplink"]
    print(
        f"gilbert_elliott: good {ge.good_rate_bps / 1e6:.3g} Mbit/s for {ge.mean_good_s:.3g} s, "
        f"bad {ge.bad_rate_bps / 1e6:.3g} Mbit/s for {ge.mean_bad_s:.3g} s"
    )
    recorded = {
        "argv": [_relative_arg(a) for a in argv],
        "format": args.format,
        "bin_s": args.bin_s,
        "levels": args.levels,
        "outage_mbps": args.outage_mbps,
        "scale": args.scale,
        "seed": args.seed,
    }
    write_fit(result, out, name, recorded)
    print(f"wrote {_relative(str(out))}")
    return 0


def _relative(text: str) -> str:
    """An existing path written relative to the repository root (others unchanged)."""
    path = Path(text)
    if not path.exists():
        return text
    path = path.resolve()
    if path.is_relative_to(ROOT):
        return str(path.relative_to(ROOT))
    if path.is_relative_to(ROOT.parent):
        return str(Path("..") / path.relative_to(ROOT.parent))
    return text


if __name__ == "__main__":
    raise SystemExit(main())
