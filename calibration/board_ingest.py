"""Host step: turn a board's raw file (board_runner.py or trtexec) into device, server and model profiles.

    python calibration/board_ingest.py raw.json --out OUT [--name my_nano] [--idle-w 1.2 --compute-w 5.1]

The board's file holds the bundle's manifest (MACs, parameters, shapes and
payloads computed on the host when the bundle was built), the timings, the
phases and, on a Jetson, the tegrastats lines. This step assembles them into
the raw format of calibration/profile_model.py (``calibration-raw/1``), aligns
tegrastats power with the phases (calibration/power), and writes the profiles
with the same writer (calibration/profile_writer.py) under ``OUT``:
``devices/<name>.yaml``, ``servers/<name>.yaml``, ``models/<model>.yaml`` and
``raw/``. A profile name gets the runtime's suffix (``_ort``, ``_trt``) unless
it already ends with it. Scenarios use it as ``device: OUT/devices/<name>.yaml``.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from calibration.board_runner import BUNDLE_FORMAT, RAW_FORMAT  # noqa: E402
from calibration.profile_model import RAW_FORMAT as PROFILER_FORMAT  # noqa: E402

RUNTIME_SUFFIX = {"torch": "", "ort": "_ort", "tensorrt": "_trt"}
RUNTIME_TEXT = {
    "torch": "PyTorch (TorchScript traced from calibration/zoo, run op by op)",
    "ort": "ONNX Runtime, CPU execution provider",
    "tensorrt": "TensorRT (trtexec, GPU compute time of each engine)",
}


def profile_name(name: str, runtime: str) -> str:
    """``name`` with the runtime's suffix (``_ort``, ``_trt``) unless it already has it."""
    suffix = RUNTIME_SUFFIX[runtime]
    return name if not suffix or name.endswith(suffix) else name + suffix


def _time(times: dict[str, Any], key: str, path: str) -> dict[str, float]:
    if key not in times:
        raise SystemExit(f"{path}: times.{key} is missing; the board run did not time it")
    return dict(times[key])


def convert(
    board: dict[str, Any],
    *,
    path: str = "raw file",
    name: str | None = None,
    display_name: str | None = None,
) -> dict[str, Any]:
    """A ``calibration-raw/1`` document (what calibration/profile_writer.py writes from) from a board file."""
    if board.get("format") != RAW_FORMAT:
        raise SystemExit(f"{path}: format {board.get('format')!r}, expected {RAW_FORMAT!r}")
    manifest = board["manifest"]
    if manifest.get("format") != BUNDLE_FORMAT:
        raise SystemExit(
            f"{path}: manifest.format {manifest.get('format')!r}, expected {BUNDLE_FORMAT!r}"
        )
    runtime = board["runtime"]
    if runtime not in RUNTIME_SUFFIX:
        raise SystemExit(f"{path}: runtime {runtime!r} is not one of {', '.join(RUNTIME_SUFFIX)}")
    times = board["times"]
    settings = dict(board["settings"])
    batch_sizes = [int(b) for b in settings.get("batch_sizes", [])]

    def sweep(part: str) -> dict[int, dict[str, float]]:
        return {
            b: _time(times, f"server/{part}/b{b}", path)
            for b in batch_sizes
            if f"server/{part}/b{b}" in times
        }

    blocks = []
    if settings.get("blocks", True):
        for row in manifest["blocks"]:
            entry = {k: row[k] for k in ("name", "macs", "params", "out_shape", "out_bytes")}
            entry["time"] = _time(times, f"block/{row['name']}", path)
            blocks.append(entry)
    full = manifest["full"]
    parts: dict[str, Any] = {}
    for part_name, part in manifest["parts"].items():
        converted = json.loads(json.dumps(part))
        converted["server"].pop("chain", None)
        converted["server"]["sweep"] = sweep(part_name)
        if "head" in converted:
            head = converted["head"]
            head.pop("module", None)
            head.pop("in_shape", None)
            head["time"] = _time(times, f"{part_name}.encoder", path)
            if f"{part_name}.encoder_noquant" in times:
                head["time_without_quantizer"] = _time(times, f"{part_name}.encoder_noquant", path)
        parts[part_name] = converted
    info = dict(board["provenance"])
    info.setdefault("tool", "calibration/board_runner.py")
    info["runtime_text"] = RUNTIME_TEXT[runtime]
    raw: dict[str, Any] = {
        "format": PROFILER_FORMAT,
        "device_name": profile_name(name or board["device_name"], runtime),
        "display_name": display_name or board.get("display_name"),
        "model": manifest["model"],
        "variant": manifest["variant"],
        "channels": list(manifest["channels"]),
        "split_after": list(manifest["split_after"]),
        "provenance": info,
        "settings": settings,
        "blocks": blocks,
        "full": {
            "macs": full["macs"],
            "params": full["params"],
            "time": _time(times, "full", path),
            "sweep": sweep("full"),
        },
        "parts": parts,
        "jpeg": {"available": False},
        "phases": list(board.get("phases", [])),
        "board": {
            "runtime": runtime,
            "bundle_created": manifest.get("created"),
            "extra": board.get("extra", {}),
        },
    }
    if board.get("quantizer_note"):
        raw["board"]["quantizer_note"] = board["quantizer_note"]
    return raw


