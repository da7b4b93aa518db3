"""Model profiles from the reference figures (no torch needed).

Writes ``sim/profiles/data/models/{densenet169,densenet201,resnet152}.yaml``
from the per-block cumulative MACs and tensor shapes of
``../shared/reference/bottlefit_paper.md`` §7 and the BottleFit ver-2 head and
decoder sizes of §2.1. Used until the zoo-based builder
(``calibration/build_model_profiles.py``) regenerates them with exact counts.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.profiles.schema import QUANT_OVERHEAD_BYTES, ModelProfile  # noqa: E402
from sim.yamlio import dump_yaml  # noqa: E402

REF = "../shared/reference/bottlefit_paper.md"
TV = "torchvision model page (IMAGENET1K_V1 weights), via bottlefit_paper.md §2"

# (block, cumulative MACs [M], output shape), bottlefit_paper.md §7 [COMPUTED].
DENSE_COMMON = [
    ("stem", 118, (64, 56, 56)),
    ("denseblock1", 1158, (256, 56, 56)),
    ("transition1", 1261, (128, 28, 28)),
    ("denseblock2", 1974, (512, 28, 28)),
    ("transition2", 2077, (256, 14, 14)),
]
MODELS = {
    "densenet169": dict(
        display="DenseNet-169",
        params=14_149_480,
        top1=0.75600,
        blocks=[
            *DENSE_COMMON,
            ("denseblock3", 2912, (1280, 14, 14)),
            ("transition3", 3072, (640, 7, 7)),
            ("denseblock4", 3358, (1664, 7, 7)),
            ("classifier", 3360, (1000,)),
        ],
        replaces="transition2",
        decoder_macs_c12=1927.6e6,
        decoder_params_c12=2_120_000,
    ),
    "densenet201": dict(
        display="DenseNet-201",
        params=20_013_928,
        top1=0.76896,
        blocks=[
            *DENSE_COMMON,
            ("denseblock3", 3638, (1792, 14, 14)),
            ("transition3", 3952, (896, 7, 7)),
            ("denseblock4", 4289, (1920, 7, 7)),
            ("classifier", 4291, (1000,)),
        ],
        replaces="transition2",
        decoder_macs_c12=1927.6e6,
        decoder_params_c12=2_120_000,
    ),
    "resnet152": dict(
        display="ResNet-152",
        params=60_192_808,
        top1=0.78312,
        blocks=[
            ("stem", 118, (64, 56, 56)),
            ("layer1", 786, (256, 56, 56)),
            ("layer2", 2687, (512, 28, 28)),
            ("layer3", 10702, (1024, 14, 14)),
            ("layer4", 11512, (2048, 7, 7)),
            ("classifier", 11514, (1000,)),
        ],
        replaces="layer2",
        decoder_macs_c12=2855.4e6,
        decoder_params_c12=3_170_000,
    ),
}
# Top-1 loss of BottleFit relative to the original, per bottleneck channel count.
# Only C = 12 is anchored: "up to 0.6 % accuracy loss" at 77.1 % compression (abstract).
# Smaller C are ASSUMED to lose more (no per-C table is available); override per scenario.
ASSUMED_LOSS = {1: 0.060, 2: 0.040, 3: 0.030, 6: 0.016, 9: 0.010, 12: 0.006}


def bottlefit_variant(spec: dict, channels: int, model: str) -> dict:
    # Head: conv7x7 3->64 (stride 2) = 118,013,952 MACs and 9,408 params, two BN(64) = 256
    # params, then the 2x2 stride-2 bottleneck conv 64->C on a 29x29 output: 215,296 MACs
    # and 256 params per channel (bottlefit_paper.md §2, §2.1 [COMPUTED]).
    enc_macs = 118_013_952 + 215_296 * channels
    enc_params = 9_664 + 256 * channels
    # Decoder's first conv is C->512, 2x2, on a 30x30 output: 1,843,200 MACs and
    # 2,048 params (+2 BN) per channel; the §2.1 figures are for C = 12.
    dec_macs = spec["decoder_macs_c12"] + 1_843_200 * (channels - 12)
    dec_params = spec["decoder_params_c12"] + 2_050 * (channels - 12)
    loss = ASSUMED_LOSS[channels]
    anchored = channels == 12
    return {
        "kind": "bottlefit",
        "channels": channels,
        "replaces_through": spec["replaces"],
        "encoder": {"macs": float(enc_macs), "params": enc_params},
        "decoder": {"macs": float(dec_macs), "params": dec_params},
        "out_shape": [channels, 29, 29],
        "payload_bytes": channels * 29 * 29 + QUANT_OVERHEAD_BYTES,
        "accuracy_top1": {
            "value": round(spec["top1"] - loss, 5),
            "provenance": "published" if anchored else "assumed",
            "source": (
                "BottleFit abstract: up to 0.6 % top-1 loss at C = 12 (bottlefit_paper.md §1, §4)"
                if anchored
                else f"ASSUMED {loss * 100:.1f} % loss at C = {channels}: no per-C accuracy is published "
                "(bottlefit_paper.md §6); override in the scenario"
            ),
        },
        "provenance": "derived",
        "source": f"{REF} §2 (ver-2 head/decoder) and §2.1; payload = C*29*29 uint8 + 8 B scale/zero point",
    }


def build(name: str, spec: dict) -> dict:
    blocks = []
    previous = 0
    for block, cum, shape in spec["blocks"]:
        blocks.append(
            {"name": block, "macs": float((cum - previous) * 1e6), "out_shape": list(shape)}
        )
        previous = cum
    profile = {
        "schema": "model-profile/1",
        "name": name,
        "display_name": spec["display"],
        "input_shape": [3, 224, 224],
        "jpeg_bytes": {
            "value": 44_770,
            "provenance": "published",
            "source": "Matsubara et al., split-computing survey (ACM CSUR, arXiv 2103.04505) Table 2: "
            "44.77 KB per ImageNet JPEG sample",
        },
        "accuracy_top1": {"value": spec["top1"], "provenance": "published", "source": TV},
        "params": spec["params"],
        "blocks_provenance": {
            "provenance": "derived",
            "source": f"{REF} §7: cumulative MACs per natural block (rounded to 1 M) and output shapes",
        },
        "blocks": blocks,
        "variants": {
            f"bottlefit_c{c}": bottlefit_variant(spec, c, name) for c in sorted(ASSUMED_LOSS)
        },
    }
    ModelProfile.model_validate(profile)
    return profile


def main() -> int:
    out = ROOT / "sim" / "profiles" / "data" / "models"
    out.mkdir(parents=True, exist_ok=True)
    for name, spec in MODELS.items():
        path = out / f"{name}.yaml"
        header = "# Generated by calibration/reference_model_profiles.py from ../shared/reference; do not edit.\n"
        path.write_text(header + dump_yaml(build(name, spec)))
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
