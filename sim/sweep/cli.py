"""``python -m sim sweep``: the command-line face of :func:`sim.sweep.runner.sweep`.

    python -m sim sweep scenarios/congested_lte.yaml \\
        --grid devices.pi.workload.fps=1,2,5 \\
        --grid devices.pi.count=10,20,30 \\
        --replications 5 --workers 2 --out results/sweeps/grid

SCENARIO is a scenario file (its ``sweep:`` block, if any, is the starting
point) or a sweep file (``scenario:`` plus sweep keys, see
``scenarios/sweeps/``). Options add to it; a key given on the command line
replaces the file's use of that key.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from sim.errors import SimInputError
from sim.sweep.spec import check_key, numeric

EXIT_FAILED_RUNS = 1
EXIT_INTERRUPTED = 130


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Register the ``sweep`` subcommand on ``sub`` (an argparse subparsers object)."""
    p = sub.add_parser(
        "sweep",
        help="run a parameter sweep with replications (local processes or Dask)",
        description="Run a parameter sweep; re-running the same command resumes it.",
    )
    p.add_argument("scenario", type=Path, help="scenario file, or a sweep file naming one")
    p.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="a grid dimension over a dotted key (repeatable; values parsed as YAML)",
    )
    p.add_argument(
        "--zip",
        action="append",
        default=[],
        metavar="KEY=V1,V2,...",
        help="keys walked together: all --zip options form one dimension (equal lengths)",
    )
    p.add_argument(
        "--random",
        action="append",
        default=[],
        metavar="KEY=KIND:A:B",
        help="a random key: uniform:LOW:HIGH, loguniform:LOW:HIGH, integers:LOW:HIGH or "
        "choice:V1|V2|...; needs --samples",
    )
    p.add_argument("--samples", type=int, help="number of random points")
    p.add_argument("--replications", type=int, help="seeds per point (derived from --seed)")
    p.add_argument("--seed", type=int, help="base seed of the replications (default: scenario's)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a dotted key of the scenario for every run (repeatable)",
    )
    p.add_argument("--strategies", help="comma-separated subset of the compared strategies")
    p.add_argument("--summary-only", action="store_true", help="store summaries, not records")
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=int,
        help="local worker processes (default: CPUs; 0: this process); "
        "with --local-cluster, Dask workers",
    )
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster")
    p.add_argument(
        "--local-cluster", action="store_true", help="start a Dask LocalCluster for the sweep"
    )
    p.add_argument("--retries", type=int, default=1, help="Dask retries of a failed run")
    p.add_argument("--out", type=Path, help="output folder (default results/sweeps/<name>)")
    p.add_argument(
        "--metrics",
        default="latency_mean_s,deadline_miss_rate,energy_whole_board_per_inference_j",
        help="comma-separated metrics to print and plot",
    )
    p.add_argument("--x", help="parameter on the plots' x axis (default: the first swept key)")
    p.add_argument("--logx", action="store_true", help="log-scale x axis on the plots")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )
    return p


def split_values(text: str) -> list[str]:
    """``'1,[2,3],{a: 1},"x,y"'`` -> four items: commas inside brackets or quotes do not split."""
    items, depth, quote, start = [], 0, "", 0
    for i, char in enumerate(text):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items]


def parse_assignment(text: str, option: str) -> tuple[str, list[Any]]:
    """``--grid key=v1,v2`` -> (key, [v1, v2]) with values parsed as YAML."""
    from sim.yamlio import parse_yaml_text

    key, sep, values = text.partition("=")
    key = key.strip()
    if not sep or not values.strip():
        raise SimInputError("expected KEY=V1,V2,...", file=option, value=text)
    try:
        check_key(key)
    except ValueError as exc:
        raise SimInputError(str(exc), file=option, value=text) from None
    parsed = [
        numeric(parse_yaml_text(item, source=f"{option} {key}").data)
        for item in split_values(values)
    ]
    if any(item == "" for item in split_values(values)):
        raise SimInputError("empty value in list", file=option, key=key, value=values)
    return key, parsed


def parse_random(text: str) -> tuple[str, dict[str, Any]]:
    """``key=uniform:1:5`` -> (key, {kind: uniform, low: 1, high: 5}); ``choice:a|b``."""
    key, sep, rest = text.partition("=")
    kind, _, args = rest.partition(":")
    if not sep or not args:
        raise SimInputError(
            "expected KEY=KIND:A:B",
            file="--random",
            value=text,
            allowed="uniform:LOW:HIGH, loguniform:LOW:HIGH, integers:LOW:HIGH, choice:V1|V2",
        )
    if kind == "choice":
        from sim.yamlio import parse_yaml_text

        values = [numeric(parse_yaml_text(v, "--random").data) for v in args.split("|")]
        return key.strip(), {"kind": kind, "values": values}
    bounds = args.split(":")
    try:
        low, high = (float(b) for b in bounds)
    except ValueError:
        raise SimInputError(
            "bounds must be two numbers",
            file="--random",
            key=key,
            value=args,
            allowed="LOW:HIGH",
        ) from None
    return key.strip(), {"kind": kind, "low": low, "high": high}


