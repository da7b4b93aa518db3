"""``python -m sim sensitivity`` and ``python -m sim optimize``: thin faces of the Python API.

    python -m sim sensitivity scenarios/congested_lte.yaml \\
        --param cells.enb.uplink.link.bandwidth_hz=5e6:20e6 \\
        --param servers.gpu0.background.0.rate_hz=50:300 \\
        --method sobol --samples 64 --metric deadline_miss_rate,latency_p95

    python -m sim optimize scenarios/congested_lte.yaml \\
        --param servers.gpu0.batching.max_wait_s=0.001:0.05:log \\
        --param strategy=offload,bottlefit_c12 \\
        --objective energy_above_idle_per_inference_j --constraint deadline_miss_rate<=0.05 \\
        --trials 40

Every argument is checked (keys against the scenario's schema, bounds, metrics)
before any run starts; a bad one is one line on stderr and exit code 2.
Re-running the same command resumes: stored runs and complete trials are kept.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_INTERRUPTED = 130


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("scenario", type=Path, help="scenario file (or a sweep file naming one)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a dotted key for every run (repeatable), e.g. --set duration_s=20",
    )
    p.add_argument("--replications", type=int, help="seeds per point, the same at every point")
    p.add_argument(
        "--seed", type=int, help="base seed of design and replications (default: scenario's)"
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, help="local worker processes (default: CPUs; 0: this process)"
    )
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )


def add_parsers(sub: Any) -> None:
    """Register ``sensitivity`` and ``optimize`` on ``sub``; each sets ``args.handler``."""
    sens = sub.add_parser(
        "sensitivity",
        help="global sensitivity analysis (SALib Sobol' or Morris) over scenario keys",
        description="Sobol' (S1, ST) or Morris (mu*, sigma) indices of metrics over parameter "
        "ranges; every design point is a sweep run. Re-running resumes.",
    )
    _common(sens)
    sens.add_argument(
        "--param",
        action="append",
        default=[],
        required=True,
        metavar="KEY=LOW:HIGH[:log] | KEY=A,B,C",
        help="a parameter range (repeatable; :log samples log-uniformly) or categorical "
        "choices (each equally likely)",
    )
    sens.add_argument("--method", choices=["sobol", "morris"], default="sobol")
    sens.add_argument(
        "--samples",
        type=int,
        default=64,
        help="N: Sobol' runs N x (params + 2) points (N a power of 2), Morris N trajectories",
    )
    sens.add_argument(
        "--metric",
        action="append",
        default=[],
        help="comma-separated summary metrics (default deadline_miss_rate); "
        "a unit suffix may be left out (latency_p95)",
    )
    sens.add_argument("--strategies", help="comma-separated subset of the compared strategies")
    sens.add_argument("--out", type=Path, help="output folder (default results/sensitivity/<name>)")
    sens.set_defaults(handler=sensitivity_command)

    opt = sub.add_parser(
        "optimize",
        help="constrained configuration search (Optuna TPE, or NSGA-II for a Pareto front)",
        description="Search parameter values for the best configuration under constraints; "
        "each trial runs with replications and common random numbers. Re-running resumes.",
    )
    _common(opt)
    opt.add_argument(
        "--param",
        action="append",
        default=[],
        required=True,
        metavar="KEY=LOW:HIGH[:log][:int] | KEY=A,B,C",
        help="a numeric range or categorical choices (repeatable); strategy=A,B picks the strategy",
    )
    opt.add_argument(
        "--objective",
        action="append",
        default=[],
        help="metric to minimise (max:NAME to maximise); two or more give a Pareto front",
    )
    opt.add_argument(
        "--constraint",
        action="append",
        default=[],
        metavar="METRIC<=BOUND",
        help="a bound on a metric's mean (repeatable), e.g. deadline_miss_rate<=0.05",
    )
    opt.add_argument("--trials", type=int, default=50, help="complete trials the study must hold")
    opt.add_argument("--strategy", help="optimise this strategy only (default: search over them)")
    opt.add_argument("--storage", help="Optuna storage URL (default sqlite:///OUT/study.db)")
    opt.add_argument("--study", help="study name in the storage (default: the scenario's name)")
    opt.add_argument("--population", type=int, help="NSGA-II population (several objectives)")
    opt.add_argument("--out", type=Path, help="output folder (default results/optimize/<name>)")
    opt.set_defaults(handler=optimize_command)


def _progress(args: argparse.Namespace) -> bool:
    return not args.quiet and sys.stderr.isatty()


def _missing_extra(exc: ImportError) -> int:
    print(
        f"error: {exc.name or exc}: not installed; sensitivity and optimize need the analysis "
        "extra: pip install -e '.[analysis]' (SALib, Optuna)",
        file=sys.stderr,
    )
    return 2


def sensitivity_command(args: argparse.Namespace) -> int:
    from sim.analysis.metrics import split_list
    from sim.analysis.sensitivity import sensitivity

    try:
        result = sensitivity(
            args.scenario,
            args.param,
            method=args.method,
            samples=args.samples,
            metrics=split_list(args.metric) or ["deadline_miss_rate"],
            replications=args.replications or 1,
            seed=args.seed,
            strategies=split_list(args.strategies) if args.strategies else None,
            overrides=args.overrides,
            out=args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=_progress(args),
            plots=not args.no_plots,
            announce=print,
        )
    except KeyboardInterrupt:
        print("interrupted: stored runs are kept; run the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ModuleNotFoundError as exc:
        if exc.name not in ("SALib", "optuna"):
            raise
        return _missing_extra(exc)
    print(result.format())
    print(f"results: {result.out}/  (indices.csv, points.csv, plots/, sweep/)")
    return 0


def optimize_command(args: argparse.Namespace) -> int:
    from sim.analysis.optimize import optimize

    try:
        result = optimize(
            args.scenario,
            args.param,
            objectives=args.objective or ["energy_above_idle_per_inference_j"],
            constraints=args.constraint,
            trials=args.trials,
            replications=args.replications or 3,
            seed=args.seed,
            strategy=args.strategy,
            overrides=args.overrides,
            storage=args.storage,
            study=args.study,
            out=args.out,
            population=args.population,
            workers=args.workers,
            scheduler=args.scheduler,
            progress=_progress(args),
            plots=not args.no_plots,
            announce=print,
        )
    except KeyboardInterrupt:
        print(
            "interrupted: complete trials are kept in the study; run the same command to resume "
            "(the interrupted trial is retried with the same configuration)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    except ModuleNotFoundError as exc:
        if exc.name not in ("SALib", "optuna"):
            raise
        return _missing_extra(exc)
    title = "Pareto front (feasible)" if len(result.objectives) > 1 else "best feasible trial"
    if result.pareto.empty:
        print(
            f"no feasible trial among {len(result.trials)}: loosen the constraints or widen the ranges"
        )
    else:
        print(f"{title}:")
        print(result.format())
    if result.best_file is not None:
        print(f"best configuration: {result.best_file}  (python -m sim run {result.best_file})")
    print(
        f"results: {result.out}/  (trials.csv, pareto.csv, plots/, runs/; study {result.storage})"
    )
    return 0
