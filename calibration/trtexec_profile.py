"""TensorRT path for a Jetson: print the trtexec commands for a bundle, and read their JSON back.

    python calibration/trtexec_profile.py commands BUNDLE > BUNDLE/run_trtexec.sh   # on the host
    bash run_trtexec.sh                                                            # on the Jetson, in BUNDLE
    python calibration/trtexec_profile.py ingest BUNDLE BUNDLE/trt --out OUT --name my_nano   # on the host

``commands`` writes a shell script that, for every block, the whole model and
each variant's encoder of the bundle's ONNX files (opset 13), builds an FP16
engine and times it with ``trtexec --loadEngine=… --dumpProfile
--separateProfileRun --exportProfile=… --exportTimes=…``, stamping the Unix
time before and after each timing run (phases for power alignment) and
recording ``tegrastats`` beside it. ``ingest`` reads the folder back: the
median, p10 and p90 of each engine's per-inference GPU compute time
(``computeMs`` of ``--exportTimes``) become the block and part times of a
``<name>_trt`` device profile; the per-layer profile (``--exportProfile``) is
kept beside them. Engines see their input already on the GPU, as a block
inside a split pipeline does; host-device copies are not counted.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from calibration.board_runner import BUNDLE_FORMAT, INPUT_NAME, RAW_FORMAT, summarize  # noqa: E402

DEFAULT_TRTEXEC = "/usr/src/tensorrt/bin/trtexec"
"""Where JetPack installs trtexec (it is not on the PATH)."""
QUANTIZER_NOTE = (
    "parts_s are the encoder alone: TensorRT 8.2 has no uint8 network output, so the 8-bit "
    "quantiser is not in the engine; add its time from a torch run of the same board"
)


# ------------------------------------------------------------------ reading trtexec's JSON


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{path}: cannot read trtexec's JSON: {exc}") from exc


def parse_times(doc: Any, path: str = "times file") -> dict[str, Any]:
    """Per-inference times of ``--exportTimes`` [s]: GPU compute and end-to-end latency summaries.

    Each record holds ``computeMs`` (kernels only) and ``latencyMs`` (with the
    host-device copies); both are summarised as median / p10 / p90 / mean / n.
    """
    if not isinstance(doc, list) or not doc:
        raise SystemExit(f"{path}: expected trtexec's --exportTimes list of inference records")
    compute, latency = [], []
    for i, record in enumerate(doc):
        if not isinstance(record, dict) or "computeMs" not in record:
            raise SystemExit(f"{path}: record {i} has no computeMs (is this a --exportTimes file?)")
        compute.append(float(record["computeMs"]) / 1e3)
        latency.append(float(record.get("latencyMs", record["computeMs"])) / 1e3)
    return {"compute": summarize(compute), "latency": summarize(latency)}


def parse_profile(doc: Any, path: str = "profile file") -> dict[str, Any]:
    """Per-layer times of ``--exportProfile``: ``[{"count": N}, {"name", "timeMs", "averageMs", ...}, ...]``.

    Returns the number of profiled inferences, the layers (name, average [s],
    median [s] where trtexec >= 8.4 writes it, percentage) and their sum [s].
    """
    if (
        not isinstance(doc, list)
        or not doc
        or not isinstance(doc[0], dict)
        or "count" not in doc[0]
    ):
        raise SystemExit(
            f'{path}: expected trtexec\'s --exportProfile list starting with {{"count": N}}'
        )
    layers = []
    for i, row in enumerate(doc[1:], start=1):
        if not isinstance(row, dict) or "name" not in row or "averageMs" not in row:
            raise SystemExit(f"{path}: entry {i} has no name/averageMs")
        layer = {
            "name": str(row["name"]),
            "average_s": float(row["averageMs"]) / 1e3,
            "total_s": float(row.get("timeMs", 0.0)) / 1e3,
            "percentage": float(row.get("percentage", 0.0)),
        }
        if "medianMs" in row:
            layer["median_s"] = float(row["medianMs"]) / 1e3
        layers.append(layer)
    return {
        "count": int(doc[0]["count"]),
        "layers": layers,
        "layer_sum_s": sum(layer["average_s"] for layer in layers),
    }


def parse_log(text: str) -> dict[str, str]:
    """TensorRT version and GPU name from trtexec's console log, where present."""
    found = {}
    version = re.search(r"TensorRT\.trtexec \[TensorRT v(\d+)\]", text)
    if version:
        number = int(
            version.group(1)
        )  # NV_TENSORRT_VERSION: 8201 = 8.2.1 (major*1000), 100200 = 10.2.0
        major, rest = divmod(number, 10000) if number >= 100000 else divmod(number, 1000)
        found["tensorrt"] = f"{major}.{rest // 100}.{rest % 100}"
    device = re.search(r"\[I\] (?:Selected )?Device: (?!\d)(.+)$", text, re.MULTILINE)
    if device:
        found["device"] = device.group(1).strip()
    return found


# ------------------------------------------------------------------ the commands


