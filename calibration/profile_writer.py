"""Turn a profiler measurement into device, server and model profiles, merged with earlier runs.

Layout under ``OUT`` (the same as ``sim/profiles/data``)::

    devices/<name>.yaml   servers/<name>.yaml   models/<model>.yaml   raw/<name>__<model>__<what>.json

A device or server file that already exists keeps what it holds for other
models and variants; a run replaces only what it measured.
``python calibration/profile_writer.py --rebuild OUT`` regenerates every
profile under ``OUT`` from the raw runs, without timing anything again.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # also run as `python calibration/profile_writer.py --rebuild OUT`
    sys.path.insert(0, str(ROOT))

from calibration.hostinfo import describe, host_summary, run_summary  # noqa: E402
from calibration.model_profile import block_table, model_profile_dict  # noqa: E402
from calibration.profile_io import profile_path, read_doc, write_atomic, write_profile  # noqa: E402

PLACEHOLDER_IDLE_W = 2.0
PLACEHOLDER_COMPUTE_W = 6.0
PLACEHOLDER_POWER_SOURCE = (
    "ASSUMED placeholder (no power measurement given): a Raspberry-Pi/Jetson-class board draws about "
    "1-2.7 W idle and 5-7 W busy (../shared/reference/devices.md §0); run calibration/power_profile.py "
    "or pass --idle-w/--compute-w"
)
ASSUMED_JPEG_DECODE_S = 0.001  # same assumption as calibration/h100_server_profile.py


def sourced(value: float, provenance: str, source: str) -> dict[str, Any]:
    return {"value": float(value), "provenance": provenance, "source": source}


def fit_overhead_throughput(macs: list[float], seconds: list[float]) -> tuple[float, float]:
    """Fit t = overhead + MACs / throughput by least squares on relative error.

    Returns (overhead [s], throughput [MAC/s]), both non-negative; pure Python so
    that it runs on a board without numpy.
    """
    pairs = [(m, t) for m, t in zip(macs, seconds, strict=True) if t > 0]
    if not pairs:
        raise ValueError("no positive times to fit")
    # Weighted normal equations for t/t = o/t + a*m/t, target 1 (a = 1/throughput).
    s11 = sum(1 / t**2 for _, t in pairs)
    s12 = sum(m / t**2 for m, t in pairs)
    s22 = sum(m * m / t**2 for m, t in pairs)
    b1 = sum(1 / t for _, t in pairs)
    b2 = sum(m / t for m, t in pairs)
    det = s11 * s22 - s12 * s12
    overhead, slope = (0.0, 0.0)
    if det > 0:
        overhead = (b1 * s22 - b2 * s12) / det
        slope = (s11 * b2 - s12 * b1) / det
    if det <= 0 or overhead < 0 or slope <= 0:
        overhead = 0.0
        slope = b2 / s22 if s22 > 0 else 0.0
    if slope <= 0:  # every block has zero MACs: all overhead
        return statistics.median(t for _, t in pairs), 1e30
    return overhead, 1.0 / slope


def _median_s(entry: dict[str, Any]) -> float:
    return float(entry["time"]["median_s"])


def record_run(ledger: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Note in ``ledger`` which run measured the blocks and which the encoders of ``raw['model']``.

    A merged profile holds numbers from several runs; the ledger (``raw/<name>__runs.json``)
    keeps each one's date and command so that the profile's ``source`` can name them all.
    """
    info = raw["provenance"]
    runs = ledger.setdefault("runs", [])
    key = (info["date"], info["command"])
    run = next((r for r in runs if (r["date"], r["command"]) == key), None)
    if run is None:
        run = {
            "id": len(runs) + 1,
            "date": info["date"],
            "command": info["command"],
            "summary": run_summary(info),
        }
        runs.append(run)
    entry = ledger.setdefault("models", {}).setdefault(raw["model"], {"blocks": None, "parts": {}})
    if raw["blocks"]:
        entry["blocks"] = run["id"]
    for name, part in raw["parts"].items():
        if "head" in part:
            entry["parts"][f"{name}.encoder"] = run["id"]
    return ledger


