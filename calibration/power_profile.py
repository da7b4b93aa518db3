"""Power per model part and energy per inference, from a power log aligned with the profiler.

Two ways to use it:

``run``: on a Jetson, record ``tegrastats`` while the profiler runs, then align::

    python calibration/power_profile.py run --interval-ms 100 -- \\
        --model densenet201 --variant bottlefit --channels 12 --device cuda --out OUT --name jetson_nano_mine

``align``: afterwards, with a log from any meter whose clock matches the board's::

    python calibration/power_profile.py align --raw OUT/raw/NAME__densenet201__bottlefit_c12.json \\
        --meter-csv meter.csv            # or: --tegrastats tegrastats.log [--rail VDD_IN]

Both print idle power, mean power of every phase (block, whole model, encoder,
server batch) and energy per image (total and above idle), save them in the
raw JSON, and rewrite the device and server profiles under OUT with the
measured power (provenance ``measured``). Formats: ``calibration/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from calibration.power import (  # noqa: E402
    PowerTrace,
    TegrastatsRecorder,
    align_phases,
    read_meter_csv,
    read_tegrastats,
)

DEFAULT_IDLE_S = 10.0
DEFAULT_MIN_PHASE_S = 5.0  # 50 samples at tegrastats' 100 ms interval


def attach_power(
    raw: dict[str, Any], trace: PowerTrace, *, idle_w: float | None = None
) -> dict[str, Any]:
    """Align ``trace`` with the raw run's phases and store the result under ``raw['power']``."""
    idle, phases = align_phases(trace, raw["phases"], idle_w=idle_w)
    raw["power"] = {
        "trace_source": trace.source,
        "idle_w": idle,
        "phases": [p.as_dict() for p in phases],
        # an --idle-w typed by hand is 'given', not 'measured' (profile_writer)
        "idle_given": idle_w is not None,
    }
    return raw


def summary_lines(raw: dict[str, Any]) -> list[str]:
    power = raw["power"]
    lines = [
        f"power from {power['trace_source']}: idle {power['idle_w']:.3f} W",
        f"  {'phase':<32} {'mean W':>8} {'J/image':>9} {'above idle':>10} {'samples':>7}",
    ]
    for p in power["phases"]:
        per = "" if p["energy_per_image_j"] is None else f"{p['energy_per_image_j']:.4f}"
        marg = "" if p["marginal_per_image_j"] is None else f"{p['marginal_per_image_j']:.4f}"
        lines.append(f"  {p['name']:<32} {p['mean_w']:8.3f} {per:>9} {marg:>10} {p['samples']:>7}")
    return lines


def _writer_args(raw: dict[str, Any], out: Path) -> argparse.Namespace:
    return argparse.Namespace(
        out=out,
        idle_w=None,
        compute_w=None,
        display_name=raw.get("display_name"),
        power_provenance="measured",
        power_source="",
    )


def write_with_power(
    raw: dict[str, Any], out: Path, profiler_args: argparse.Namespace | None = None
) -> list[Path]:
    """Rewrite the profiles and the raw JSON under ``out`` with the aligned power."""
    from calibration.profile_writer import write_all

    return write_all(raw, profiler_args or _writer_args(raw, out))


def cmd_run(args: argparse.Namespace, profiler_argv: list[str]) -> int:
    from calibration.profile_model import Profiler, build_parser, command_line, default_name
    from calibration.profile_writer import run_stem

    prof = build_parser().parse_args(profiler_argv)
    prof.command_line = command_line(profiler_argv)
    prof.idle_s = prof.idle_s or args.idle_s
    prof.min_phase_s = prof.min_phase_s or args.min_phase_s
    if args.tegrastats_command is None and not TegrastatsRecorder.available():
        raise SystemExit(
            "tegrastats not found: on a board without it, run calibration/profile_model.py with "
            "--idle-s and --min-phase-s while an external meter logs, then use 'align'"
        )
    import torch

    name = prof.name or default_name(torch.device(prof.device))
    prof.name = name
    channels = (
        [int(c) for c in prof.channels.split(",")]
        if prof.variant in ("bottlefit", "autoencoder")
        else []
    )
    split_after = [b for b in prof.split_after.split(",") if b] if prof.variant == "split" else []
    stem = run_stem(name, prof.model, prof.variant, channels, split_after)
    log_path = prof.out / "raw" / f"{stem}.tegrastats.log"
    command = args.tegrastats_command.split() if args.tegrastats_command else None
    with TegrastatsRecorder(log_path, args.interval_ms, command):
        raw = Profiler(prof).run()
    trace = read_tegrastats(log_path, rail=args.rail)
    attach_power(raw, trace)
    raw["power"]["log"] = str(log_path)
    print("\n".join(summary_lines(raw)))
    for path in write_with_power(raw, prof.out, prof):
        print(f"wrote {path}")
    return 0


def cmd_align(args: argparse.Namespace) -> int:
    raw = json.loads(args.raw.read_text())
    if args.tegrastats:
        trace = read_tegrastats(
            args.tegrastats,
            rail=args.rail,
            start_s=args.start_s,
            interval_s=None if args.interval_ms is None else args.interval_ms / 1000,
        )
        log = args.tegrastats
    else:
        trace = read_meter_csv(args.meter_csv, t0_s=args.t0_s)
        log = args.meter_csv
    attach_power(raw, trace, idle_w=args.idle_w)
    raw["power"]["log"] = str(log)
    print("\n".join(summary_lines(raw)))
    out = args.out or args.raw.resolve().parent.parent
    for path in write_with_power(raw, out):
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="profile while recording tegrastats (Jetson); profiler args after --"
    )
    run.add_argument(
        "--interval-ms", type=int, default=100, help="tegrastats sampling interval [ms]"
    )
    run.add_argument("--rail", help="tegrastats rail (default: VDD_IN, POM_5V_IN or VIN_SYS_5V0)")
    run.add_argument(
        "--idle-s", type=float, default=DEFAULT_IDLE_S, help="idle phase before measuring [s]"
    )
    run.add_argument(
        "--min-phase-s", type=float, default=DEFAULT_MIN_PHASE_S, help="minimum phase length [s]"
    )
    run.add_argument(
        "--tegrastats-command", help=argparse.SUPPRESS
    )  # a stand-in program, for tests
    align = sub.add_parser("align", help="align a recorded power log with a profiler run")
    align.add_argument(
        "--raw", type=Path, required=True, help="the profiler's raw JSON (OUT/raw/...json)"
    )
    src = align.add_mutually_exclusive_group(required=True)
    src.add_argument("--tegrastats", type=Path, help="tegrastats log")
    src.add_argument("--meter-csv", type=Path, help="external meter CSV (time_s/timestamp + power)")
    align.add_argument("--rail", help="tegrastats rail (default: VDD_IN, POM_5V_IN or VIN_SYS_5V0)")
    align.add_argument(
        "--start-s", type=float, help="Unix time of the first line of an untimed tegrastats log"
    )
    align.add_argument(
        "--interval-ms", type=float, help="interval of an untimed tegrastats log [ms]"
    )
    align.add_argument("--t0-s", type=float, default=0.0, help="added to the meter CSV times [s]")
    align.add_argument("--idle-w", type=float, help="idle power [W] if the run had no idle phase")
    align.add_argument("--out", type=Path, help="profile folder (default: the raw file's OUT)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    profiler_argv: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, profiler_argv = argv[:cut], argv[cut + 1 :]
    args = build_parser().parse_args(argv)
    if args.command == "run":
        return cmd_run(args, profiler_argv)
    return cmd_align(args)


if __name__ == "__main__":
    raise SystemExit(main())