def _check_documented_metrics(metrics: list[str]) -> None:
    """Refuse, before anything runs, a metric the summary table never has (the output
    data dictionary lists its columns); the first stored run is checked again."""
    from sim.errors import did_you_mean
    from sim.output_columns import SUMMARY

    names = [c for c in SUMMARY.columns if c != "strategy"]
    for metric in metrics:
        if metric == "strategy" or not SUMMARY.documents(metric):
            raise SimInputError(
                f"unknown metric{did_you_mean(metric, names)}",
                file="--metrics",
                value=metric,
                allowed=", ".join(names),
            )


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM (a kill, a batch system's time limit) stops the sweep like Ctrl-C: the
    driver terminates its workers and keeps every stored run."""
    raise KeyboardInterrupt


def command(args: argparse.Namespace) -> int:
    """Run the sweep the arguments describe; print the table; write aggregate and plots."""
    from sim.sweep.aggregate import metric_columns
    from sim.sweep.executors import make_executor
    from sim.sweep.plan import plan_sweep
    from sim.sweep.runner import SweepFailed, check_metrics, execute_plan, merge_spec, open_target
    from sim.sweep.store import SweepStore

    for option, value, low in (
        ("--workers", args.workers, 0),
        ("--samples", args.samples, 1),
        ("--replications", args.replications, 1),
        ("--retries", args.retries, 0),
    ):
        if value is not None and value < low:
            raise SimInputError(
                "value out of range", file=option, value=value, allowed=f"an integer >= {low}"
            )
    scenario, base, default_out = open_target(args.scenario, args.overrides)
    grid = dict(parse_assignment(g, "--grid") for g in args.grid)
    zipped = [dict(parse_assignment(z, "--zip") for z in args.zip)] if args.zip else []
    random = None
    if args.random:
        if not args.samples:
            raise SimInputError("--random needs --samples N", file="--samples")
        random = {"samples": args.samples, "params": dict(parse_random(r) for r in args.random)}
    spec = merge_spec(
        base,
        grid=grid,
        zipped=zipped,
        random=random,
        replications=args.replications,
        seed=args.seed,
        strategies=args.strategies.split(",") if args.strategies else None,
        records=False if args.summary_only else None,
        source="command line",
    )
    metrics = [m for m in args.metrics.split(",") if m]
    _check_documented_metrics(metrics)
    if args.samples and not args.random:
        raise SimInputError("--samples needs at least one --random KEY=KIND:A:B", file="--samples")
    if args.scheduler and args.local_cluster:
        raise SimInputError("give --scheduler or --local-cluster, not both", file="--local-cluster")
    if spec.point_count > 50 and spec.point_count <= spec.max_points:
        print(
            f"planning {spec.point_count:,} points (resolving each scenario, "
            f"~{spec.point_count * 0.1:.0f} s)...",
            file=sys.stderr,
        )
    plan = plan_sweep(scenario, spec, progress=not args.quiet and sys.stderr.isatty())
    x = args.x or (plan.params[0] if plan.params else None)
    if args.x and args.x not in plan.params:
        raise SimInputError(
            "not a swept key", file="--x", value=args.x, allowed=", ".join(plan.params)
        )
    store = SweepStore(args.out or default_out)
    store.check_usable([r.run_id for r in plan.runs])
    todo = len(plan.missing(store))
    executor = None
    if todo:
        executor = make_executor(
            args.workers,
            scheduler=args.scheduler,
            local_cluster=args.local_cluster,
            retries=args.retries,
        )
    print(
        f"sweep {scenario.name}: {len(plan.points)} points x {len(plan.seeds)} replications = "
        f"{len(plan.runs)} runs ({len(plan.runs) - todo} stored, {todo} to run"
        + (f" on {executor.description}" if executor else "")
        + f") -> {store.root}/"
    )
    if not todo:
        check_metrics(metrics, store.read_table("summary"), plan.params)
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _terminate)  # a kill stops the workers too
    try:
        result = execute_plan(
            plan,
            store,
            executor,
            progress=not args.quiet and sys.stderr.isatty(),
            metrics=metrics,
        )
    except KeyboardInterrupt:
        done = len(plan.runs) - len(plan.missing(store))
        print(
            f"interrupted: {done} of {len(plan.runs)} runs stored in {store.root}/; "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except SweepFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED_RUNS
    finally:
        signal.signal(signal.SIGTERM, previous)
    if result.executed:
        rate = result.executed / result.wall_s if result.wall_s else float("nan")
        print(f"ran {result.executed} runs in {result.wall_s:.1f} s ({rate:.2f} runs/s)")
    unknown = [m for m in metrics if m not in result.summary.columns]
    if unknown:
        raise SimInputError(
            "unknown metric",
            file="--metrics",
            value=",".join(unknown),
            allowed=", ".join(metric_columns(result.summary, result.params)),
        )
    print(result.format(metrics))
    print(f"results: {store.root}/  (summary/, requests/, aggregate.csv, sweep.json)")
    if not args.no_plots and x is not None:
        for path in write_plots(result, metrics, x, logx=args.logx or None):
            print(f"plot: {path}")
    return 0


def write_plots(result: Any, metrics: list[str], x: str, *, logx: bool | None = None) -> list[Path]:
    """One PNG per metric against ``x`` into ``<out>/plots/`` (written atomically)."""
    from sim.figures import save_figure
    from sim.sweep.plot import plot_metric

    agg = result.aggregate(metrics)
    paths = []
    for metric in metrics:
        fig = plot_metric(agg, metric, x, logx=logx)
        paths.append(save_figure(fig, result.out / "plots" / f"{metric}_vs_{x}.png", dpi=120))
    return paths