def attach_tegrastats(
    raw: dict[str, Any], tegrastats: dict[str, Any] | None, rail: str | None
) -> bool:
    """Align the board's stamped tegrastats lines with the phases; False when there are none."""
    if not tegrastats or not tegrastats.get("lines") or not raw["phases"]:
        return False
    from calibration.power import parse_lines, to_trace
    from calibration.power_profile import attach_power

    samples = parse_lines(tegrastats["lines"])
    start_s = tegrastats.get("start_s")
    interval_s = tegrastats["interval_ms"] / 1000.0 if tegrastats.get("interval_ms") else None
    trace = to_trace(samples, rail=rail, start_s=start_s, interval_s=interval_s)
    attach_power(raw, trace)
    raw["power"]["log"] = "tegrastats lines in the board's raw file"
    return True


def writer_args(out: Path, args: argparse.Namespace | None = None) -> argparse.Namespace:
    """The options calibration/profile_writer.py reads, from this step's command line."""
    get = (
        (lambda key, default=None: getattr(args, key, default))
        if args is not None
        else (lambda key, default=None: default)
    )
    return argparse.Namespace(
        out=out,
        idle_w=get("idle_w"),
        compute_w=get("compute_w"),
        display_name=get("display_name"),
        power_provenance=get("power_provenance", "given"),
        power_source=get("power_source", ""),
    )


def ingest(
    board: dict[str, Any],
    out: Path,
    args: argparse.Namespace | None = None,
    *,
    path: str = "raw file",
    command: str | None = None,
) -> list[Path]:
    """Convert, align power, and write the profiles under ``out``; returns the written paths."""
    from calibration.profile_writer import write_all

    raw = convert(
        board,
        path=path,
        name=getattr(args, "name", None),
        display_name=getattr(args, "display_name", None),
    )
    attach_tegrastats(raw, board.get("tegrastats"), getattr(args, "rail", None))
    wargs = writer_args(out, args)
    raw["writer_args"] = {k: v for k, v in vars(wargs).items() if k != "out"}
    raw["provenance"]["host_step"] = command or "calibration/board_ingest.py"
    return write_all(raw, wargs)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument(
        "raw",
        type=Path,
        help="the board's raw JSON file (board_runner.py --out, or trtexec_profile.py)",
    )
    p.add_argument(
        "--out", type=Path, required=True, help="output folder (devices/, servers/, models/, raw/)"
    )
    p.add_argument("--name", help="profile name (default: the name the board run used)")
    p.add_argument("--display-name", help="human-readable device name for the profile")
    p.add_argument("--rail", help="tegrastats rail (default: VDD_IN, POM_5V_IN or VIN_SYS_5V0)")
    p.add_argument("--idle-w", type=float, help="idle power [W] (instead of tegrastats)")
    p.add_argument(
        "--compute-w", type=float, help="power while computing [W] (instead of tegrastats)"
    )
    p.add_argument(
        "--power-provenance",
        default="given",
        choices=["measured", "published", "derived", "given", "assumed"],
        help="label of --idle-w/--compute-w (default: given, a number typed by hand)",
    )
    p.add_argument("--power-source", default="", help="where --idle-w/--compute-w come from")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    try:
        board = json.loads(args.raw.read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{args.raw}: cannot read the board's raw file: {exc}") from exc
    command = shlex.join(["calibration/board_ingest.py", *argv])
    for written in ingest(board, args.out, args, path=str(args.raw), command=command):
        print(f"wrote {written}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
