"""Build, on the host, the bundle a board times: TorchScript and ONNX modules plus a manifest.

    python calibration/board_bundle.py --model densenet201 --variant bottlefit --channels 12 \\
        --out bundles/densenet201_bottlefit_c12

The bundle holds every natural block of the model, each variant's device part
(encoder) and server part (decoder, for BottleFit and the autoencoder; the
tail is the original blocks), as TorchScript traced from :mod:`calibration.zoo`
(``torchscript/``; torch >= 1.10 loads it, no model code needed on the board)
and as ONNX opset 13 (``onnx/``: also the whole model, and each encoder with
the 8-bit quantiser, for onnxruntime; TensorRT 8.2 reads them), a copy of
``board_runner.py``, and ``manifest.json``: what to time, in which order, with
the MACs, parameters, shapes and payload sizes computed here (the board needs
none of that code). The options mirror calibration/profile_model.py's.
Copy the folder to the board and run ``python3 board_runner.py . --out raw.json``
inside it (docs/calibrate_a_board.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shlex
import shutil
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from calibration.board_export import (  # noqa: E402
    ONNX_OPSET,
    QuantizeU8,
    export_onnx,
    onnx_matches_torch,
    trace_torchscript,
)
from calibration.board_runner import BUNDLE_FORMAT  # noqa: E402
from calibration.model_profile import INPUT_SHAPE, block_table, macs_and_shape  # noqa: E402
from calibration.zoo import (  # noqa: E402
    AE_SPLIT_AFTER,
    REPLACES_THROUGH,
    SPLIT_MODELS,
    Chain,
    build,
    build_variant,
    count_params,
    load_torchvision_checkpoint,
    payload_bytes,
)
from calibration.zoo.quant import DTYPE_BYTES  # noqa: E402

RUNNER = Path(__file__).with_name("board_runner.py")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument("--model", required=True, choices=SPLIT_MODELS)
    p.add_argument(
        "--variant", default="none", choices=["none", "bottlefit", "autoencoder", "split"]
    )
    p.add_argument("--channels", default="12", help="bottleneck channels, e.g. 12 or 1,2,3,6,9,12")
    p.add_argument(
        "--split-after", default="", help="vanilla split point(s): block names, comma-separated"
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="bundle folder to create (must not exist, or be empty)",
    )
    p.add_argument(
        "--no-torchscript", action="store_true", help="ONNX only (onnxruntime / TensorRT boards)"
    )
    p.add_argument("--no-onnx", action="store_true", help="TorchScript only (torch boards)")
    p.add_argument(
        "--opset",
        type=int,
        default=ONNX_OPSET,
        help=f"ONNX opset (default {ONNX_OPSET}: TensorRT 8.2)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="validate every ONNX file (onnx.checker) and compare onnxruntime with torch",
    )
    p.add_argument(
        "--checkpoint", type=Path, help="torchvision .pth file to load into the backbone (optional)"
    )
    return p


class BundleWriter:
    """Collects the modules of one bundle and writes them in the requested formats."""

    def __init__(
        self, out: Path, *, torchscript: bool, onnx: bool, opset: int, check: bool
    ) -> None:
        self.out, self.torchscript, self.onnx, self.opset, self.check = (
            out,
            torchscript,
            onnx,
            opset,
            check,
        )
        self.modules: dict[str, dict[str, Any]] = {}
        self.checks: dict[str, dict[str, float]] = {}

    def add(
        self,
        name: str,
        module: nn.Module,
        in_shape: tuple[int, ...],
        *,
        torchscript: bool = True,
        onnx: bool = True,
    ) -> None:
        """Write ``module`` (input ``in_shape`` without batch) as ``name`` in the bundle's formats."""
        entry: dict[str, Any] = {"in_shape": list(in_shape)}
        if self.torchscript and torchscript:
            rel = Path("torchscript") / f"{name}.pt"
            trace_torchscript(module, in_shape, self.out / rel)
            entry["torchscript"] = rel.as_posix()
        if self.onnx and onnx:
            rel = Path("onnx") / f"{name}.onnx"
            export_onnx(module, in_shape, self.out / rel, self.opset)
            entry["onnx"] = rel.as_posix()
            if self.check:
                self.checks[name] = onnx_matches_torch(module, self.out / rel, in_shape)
        self.modules[name] = entry


def out_shape(module: nn.Module, in_shape: tuple[int, ...]) -> tuple[int, ...]:
    with torch.no_grad():
        return tuple(int(d) for d in module.eval()(torch.zeros((1, *in_shape))).shape[1:])


