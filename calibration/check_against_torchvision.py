"""Check the plain-torch zoo against torchvision, where torchvision is installed.

    python calibration/check_against_torchvision.py [--device cuda] [--out report.json]

torchvision does not import beside this project's torch, so the zoo is written
layer for layer from torchvision's architectures and the tests compare parameter
counts and MACs with torchvision's published figures. On a machine that has
torchvision (a GPU server, a board's own image), this script goes further for
every zoo network that torchvision has: the same parameter names and shapes,
torchvision's (random) weights loaded strictly into the zoo model, and the same
outputs for the same input (fp32, TF32 off, eval mode). Nothing is downloaded.
Exit code 1 if any network differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from calibration.zoo import BUILDERS, build, count_params
from calibration.zoo.densenet import DenseNet, remap_legacy_keys

# Largest |zoo - torchvision| of the logits allowed, relative to the logits' scale: the two
# run the same operations in the same order, so only kernel choices may differ.
REL_TOLERANCE = 1e-4
# torchvision's builders as its pretrained weights configure them (the zoo's configuration):
# GoogLeNet without auxiliary heads, neither with the input re-normalisation of the Google ports.
TORCHVISION_KWARGS = {
    "googlenet": {"aux_logits": False, "transform_input": False, "init_weights": True},
    "inception_v3": {"aux_logits": True, "transform_input": False, "init_weights": True},
}


def compare(name: str, device: torch.device) -> dict:
    """Parameter names, shapes and counts, and outputs of zoo vs torchvision for ``name``."""
    import torchvision

    kwargs = TORCHVISION_KWARGS.get(name, {})
    reference = torchvision.models.get_model(name, weights=None, **kwargs).eval().to(device)
    zoo = build(name).to(device)
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    ours = {k: tuple(v.shape) for k, v in zoo.state_dict().items()}
    result: dict = {
        "params_torchvision": sum(p.numel() for p in reference.parameters()),
        "params_zoo": count_params(zoo),
        "missing_in_zoo": sorted(set(theirs) - set(ours))[:5],
        "extra_in_zoo": sorted(set(ours) - set(theirs))[:5],
        "shape_mismatches": sorted(k for k in set(theirs) & set(ours) if theirs[k] != ours[k])[:5],
    }
    state = reference.state_dict()
    if isinstance(zoo, DenseNet):
        state = remap_legacy_keys(state)
    zoo.load_state_dict(state, strict=True)
    size = 299 if name == "inception_v3" else 224
    x = torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(0)).to(device)
    with torch.inference_mode():
        a, b = reference(x), zoo(x)
    scale = float(a.abs().max())
    result["max_abs_diff"] = float((a - b).abs().max())
    result["logit_scale"] = scale
    result["same"] = (
        result["params_torchvision"] == result["params_zoo"]
        and not (result["missing_in_zoo"] or result["extra_in_zoo"] or result["shape_mismatches"])
        and result["max_abs_diff"] <= REL_TOLERANCE * max(scale, 1.0)
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, help="also write the report here (JSON)")
    args = parser.parse_args(argv)
    try:
        import torchvision
    except ImportError:
        print("torchvision is not importable here: nothing to compare against", file=sys.stderr)
        return 2
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    device = torch.device(args.device)
    report = {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "models": {},
    }
    available = set(torchvision.models.list_models())
    for name in sorted(BUILDERS):
        if name not in available:
            report["models"][name] = {"skipped": "not in this torchvision"}
            continue
        report["models"][name] = row = compare(name, device)
        print(
            f"{name:<20} params {row['params_zoo']:>12,} vs {row['params_torchvision']:>12,}"
            f"  max |diff| {row['max_abs_diff']:.2e} (logits up to {row['logit_scale']:.2e})"
            f"  {'same' if row['same'] else 'DIFFERENT'}"
        )
    if args.out:
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0 if all(r.get("same", True) for r in report["models"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
