"""Device profiles from published whole-model figures (no board, no torch needed).

Writes ``sim/profiles/data/devices/{raspberry_pi4,jetson_nano}.yaml``. Each
model's published (or estimated) whole-model latency is spread over its
natural blocks by MAC share, the guidance of ../shared/reference/devices.md §5
for boards without a per-layer profile. All times are therefore ``derived``;
the calibration scripts replace them with measurements on a real board.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.profiles.registry import load_profile_file, shipped_path  # noqa: E402
from sim.profiles.schema import DeviceProfile, ModelProfile  # noqa: E402
from sim.yamlio import dump_yaml  # noqa: E402

DEV = "../shared/reference/devices.md"
BF = "../shared/reference/bottlefit_paper.md"

# x86 2-vCPU timing check (bottlefit_paper.md §8): whole model and BottleFit head [ms].
X86_MS = {"densenet169": 72.3, "densenet201": 82.2, "resnet152": 153.1}
X86_HEAD_MS = 4.66

DEVICES = {
    "raspberry_pi4": dict(
        display="Raspberry Pi 4 B (4 GB), PyTorch FP32, 4 threads",
        processor="cpu",
        idle=(
            2.65,
            "published",
            f"{DEV} §3.2: DeepEdgeBench idle log with Ethernet, 5.0 V lab supply",
        ),
        compute=(
            6.4,
            "published",
            f"{DEV} §3.2: Pi Dramble, `stress --cpu 4` (all four cores busy, as PyTorch with 4 threads)",
        ),
        # ResNet-50 225.2 ms and ResNet-18 100.3 ms (PyTorch tutorial, devices.md §2.3) are both
        # 18.2 GMAC/s for 4.09 and 1.82 GMAC (torchvision). The RPi4/x86 speed ratio 18.2/75.2
        # (x86 ResNet-152: 11.51 GMAC in 153.1 ms) scales the x86 per-model times of §8.
        macs_per_s=18.2e9,
        cost_source=f"{DEV} §2.3: ResNet-50 225.2 ms and ResNet-18 100.3 ms (PyTorch, 4 threads) = 18.2 GMAC/s",
        scale=lambda x86_ms: x86_ms * 75.2 / 18.2,
        scale_source=f"{BF} §8 x86 per-model times scaled by the RPi4/x86 ResNet throughput ratio 18.2/75.2 GMAC/s",
    ),
    "jetson_nano": dict(
        display="NVIDIA Jetson Nano 4 GB (MAXN), PyTorch FP16 on the GPU",
        processor="gpu",
        idle=(
            1.10,
            "published",
            f"{DEV} §3.1: DeepEdgeBench idle median with Ethernet, HM310P supply",
        ),
        compute=(
            7.2,
            "published",
            f"{DEV} §3.1: 7.08-7.28 W continuous GPU inference (DeepEdgeBench results.py)",
        ),
        # torch2trt PyTorch FP16: ResNet-50 81.7 ms (4.09 GMAC), ResNet-101 141 ms (7.8 GMAC).
        macs_per_s=55e9,
        cost_source=f"{DEV} §2.1: torch2trt PyTorch FP16, ResNet-101 141 ms for 7.8 GMAC = 55 GMAC/s",
        # DenseNet-169 118 ms is published; DenseNet-201 and ResNet-152 scale it (and ResNet-101)
        # with the x86 relative times; the head keeps its x86 share of DenseNet-169.
        whole_ms={
            "densenet169": 118.0,
            "densenet201": 118.0 * 82.2 / 72.3,
            "resnet152": 141.0 * 11.51 / 7.8,
        },
        head_ms=118.0 * X86_HEAD_MS / 72.3,
        scale_source=f"{DEV} §2.1 torch2trt PyTorch FP16 DenseNet-169 118 ms (published); DenseNet-201 by the x86 "
        f"ratio 82.2/72.3 ({BF} §8); ResNet-152 from ResNet-101 141 ms by MACs; head by its x86 share of DenseNet-169",
    ),
}


def spread(model: ModelProfile, whole_s: float) -> dict[str, float]:
    total = model.total_macs
    return {b.name: round(whole_s * b.macs / total, 6) for b in model.blocks}


def build(name: str, spec: dict) -> dict:
    models = {}
    for model_name in X86_MS:
        model = load_profile_file("model", shipped_path("model", model_name))
        assert isinstance(model, ModelProfile)
        if "scale" in spec:
            whole_s = spec["scale"](X86_MS[model_name]) / 1000
            head_s = spec["scale"](X86_HEAD_MS) / 1000
        else:
            whole_s = spec["whole_ms"][model_name] / 1000
            head_s = spec["head_ms"] / 1000
        parts = {
            f"{vname}.encoder": round(head_s * v.encoder.macs / 120_597_504, 6)
            for vname, v in model.variants.items()
            if v.kind == "bottlefit"
        }
        models[model_name] = {
            "provenance": "derived",
            "source": spec["scale_source"] + "; spread over blocks by MAC share (devices.md §5)",
            "blocks_s": spread(model, whole_s),
            "parts_s": parts,
        }
    profile = {
        "schema": "device-profile/1",
        "name": name,
        "display_name": spec["display"],
        "processor": spec["processor"],
        "power": {
            "idle_w": dict(zip(("value", "provenance", "source"), spec["idle"], strict=True)),
            "compute_w": dict(zip(("value", "provenance", "source"), spec["compute"], strict=True)),
        },
        "cost_model": {
            "macs_per_s": spec["macs_per_s"],
            "overhead_per_block_s": 0.0,
            "provenance": "derived",
            "source": spec["cost_source"],
        },
        "jpeg_encode_s": {
            "value": 0.0,
            "provenance": "assumed",
            "source": "the camera pipeline delivers the JPEG (hardware MJPEG); offloading only sends it",
        },
        "models": models,
    }
    DeviceProfile.model_validate(profile)
    return profile


def main() -> int:
    out = ROOT / "sim" / "profiles" / "data" / "devices"
    out.mkdir(parents=True, exist_ok=True)
    for name, spec in DEVICES.items():
        path = out / f"{name}.yaml"
        header = "# Generated by calibration/reference_device_profiles.py from ../shared/reference; do not edit.\n"
        path.write_text(header + dump_yaml(build(name, spec)))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
