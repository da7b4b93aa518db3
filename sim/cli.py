"""Command line: ``python -m sim run|validate|profiles|sweep``.

Exit codes: 0 success, 2 bad input (one line on stderr, no traceback unless
``--debug``), 130 interrupted (Ctrl-C; the output folder is complete and its
summary says ``interrupted``), 1 some runs of a sweep failed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

from sim.errors import SimInputError

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _version_line() -> str:
    """``splitsim 0.2.0.dev0 (results revision 3, commit 1a2b3c4d5e6f, dirty)``."""
    from sim.provenance import provenance

    info = provenance()
    commit = info["git_commit"]
    where = f", commit {commit[:12]}{', dirty' if info['git_dirty'] else ''}" if commit else ""
    return (
        f"splitsim {info['simulator_version']} (results revision {info['results_revision']}{where})"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sim", description="Split-computing simulator")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=_version_line())
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario and write its results")
    run.add_argument("scenario", type=Path)
    run.add_argument("--out", type=Path, help="output folder (default results/<scenario name>)")
    run.add_argument("--seed", type=int, help="override the scenario's seed")
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a dotted key, e.g. --set devices.0.count=10 (repeatable)",
    )
    run.add_argument("--strategies", help="comma-separated subset of the compared strategies")
    run.add_argument("--csv", action="store_true", help="also write CSV next to Parquet")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument(
        "--no-preflight", action="store_true", help="do not print the pre-flight warnings"
    )
    run.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )

    validate = sub.add_parser("validate", help="check a scenario without running it")
    validate.add_argument("scenario", type=Path)
    validate.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE"
    )
    validate.add_argument(
        "--no-preflight", action="store_true", help="only check, no warnings or predictions"
    )
    validate.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )

    profiles = sub.add_parser("profiles", help="list shipped profiles, or show one")
    profiles.add_argument("kind", nargs="?", choices=["model", "device", "server"])
    profiles.add_argument("name", nargs="?", help="profile name or path")
    profiles.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )

    schema = sub.add_parser(
        "schema", help="the scenario reference (every key), or a JSON Schema for editors"
    )
    schema.add_argument("key", nargs="?", default="", help="dotted key, e.g. cells.uplink")
    schema.add_argument(
        "--json",
        nargs="?",
        const="-",
        metavar="FILE",
        help="write the JSON Schema to FILE (default: standard output)",
    )
    schema.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )

    from sim.sweep.cli import add_parser as add_sweep_parser

    add_sweep_parser(sub)
    from sim.analysis.cli import add_parsers as add_analysis_parsers

    add_analysis_parsers(sub)
    return parser


def _run(args: argparse.Namespace) -> int:
    import sim
    from sim.report.table import format_summary

    scenario = sim.load(args.scenario, args.overrides, seed=args.seed)
    strategies = args.strategies.split(",") if args.strategies is not None else None
    if strategies is not None:
        from sim.api_checks import check_strategies

        strategies = check_strategies(strategies, scenario, "--strategies")
    from sim.output_target import check_output_target

    out = check_output_target(args.out if args.out is not None else Path("results") / scenario.name)
    if not args.no_preflight:
        _print_preflight(scenario, predictions=False)
    started = time.perf_counter()
    results = sim.run(scenario, strategies, progress=not args.quiet and sys.stderr.isatty())
    path = results.write(out, csv=args.csv or None, plots=False if args.no_plots else None)
    write_s = time.perf_counter() - started - results.wall_s
    spec = scenario.spec
    if results.interrupted:
        last = results.strategies[-1]
        extent = (
            f"interrupted at {results.runs[last].end_s:.1f} s of {spec.duration_s:g} s "
            f"in strategy {last}, {len(results.strategies)} of "
            f"{len(strategies or scenario.strategy_labels)} strategies"
        )
    else:
        extent = f"{spec.duration_s:g} s x {len(results.strategies)} strategies"
    print(
        f"{scenario.name}: {sum(r.n_requests for r in results.runs.values()):,} requests simulated "
        f"({extent}, seed {results.seed}) "
        f"in {results.wall_s:.1f} s (+{write_s:.1f} s writing the outputs)"
    )
    print(
        f"reqs: requests arriving in the measurement window [{spec.warmup_s:g} s, "
        f"{spec.duration_s:g} s) per strategy; late results count as misses "
        "(columns: docs/outputs.md)"
    )
    print(format_summary(results.summary))
    print(f"results: {path}/  (requests.parquet, summary.json, plots/)")
    measured = int(results.summary["requests"].sum()) if len(results.summary) else 0
    if measured == 0:
        window = max(results.windows.values(), default=(spec.warmup_s, spec.duration_s))
        print(
            f"warning: no request arrived inside the measurement window [{window[0]:g} s, "
            f"{window[1]:g} s): the summary is empty and no plots were drawn "
            "(lower warmup_s, run longer, or check the workload)",
            file=sys.stderr,
        )
    if results.interrupted:
        print("interrupted: the results cover the simulated time reached", file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _validate(args: argparse.Namespace) -> int:
    import sim
    from sim.yamlio import read_yaml

    doc = read_yaml(args.scenario)
    sweep_file = isinstance(doc.data, dict) and "scenario" in doc.data
    if sweep_file:  # a sweep file: its scenario, and every point of the sweep
        from sim.sweep.plan import plan_sweep
        from sim.sweep.runner import merge_spec, open_target

        scenario, spec, _ = open_target(args.scenario, args.overrides)
        plan = plan_sweep(scenario, merge_spec(spec, source=str(args.scenario)))
        print(
            f"{args.scenario}: ok — sweep of {len(plan.points)} points x {len(plan.seeds)} "
            f"replications = {len(plan.runs)} runs over {scenario.path}"
        )
    else:
        scenario = sim.load(args.scenario, args.overrides)
    devices = sum(g.spec.count for g in scenario.groups)
    print(
        f"{scenario.path if sweep_file else args.scenario}: ok — {len(scenario.groups)} device "
        f"groups ({devices} devices), {len(scenario.spec.servers)} servers, strategies: "
        f"{', '.join(scenario.strategy_labels)}"
    )
    if not args.no_preflight:
        _print_preflight(scenario, predictions=True)
    return 0


def _print_preflight(scenario, *, predictions: bool) -> None:
    """Pre-flight warnings on stderr, one line each; with ``predictions`` the cost model's table."""
    from sim.preflight import check, format_predictions

    findings, predicted = check(scenario)
    if predictions and predicted:
        print(format_predictions(predicted))
    for finding in findings:
        print(f"warning: {finding.line()}", file=sys.stderr)