def ledger_source(ledger: dict[str, Any], raw: dict[str, Any]) -> str:
    """``source`` text of a device profile's model entry: host, and which run measured what."""
    s = raw["settings"]
    entry = ledger["models"][raw["model"]]
    by_run: dict[int, list[str]] = {}
    for part, run_id in entry["parts"].items():
        by_run.setdefault(run_id, []).append(part)
    used = sorted({entry["blocks"], *by_run} - {None})
    what = []
    if entry["blocks"] is not None:
        what.append(f"blocks_s by run {entry['blocks']}")
    what += [f"{', '.join(parts)} by run {run_id}" for run_id, parts in sorted(by_run.items())]
    runs = {r["id"]: r for r in ledger["runs"]}
    quantizer = raw.get("board", {}).get("quantizer_note", "parts_s include the 8-bit quantiser")
    return (
        f"measured by {tool(raw)} (median of {s['repeats']} calls after {s['warmup']} "
        f"warm-up, {s.get('rounds', 1)} rounds; {quantizer}) on "
        f"{host_summary(raw['provenance'])}; {'; '.join(what)}; runs: "
        + "; ".join(f"[{i}] {runs[i]['summary']}" for i in used)
    )


def tool(raw: dict[str, Any]) -> str:
    """The script that timed ``raw``: the host profiler, or the board runner (and its runtime)."""
    info = raw["provenance"]
    name = str(info.get("tool", "calibration/profile_model.py"))
    return f"{name} ({info['runtime_text']})" if info.get("runtime_text") else name


def measured_source(raw: dict[str, Any]) -> str:
    s = raw["settings"]
    return (
        f"measured by {tool(raw)}, median of {s['repeats']} calls after {s['warmup']} "
        f"warm-up: {describe(raw['provenance'])}"
    )


def measured_power(raw: dict[str, Any]) -> tuple[dict[str, Any], dict[str, float]] | None:
    """(device ``power`` section, mean W per phase) from a power log aligned with the run, if any.

    Compute power is the mean over the whole-model phase (``full``), or over every
    device-side phase when that one was too short to hold power samples.
    """
    power = raw.get("power")
    if not power:
        return None
    by_phase = {p["name"]: p for p in power["phases"]}
    device_phases = [
        p
        for p in power["phases"]
        if p["name"] == "full" or p["name"].startswith("block/") or p["name"].endswith(".encoder")
    ]
    if "full" in by_phase:
        compute_w, what = by_phase["full"]["mean_w"], "whole-model phase"
    elif device_phases:
        total_s = sum(p["duration_s"] for p in device_phases)
        compute_w = sum(p["energy_j"] for p in device_phases) / total_s
        what = "device-side phases"
    else:
        return None
    source = (
        f"measured: {power['trace_source']} aligned with the profiler's phases by "
        f"calibration/power_profile.py ({describe(raw['provenance'])})"
    )
    idle_label, idle_what = (
        ("given", "idle power given with --idle-w")
        if power.get("idle_given")
        else ("measured", "idle phase")
    )
    section = {
        "idle_w": sourced(round(power["idle_w"], 4), idle_label, source + f"; {idle_what}"),
        "compute_w": sourced(round(compute_w, 4), "measured", source + f"; mean over the {what}"),
    }
    return section, {name: p["mean_w"] for name, p in by_phase.items()}


def _power(
    args: argparse.Namespace, existing: dict[str, Any] | None, raw: dict[str, Any] | None = None
) -> dict[str, Any]:
    if raw is not None and args.idle_w is None and (measured := measured_power(raw)) is not None:
        return measured[0]
    if args.idle_w is not None or args.compute_w is not None:
        if args.idle_w is None or args.compute_w is None:
            raise SystemExit("give both --idle-w and --compute-w")
        source = args.power_source or "given on the profiler's command line"
        return {
            "idle_w": sourced(args.idle_w, args.power_provenance, source),
            "compute_w": sourced(args.compute_w, args.power_provenance, source),
        }
    if existing and "power" in existing:
        return existing["power"]
    return {
        "idle_w": sourced(PLACEHOLDER_IDLE_W, "assumed", PLACEHOLDER_POWER_SOURCE),
        "compute_w": sourced(PLACEHOLDER_COMPUTE_W, "assumed", PLACEHOLDER_POWER_SOURCE),
    }