def trt_modules(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    """(job name, module) pairs timed with TensorRT: blocks, the whole model, the variants' encoders."""
    jobs = [(f"block/{b['name']}", b["module"]) for b in manifest["blocks"]]
    jobs.append(("full", manifest["full"]["module"]))
    jobs += [
        (f"{name}.encoder", part["head"]["module"])
        for name, part in manifest["parts"].items()
        if "head" in part
    ]
    missing = [module for _, module in jobs if not manifest["modules"].get(module, {}).get("onnx")]
    if missing:
        raise SystemExit(
            f"the bundle has no ONNX file for {', '.join(missing)}: build it without --no-onnx"
        )
    return jobs


def shape_arg(shape: list[int]) -> str:
    return f"{INPUT_NAME}:1x" + "x".join(str(d) for d in shape)


def commands(
    manifest: dict[str, Any],
    *,
    trtexec: str = DEFAULT_TRTEXEC,
    results: str = "trt",
    duration_s: int = 10,
    warmup_ms: int = 2000,
    interval_ms: int = 100,
) -> list[str]:
    """The shell script (lines) that builds and times every engine of the bundle on the Jetson."""
    q = shlex.quote
    lines = [
        "#!/bin/bash",
        "# Generated by calibration/trtexec_profile.py: run inside the bundle folder on the Jetson.",
        "# Builds an FP16 TensorRT engine per module, then times it; copy the trt/ folder back to the host.",
        "set -euo pipefail",
        f"TRTEXEC={q(trtexec)}",
        f"mkdir -p {q(results)}",
        f"uname -a > {q(results)}/board.txt; cat /etc/nv_tegra_release >> {q(results)}/board.txt 2>/dev/null || true",
        f"nvpmodel -q >> {q(results)}/board.txt 2>/dev/null || true",
        f": > {q(results)}/phases.tsv",
        "TEGRA_PID=",
        "if command -v tegrastats > /dev/null; then",
        f"  date +%s.%N > {q(results)}/tegrastats.start",
        f"  tegrastats --interval {interval_ms} > {q(results)}/tegrastats.log & TEGRA_PID=$!",
        "  trap '[ -n \"$TEGRA_PID\" ] && kill $TEGRA_PID' EXIT",
        "fi",
        f'sleep 10; echo "idle\t$(date +%s.%N)" >> {q(results)}/phases.tsv  # idle power baseline ends',
    ]
    for job, module in trt_modules(manifest):
        entry = manifest["modules"][module]
        onnx, shapes, out = entry["onnx"], shape_arg(entry["in_shape"]), f"{results}/{module}"
        lines += [
            f"# {job}",
            f"$TRTEXEC --onnx={q(onnx)} --fp16 --shapes={shapes} --saveEngine={q(out + '.engine')} "
            f"> {q(out + '.build.log')} 2>&1",
            f'echo "{job}\tstart\t$(date +%s.%N)" >> {q(results)}/phases.tsv',
            f"$TRTEXEC --loadEngine={q(out + '.engine')} --shapes={shapes} --warmUp={warmup_ms} "
            f"--duration={duration_s} --dumpProfile --separateProfileRun "
            f"--exportProfile={q(out + '.profile.json')} --exportTimes={q(out + '.times.json')} "
            f"> {q(out + '.log')} 2>&1",
            f'echo "{job}\tend\t$(date +%s.%N)" >> {q(results)}/phases.tsv',
        ]
    lines.append(f'echo "done: copy $(pwd)/{results} back to the host"')
    return lines


# ------------------------------------------------------------------ reading the results back


def read_phases(path: Path) -> tuple[list[dict[str, Any]], float | None]:
    """Phases from ``phases.tsv`` (job, start/end, Unix time), and the end of the idle baseline."""
    if not path.exists():
        return [], None
    starts: dict[str, float] = {}
    phases, idle_end = [], None
    for line in path.read_text().splitlines():
        fields = line.split("\t")
        if fields[0] == "idle" and len(fields) == 2:
            idle_end = float(fields[1])
        elif len(fields) == 3 and fields[1] == "start":
            starts[fields[0]] = float(fields[2])
        elif len(fields) == 3 and fields[1] == "end" and fields[0] in starts:
            phases.append(
                {
                    "name": fields[0],
                    "t_start": starts.pop(fields[0]),
                    "t_end": float(fields[2]),
                    "calls": 0,
                    "batch": 1,
                }
            )
    return phases, idle_end


def board_raw(
    bundle: Path, results: Path, *, name: str, display_name: str | None = None
) -> dict[str, Any]:
    """A ``splitsim-board-raw/1`` document (runtime ``tensorrt``) from a bundle and trtexec's outputs."""
    manifest = read_json(bundle / "manifest.json")
    if manifest.get("format") != BUNDLE_FORMAT:
        raise SystemExit(
            f"{bundle}/manifest.json: format {manifest.get('format')!r}, expected {BUNDLE_FORMAT!r}"
        )
    times, extra, logs = {}, {}, {}
    for job, module in trt_modules(manifest):
        times_path = results / f"{module}.times.json"
        if not times_path.exists():
            raise SystemExit(
                f"{times_path}: missing; did trtexec run for {job}? (see {module}.log)"
            )
        parsed = parse_times(read_json(times_path), str(times_path))
        times[job] = parsed["compute"]
        extra[job] = {"latency_with_copies": parsed["latency"]}
        profile_path = results / f"{module}.profile.json"
        if profile_path.exists():
            profile = parse_profile(read_json(profile_path), str(profile_path))
            extra[job]["layer_profile"] = {
                "count": profile["count"],
                "layers": len(profile["layers"]),
                "layer_sum_s": profile["layer_sum_s"],
            }
        log_path = results / f"{module}.log"
        if log_path.exists():
            logs.update(parse_log(log_path.read_text(errors="replace")))
    phases, idle_end = read_phases(results / "phases.tsv")
    tegrastats = None
    log = results / "tegrastats.log"
    if log.exists() and (results / "tegrastats.start").exists():
        start_s = float((results / "tegrastats.start").read_text().split()[0])
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        tegrastats = {"interval_ms": _interval_ms(results), "start_s": start_s, "lines": lines}
        if idle_end is not None:
            phases.insert(
                0, {"name": "idle", "t_start": start_s, "t_end": idle_end, "calls": 0, "batch": 1}
            )
    board_txt = (
        (results / "board.txt").read_text(errors="replace")
        if (results / "board.txt").exists()
        else ""
    )
    mode = re.search(r"NV Power Mode:\s*(\S+)", board_txt)
    host = board_txt.split()[1] if len(board_txt.split()) > 1 else "unknown"
    info = {
        "host": host,
        "processor": logs.get("device", "Jetson GPU"),
        "machine": "aarch64",
        "logical_cpus": None,
        "os": board_txt.splitlines()[0] if board_txt else "unknown",
        "python": None,
        "torch": None,
        "device": "cuda",
        "threads": 1,
        "precision": "fp16",
        "power_mode": f"nvpmodel {mode.group(1)}" if mode else None,
        "runtime": "tensorrt",
        "runtime_version": logs.get("tensorrt"),
        "date": _date(phases),
        "command": f"trtexec (run_trtexec.sh from calibration/trtexec_profile.py) in {bundle.name}",
        "tool": "trtexec",
        "background_cpu_frac": None,
    }
    return {
        "format": RAW_FORMAT,
        "runtime": "tensorrt",
        "device_name": name,
        "display_name": display_name,
        "manifest": manifest,
        "provenance": info,
        "settings": {
            "warmup": "trtexec --warmUp",
            "repeats": min(t["n"] for t in times.values()),
            "rounds": 1,
            "sweep_repeats": 0,
            "batch_sizes": [],
            "min_phase_s": 0.0,
            "precision": "fp16",
            "blocks": True,
        },
        "times": times,
        "phases": phases,
        "tegrastats": tegrastats,
        "extra": extra,
        "quantizer_note": QUANTIZER_NOTE,
    }


def _interval_ms(results: Path) -> int:
    script = results.parent / "run_trtexec.sh"
    match = (
        re.search(r"tegrastats --interval (\d+)", script.read_text()) if script.exists() else None
    )
    return int(match.group(1)) if match else 100


def _date(phases: list[dict[str, Any]]) -> str:
    import datetime as dt

    t = phases[0]["t_start"] if phases else 0.0
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds") if t else "unknown"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    sub = p.add_subparsers(dest="command", required=True)
    c = sub.add_parser("commands", help="print the trtexec script for a bundle")
    c.add_argument("bundle", type=Path)
    c.add_argument(
        "--trtexec",
        default=DEFAULT_TRTEXEC,
        help=f"trtexec on the board (default {DEFAULT_TRTEXEC})",
    )
    c.add_argument("--duration-s", type=int, default=10, help="timing run per engine [s]")
    c.add_argument("--warmup-ms", type=int, default=2000)
    i = sub.add_parser("ingest", help="turn trtexec's outputs into a <name>_trt device profile")
    i.add_argument("bundle", type=Path)
    i.add_argument("results", type=Path, help="the trt/ folder copied back from the board")
    i.add_argument("--out", type=Path, required=True)
    i.add_argument("--name", required=True, help="profile name (gets the suffix _trt)")
    i.add_argument("--display-name")
    i.add_argument("--rail", help="tegrastats rail (default: VDD_IN, POM_5V_IN or VIN_SYS_5V0)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    if args.command == "commands":
        manifest = read_json(args.bundle / "manifest.json")
        print(
            "\n".join(
                commands(
                    manifest,
                    trtexec=args.trtexec,
                    duration_s=args.duration_s,
                    warmup_ms=args.warmup_ms,
                )
            )
        )
        return 0
    from calibration.board_ingest import ingest

    raw = board_raw(args.bundle, args.results, name=args.name, display_name=args.display_name)
    for written in ingest(
        raw,
        args.out,
        args,
        path=str(args.results),
        command=shlex.join(["calibration/trtexec_profile.py", *argv]),
    ):
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
