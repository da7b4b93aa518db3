"""Convert the H100 eager-PyTorch measurements into the simulator's server profiles.

Reads ``../shared/calibration/h100_eager_pytorch.json`` (CUDA-event medians of
40 runs after 15 warm-ups, torchvision architectures, see that folder's
README) and writes one server profile per precision into
``sim/profiles/data/servers/``. Run once; the output is committed.

    python calibration/h100_server_profile.py [--json PATH] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.profiles.schema import ServerProfile  # noqa: E402
from sim.profiles.service import fit_hinge  # noqa: E402
from sim.yamlio import dump_yaml  # noqa: E402

DEFAULT_JSON = ROOT.parent / "shared" / "calibration" / "h100_eager_pytorch.json"
SOURCE = (
    "../shared/calibration/h100_eager_pytorch.json: NVIDIA H100 80GB HBM3, PyTorch 2.11 + CUDA 13, "
    "eager mode, cudnn.benchmark, CUDA events, median of 40 runs after 15 warm-ups"
)
# Server-side JPEG decode of a 224x224 ImageNet JPEG on the host CPU before the GPU.
# No measurement in ../shared; libjpeg-turbo decodes ~100-200 MP/s per core, i.e.
# ~0.3-0.5 ms for 0.05 MP plus resize/normalise. We assume 1 ms.
JPEG_DECODE_S = 0.001


def part_name(json_part: str) -> str:
    return {"full": "full", "bottlefit_server_c12": "bottlefit_c12"}.get(json_part, json_part)


def build(data: dict, precision: str) -> dict:
    parts: dict[str, dict] = {}
    fits = []
    for key, rows in data["whole_vs_batch"].items():
        model, json_part, prec = key.split("/")
        if prec != precision or json_part.startswith("bottlefit_head"):
            continue
        batch_s = {int(r["batch"]): round(r["median_ms"] / 1000.0, 9) for r in rows}
        ratios = [r["p90_ms"] / r["median_ms"] for r in rows if r["median_ms"] > 0]
        power = {}
        for b in (1, 8, 32):
            entry = data["power"].get(f"{model}/{json_part}/{prec}/b{b}")
            if entry:
                power[b] = round(entry["mean_w"], 3)
        name = f"{model}/{part_name(json_part)}"
        parts[name] = {
            "precision": precision,
            "batch_s": batch_s,
            "p90_over_median": round(max(1.0, statistics.median(ratios)), 4),
            "power_w": power,
            "provenance": "measured",
            "source": SOURCE + f"; whole_vs_batch['{key}'], power['{model}/{json_part}/{prec}/b*']",
        }
        if json_part == "full":
            fits.append(fit_hinge(list(batch_s), list(batch_s.values())))
    block_times = {}
    for key, rows in data["per_block_batch1"].items():
        model, prec = key.split("/")
        if prec == precision:
            block_times[model] = {r["block"]: round(r["median_ms"] / 1000.0, 9) for r in rows}
    # Fallback cost model from the full-model fits: median launch-bound time, and the
    # throughput implied by ResNet-152's slope above the knee (11.51 GMAC per image,
    # torchvision's published GFLOPS).
    fixed = statistics.median(f.fixed_s for f in fits)
    r152 = fit_hinge(
        *zip(
            *[
                (int(r["batch"]), r["median_ms"] / 1000)
                for r in data["whole_vs_batch"][f"resnet152/full/{precision}"]
            ],
            strict=True,
        )
    )
    macs_per_s = 11.51e9 / r152.per_item_s
    all_power = [p for part in parts.values() for p in part["power_w"].values()]
    profile = {
        "schema": "server-profile/1",
        "name": f"h100_eager_pytorch{'' if precision == 'fp32' else '_' + precision}",
        "display_name": f"NVIDIA H100 80GB, PyTorch eager {precision.upper()} (no TensorRT)",
        "idle_w": {
            "value": round(data["idle_w"], 3),
            "provenance": "measured",
            "source": SOURCE + "; idle_w",
        },
        "jpeg_decode_s": {
            "value": JPEG_DECODE_S,
            "provenance": "assumed",
            "source": "host-CPU JPEG decode + resize of a 224x224 image; no measurement available",
        },
        "parts": parts,
        "block_times_s": block_times,
        "block_times_provenance": {
            "provenance": "measured",
            "source": SOURCE + "; per_block_batch1",
        },
        "cost_model": {
            "fixed_s": round(fixed, 6),
            "macs_per_s": float(f"{macs_per_s:.4g}"),
            "active_w": round(statistics.median(all_power), 2),
            "provenance": "derived",
            "source": "hinge fits of the full-model curves in this file: median fixed time; "
            "ResNet-152 slope above the knee with 11.51 GMAC/image (torchvision)",
        },
    }
    ServerProfile.model_validate(profile)
    return profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--out", type=Path, default=ROOT / "sim" / "profiles" / "data" / "servers")
    args = parser.parse_args(argv)
    data = json.loads(args.json.read_text())
    args.out.mkdir(parents=True, exist_ok=True)
    for precision in ("fp32", "fp16"):
        profile = build(data, precision)
        path = args.out / f"{profile['name']}.yaml"
        header = f"# Generated by calibration/h100_server_profile.py from {args.json.name}; do not edit by hand.\n"
        path.write_text(header + dump_yaml(profile))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