def make_bundle(args: argparse.Namespace, command: str | None = None) -> dict[str, Any]:
    """Write the bundle under ``args.out``; returns the manifest."""
    from calibration.profile_model import variant_macs

    model = args.model
    channels = (
        [int(c) for c in args.channels.split(",") if c.strip()]
        if args.variant in ("bottlefit", "autoencoder")
        else []
    )
    split_after = [s for s in args.split_after.split(",") if s] if args.variant == "split" else []
    if args.variant == "split" and not split_after:
        raise SystemExit("--variant split needs --split-after BLOCK[,BLOCK...]")
    positions = REPLACES_THROUGH if args.variant == "bottlefit" else AE_SPLIT_AFTER
    if args.variant in ("bottlefit", "autoencoder") and model not in positions:
        raise SystemExit(f"--variant {args.variant} exists for {', '.join(positions)}, not {model}")
    if args.no_torchscript and args.no_onnx:
        raise SystemExit("--no-torchscript and --no-onnx leave nothing to write")
    out: Path = args.out
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out}: exists and is not empty; choose a new folder")
    torch.manual_seed(0)
    net = build(model)
    if args.checkpoint:
        load_torchvision_checkpoint(net, args.checkpoint)
    net.eval()
    writer = BundleWriter(
        out,
        torchscript=not args.no_torchscript,
        onnx=not args.no_onnx,
        opset=args.opset,
        check=args.check,
    )
    table = {row["name"]: row for row in block_table(model)}
    blocks, shape = [], tuple(INPUT_SHAPE)
    for block in net.natural_blocks():
        writer.add(f"block.{block.name}", block.module, shape)
        shape = out_shape(block.module, shape)
        ref = table[block.name]
        blocks.append(
            {
                "name": block.name,
                "module": f"block.{block.name}",
                "macs": ref["macs"],
                "params": ref["params"],
                "out_shape": list(shape),
                "out_bytes": {d: payload_bytes(shape, d) for d in DTYPE_BYTES},
            }
        )
    writer.add("full", net, tuple(INPUT_SHAPE), torchscript=False)  # ONNX runtimes time it whole
    full = {
        "macs": sum(float(r["macs"]) for r in table.values()),
        "params": count_params(net),  # type: ignore[arg-type]
        "chain": [b["module"] for b in blocks],
        "module": "full",
    }
    parts: dict[str, Any] = {}
    names = [b.name for b in net.natural_blocks()]
    for c in channels:
        variant = build_variant(model, net, args.variant, channels=c).eval()
        name = f"bottlefit_c{c}" if args.variant == "bottlefit" else f"ae_c{c}"
        enc_in = tuple(INPUT_SHAPE) if args.variant == "bottlefit" else tuple(variant.split_shape)
        writer.add(f"{name}.encoder", variant.encoder, enc_in)
        writer.add(
            f"{name}.encoder_quant",
            nn.Sequential(variant.encoder, QuantizeU8()),
            enc_in,
            torchscript=False,
        )
        code_shape = out_shape(variant.encoder, enc_in)
        writer.add(f"{name}.decoder", variant.decoder, code_shape)
        replaces = variant.replaces_through if args.variant == "bottlefit" else variant.split_after
        tail = [f"block.{n}" for n in names[names.index(replaces) + 1 :]]
        enc_macs, server_macs = variant_macs(model, args.variant, c)
        server = Chain(variant.server_parts())
        parts[name] = {
            "kind": args.variant,
            "channels": c,
            "replaces_through": replaces,
            "head": {
                "module": f"{name}.encoder",
                "in_shape": list(enc_in),
                "macs": enc_macs,
                "params": count_params(variant.encoder),
                "out_shape": list(code_shape),
                "payload_bytes": payload_bytes(code_shape, "uint8"),
            },
            "server": {
                "chain": [f"{name}.decoder", *tail],
                "macs": server_macs,
                "params": count_params(server),
                "in_shape": list(code_shape),
            },
        }
    for block_name in split_after:
        split = build_variant(model, net, "split", split_after=block_name)
        in_shape = tuple(blocks[names.index(block_name)]["out_shape"])
        macs, _ = macs_and_shape(split.tail.eval(), in_shape)
        parts[f"tail_after_{block_name}"] = {
            "kind": "split",
            "split_after": block_name,
            "in_shape": list(in_shape),
            "payload_bytes": {d: payload_bytes(in_shape, d) for d in DTYPE_BYTES},
            "server": {
                "chain": [f"block.{n}" for n in names[names.index(block_name) + 1 :]],
                "macs": macs,
                "params": count_params(split.tail),
                "in_shape": list(in_shape),
            },
        }
    manifest = {
        "format": BUNDLE_FORMAT,
        "model": model,
        "variant": args.variant,
        "channels": channels,
        "split_after": split_after,
        "input_shape": list(INPUT_SHAPE),
        "onnx_opset": None if args.no_onnx else args.opset,
        "created": {
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "torch": torch.__version__,
            "command": command or shlex.join(["calibration/board_bundle.py", *sys.argv[1:]]),
            "weights": str(args.checkpoint) if args.checkpoint else "random (seed 0): timing only",
        },
        "modules": writer.modules,
        "blocks": blocks,
        "full": full,
        "parts": parts,
    }
    if writer.checks:
        manifest["onnx_checks"] = writer.checks
    shutil.copy2(RUNNER, out / RUNNER.name)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    manifest = make_bundle(args, shlex.join(["calibration/board_bundle.py", *argv]))
    files = [p for p in args.out.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    print(
        f"wrote {args.out}: {len(manifest['modules'])} modules, {len(files)} files, {size / 1e6:.1f} MB"
    )
    for name, check in manifest.get("onnx_checks", {}).items():
        print(
            f"  {name:<34} onnx.checker ok, onnxruntime vs torch: max |diff| {check['max_abs_diff']:.2e} "
            f"(output scale {check['output_scale']:.3g})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