def _schema(args: argparse.Namespace) -> int:
    from sim.schema_doc import lookup, write_json_schema
    from sim.schema_render import format_text

    if args.json is not None:
        if args.json == "-":
            sys.stdout.write(write_json_schema(None))
        else:
            write_json_schema(args.json)
            print(
                f"wrote {args.json}; first line of a scenario for editor completion: "
                f"# yaml-language-server: $schema={args.json}"
            )
        return 0
    docs = lookup(args.key)
    if not docs:
        from sim.schema_doc import reference

        top = sorted({d.path.split(".")[0].split("[")[0] for d in reference()})
        raise SimInputError(
            "unknown scenario key", file="schema", value=args.key, allowed=", ".join(top)
        )
    sys.stdout.write(format_text(docs))
    return 0


def _profiles(args: argparse.Namespace) -> int:
    from sim.profiles.registry import ProfileLibrary, shipped_path
    from sim.yamlio import read_yaml

    # Shipped profiles and those on $SPLITSIM_PROFILE_PATH (the user's own, by name).
    library = ProfileLibrary(Path.cwd())
    if args.kind is None:
        for kind in ("model", "device", "server"):
            print(f"{kind} profiles: {', '.join(library.names(kind)) or '(none)'}")
        return 0
    if args.name is None:
        for name in library.names(args.kind):
            profile = library.resolve(args.kind, name, file=None, key=args.kind)
            print(f"{name:28s} {getattr(profile, 'display_name', '')}")
        return 0
    library.resolve(
        args.kind, args.name, file="profiles", key=args.kind
    )  # validates, errors if unknown
    path = library.path_of(args.kind, args.name)
    print(f"# {path}" if path != shipped_path(args.kind, args.name) else f"# shipped: {path.name}")
    print(path.read_text() if path.exists() else read_yaml(path).data)
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from sim.sweep.cli import command

    return command(args)


_python_formatwarning = warnings.formatwarning


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """The simulator's own warnings as one ``warning: ...`` line, like the pre-flight ones."""
    if category.__module__.split(".")[0] in {"sim", "reproductions"}:
        return f"warning: {message}\n"
    return _python_formatwarning(message, category, filename, lineno, line)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.debug:
        warnings.formatwarning = _one_line_warning
    handler = (
        getattr(args, "handler", None)
        or {
            "run": _run,
            "validate": _validate,
            "profiles": _profiles,
            "sweep": _sweep,
            "schema": _schema,
        }[args.command]
    )
    try:
        return handler(args)
    except SimInputError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly. Point stdout at devnull so the
        # interpreter's final flush does not raise again (Python docs, "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