def _device_cost_model(models: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """t = overhead + MACs/throughput fitted to the measured blocks (or, without any, to the
    whole model and the encoders of this run)."""
    macs, secs = [], []
    for model, entry in models.items():
        try:
            table = {row["name"]: row["macs"] for row in block_table(model)}
        except KeyError:
            continue
        for block, seconds in entry.get("blocks_s", {}).items():
            if block in table:
                macs.append(float(table[block]))
                secs.append(float(seconds))
    if secs:
        what = f"the {len(secs)} measured blocks of {', '.join(sorted(models))} in this profile"
    else:
        macs.append(float(raw["full"]["macs"]))
        secs.append(_median_s(raw["full"]))
        for part in raw["parts"].values():
            if "head" in part:
                macs.append(float(part["head"]["macs"]))
                secs.append(_median_s(part["head"]))
        what = f"the whole {raw['model']} and the measured encoders (no per-block times)"
    overhead, throughput = fit_overhead_throughput(macs, secs)
    return {
        "macs_per_s": float(f"{throughput:.6g}"),
        "overhead_per_block_s": float(f"{overhead:.6g}"),
        "provenance": "derived",
        "source": f"least-squares fit (relative error) of t = overhead + MACs/throughput to {what}",
    }


BLOCKS_VS_WHOLE_TOLERANCE = 0.10
"""Relative gap between the sum of the block times and the whole model's time beyond which the
profiler warns (per-block synchronisation and cache effects; both are recorded)."""


def check_blocks_against_whole(
    model: str, blocks_s: dict[str, float], whole_s: float
) -> str | None:
    """A warning (also printed on stderr) when the blocks sum to more than 10 % off the whole
    model's time; None when they agree."""
    total = float(sum(blocks_s.values()))
    if whole_s <= 0 or abs(total / whole_s - 1.0) <= BLOCKS_VS_WHOLE_TOLERANCE:
        return None
    message = (
        f"warning: the {len(blocks_s)} blocks of {model} sum to {total:.4g} s but the whole "
        f"model took {whole_s:.4g} s ({100 * (total / whole_s - 1):+.0f} %); per-block timing "
        "adds synchronisation and loses cache reuse. The profile records both (blocks_s and "
        "whole_model_s); the simulator sums the blocks."
    )
    print(message, file=sys.stderr)
    return message


def device_doc(
    raw: dict[str, Any],
    args: argparse.Namespace,
    existing: dict[str, Any] | None,
    ledger: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The merged device profile after this run (``ledger``: which run measured what, updated here)."""
    ledger = record_run(ledger if ledger is not None else {}, raw)
    info = raw["provenance"]
    models = dict(existing.get("models", {})) if existing else {}
    old = models.get(raw["model"], {})
    blocks_s = {row["name"]: round(_median_s(row), 9) for row in raw["blocks"]} or old.get(
        "blocks_s", {}
    )
    parts_s = dict(old.get("parts_s", {}))
    for name, part in raw["parts"].items():
        if "head" in part:
            parts_s[f"{name}.encoder"] = round(_median_s(part["head"]), 9)
    entry: dict[str, Any] = {
        "provenance": "measured",
        "source": ledger_source(ledger, raw),
        "blocks_s": blocks_s,
        "parts_s": parts_s,
    }
    whole_s = _median_s(raw["full"]) if raw.get("full") and "time" in raw["full"] else None
    if whole_s is not None:
        entry["whole_model_s"] = round(whole_s, 9)
        if raw["blocks"]:
            check_blocks_against_whole(raw["model"], blocks_s, whole_s)
    elif "whole_model_s" in old:
        entry["whole_model_s"] = old["whole_model_s"]
    measured = measured_power(raw)
    if measured is not None:
        entry["compute_w"] = measured[0]["compute_w"]
    elif "compute_w" in old:
        entry["compute_w"] = old["compute_w"]
    models[raw["model"]] = entry
    jpeg = raw.get("jpeg", {})
    if "encode" in jpeg:
        jpeg_s = sourced(
            round(jpeg["encode"]["median_s"], 9),
            "measured",
            f"Pillow JPEG encode of a synthetic 224x224 frame at quality {jpeg['quality']} "
            f"({jpeg['bytes']} B), median of {jpeg['encode']['n']}: {describe(info)}",
        )
    elif existing and "jpeg_encode_s" in existing:
        jpeg_s = existing["jpeg_encode_s"]
    else:
        jpeg_s = sourced(
            0.0,
            "assumed",
            "the camera pipeline delivers the JPEG (hardware MJPEG); offloading only sends it",
        )
    stack = {"ort": "ONNX Runtime", "tensorrt": "TensorRT"}.get(str(info.get("runtime")), "PyTorch")
    display = (
        args.display_name
        or (existing or {}).get("display_name")
        or f"{info['processor']} ({info['device']}), {stack} {info['precision']}, {info['threads']} threads"
    )
    return {
        "schema": "device-profile/1",
        "name": raw["device_name"],
        "display_name": display,
        "processor": "gpu" if str(info["device"]).startswith("cuda") else "cpu",
        "power": _power(args, existing, raw),
        "cost_model": _device_cost_model(models, raw),
        "jpeg_encode_s": jpeg_s,
        "models": models,
    }


def _curve(sweep: dict[Any, Any], precision: str, source: str) -> dict[str, Any]:
    batch_s = {int(b): round(s["median_s"], 9) for b, s in sweep.items()}
    ratios = [s["p90_s"] / s["median_s"] for s in sweep.values() if s["median_s"] > 0]
    return {
        "precision": precision,
        "batch_s": batch_s,
        "p90_over_median": round(max(1.0, statistics.median(ratios)), 4),
        "power_w": {},
        "provenance": "measured",
        "source": source,
    }


def _linear_fit(points: list[tuple[int, float]]) -> tuple[float, float]:
    """(intercept [s], slope [s per item]) of batch time vs batch size; slope >= 0."""
    if len(points) < 2:
        return points[0][1], 0.0
    n = len(points)
    mb = sum(b for b, _ in points) / n
    mt = sum(t for _, t in points) / n
    var = sum((b - mb) ** 2 for b, _ in points)
    slope = max(0.0, sum((b - mb) * (t - mt) for b, t in points) / var)
    return max(0.0, mt - slope * mb), slope


def server_doc(
    raw: dict[str, Any], args: argparse.Namespace, existing: dict[str, Any] | None
) -> dict[str, Any]:
    """The merged server profile after this run (service time vs batch size of each server part)."""
    model, precision = raw["model"], raw["settings"]["precision"]
    source = measured_source(raw)
    parts = dict(existing.get("parts", {})) if existing else {}
    full = raw["full"]
    full_key = f"{model}/full"
    if full["sweep"] or full_key not in parts:  # a run without a sweep keeps an earlier sweep
        full_sweep = full["sweep"] or {1: full["time"]}
        parts[full_key] = _curve(full_sweep, precision, source + "; whole model")
    else:
        full_sweep = {b: {"median_s": t} for b, t in parts[full_key]["batch_s"].items()}
    for name, part in raw["parts"].items():
        if part["server"]["sweep"]:
            parts[f"{model}/{name}"] = _curve(
                part["server"]["sweep"], precision, source + f"; server side of {name}"
            )
    measured = measured_power(raw)
    if measured is not None:
        for phase, watts in measured[1].items():
            if phase.startswith("server/") and phase.count("/") == 2:
                _, part_name, batch = phase.split("/")
                key = f"{model}/{part_name}"
                if key in parts and batch[1:].isdigit():
                    parts[key]["power_w"][int(batch[1:])] = round(watts, 4)
    block_times = dict(existing.get("block_times_s", {})) if existing else {}
    if raw["blocks"]:
        block_times[model] = {
            row["name"]: max(1e-9, round(_median_s(row), 9)) for row in raw["blocks"]
        }
    points = sorted((int(b), s["median_s"]) for b, s in full_sweep.items())
    fixed, per_item = _linear_fit(points)
    throughput = full["macs"] / per_item if per_item > 0 else full["macs"] / points[0][1]
    power = _power(args, None, raw) if (args.idle_w is not None or measured is not None) else None
    idle = (
        power["idle_w"]
        if power
        else (existing or {}).get("idle_w")
        or sourced(PLACEHOLDER_IDLE_W, "assumed", PLACEHOLDER_POWER_SOURCE)
    )
    active_w = power["compute_w"]["value"] if power else PLACEHOLDER_COMPUTE_W
    jpeg = raw.get("jpeg", {})
    if jpeg.get("available"):
        decode = sourced(
            round(jpeg["decode"]["median_s"], 9),
            "measured",
            f"Pillow JPEG decode of a {jpeg['bytes']} B 224x224 JPEG, median of {jpeg['decode']['n']}: "
            f"{describe(raw['provenance'])}",
        )
    else:
        decode = sourced(
            ASSUMED_JPEG_DECODE_S,
            "assumed",
            "host-CPU JPEG decode of a 224x224 image; Pillow not installed where the profiler ran",
        )
    return {
        "schema": "server-profile/1",
        "name": raw["device_name"],
        "display_name": (existing or {}).get("display_name")
        or f"{raw['provenance']['processor']} as an edge server",
        "idle_w": idle,
        "jpeg_decode_s": decode,
        "parts": parts,
        "block_times_s": block_times,
        "block_times_provenance": {"provenance": "measured", "source": source},
        "cost_model": {
            "fixed_s": round(fixed, 9),
            "macs_per_s": float(f"{throughput:.6g}"),
            "active_w": active_w,
            "provenance": "derived",
            "source": f"linear fit t(b) = fixed + b * MACs/throughput to the {model}/full sweep; "
            f"active_w {'as compute_w of the device profile' if power else 'ASSUMED placeholder'}",
        },
    }


def model_doc(raw: dict[str, Any], existing: dict[str, Any] | None) -> dict[str, Any]:
    """The model profile with every variant measured so far (counts from the zoo, not timed)."""
    pairs = set()
    for name in list((existing or {}).get("variants", {})) + list(raw["parts"]):
        if name.startswith("bottlefit_c"):
            pairs.add(("bottlefit", int(name[len("bottlefit_c") :])))
        elif name.startswith("ae_c"):
            pairs.add(("autoencoder", int(name[len("ae_c") :])))
    return model_profile_dict(
        raw["model"], sorted(pairs, key=lambda p: (p[0] != "bottlefit", p[1]))
    )


def run_stem(
    name: str, model: str, variant: str, channels: list[int], split_after: list[str]
) -> str:
    """File stem of one run's raw data: ``<device>__<model>__<what was profiled>``."""
    if variant in ("bottlefit", "autoencoder"):
        what = f"{variant}_c{'-'.join(str(c) for c in channels)}"
    elif variant == "split":
        what = f"split_{'-'.join(split_after)}"
    else:
        what = "blocks"
    return f"{name}__{model}__{what}"


def write_all(raw: dict[str, Any], args: argparse.Namespace) -> list[Path]:
    """Write the raw JSON and the three merged profiles under ``args.out``; returns the paths."""
    out: Path = args.out
    name, model = raw["device_name"], raw["model"]
    header = f"Generated by {tool(raw)}; raw data in raw/{name}__{model}__*.json"
    written = []
    dev_path = profile_path(out, "device", name)
    ledger_path = out / "raw" / f"{name}__runs.json"
    ledger = json.loads(ledger_path.read_text()) if ledger_path.exists() else {}
    written.append(
        write_profile("device", device_doc(raw, args, read_doc(dev_path), ledger), dev_path, header)
    )
    write_atomic(ledger_path, json.dumps(ledger, indent=1) + "\n")
    srv_path = profile_path(out, "server", name)
    written.append(
        write_profile("server", server_doc(raw, args, read_doc(srv_path)), srv_path, header)
    )
    mod_path = profile_path(out, "model", model)
    written.append(
        write_profile(
            "model",
            model_doc(raw, read_doc(mod_path)),
            mod_path,
            "Generated by calibration/profile_model.py from calibration/zoo",
        )
    )
    raw_path = (
        out
        / "raw"
        / f"{run_stem(name, model, raw['variant'], raw['channels'], raw['split_after'])}.json"
    )
    write_atomic(raw_path, json.dumps(raw, indent=1) + "\n")
    written.append(raw_path)
    return written


def rebuild(out: Path) -> list[Path]:
    """Regenerate every profile under ``out`` from its raw runs, oldest first (no timing).

    Each run's own command line (stored in its raw file) supplies the options that
    shape the profiles (name, power arguments, display name).
    """
    import shlex

    from calibration.profile_model import build_parser

    raws = [
        json.loads(p.read_text())
        for p in sorted((out / "raw").glob("*.json"))
        if not p.name.endswith("__runs.json")
    ]
    raws = [r for r in raws if r.get("format") == "calibration-raw/1"]
    raws.sort(key=lambda r: r["provenance"]["date"])
    for kind in ("devices", "servers", "models"):
        for path in (out / kind).glob("*.yaml"):
            path.unlink()
    for path in (out / "raw").glob("*__runs.json"):
        path.unlink()
    written: list[Path] = []
    for raw in raws:
        if "writer_args" in raw:  # a board run turned into a profile by calibration/board_ingest.py
            args = argparse.Namespace(**raw["writer_args"])
        else:
            args = build_parser().parse_args(shlex.split(raw["provenance"]["command"])[1:])
        args.out = out
        written = write_all(raw, args)
    return written


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--rebuild":
        raise SystemExit("usage: python calibration/profile_writer.py --rebuild OUT")
    for written_path in rebuild(Path(sys.argv[2])):
        print(f"wrote {written_path}")
