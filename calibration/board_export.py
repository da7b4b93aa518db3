"""Export zoo modules for a board: TorchScript (torch >= 1.10 loads it) and ONNX (TensorRT 8.2, onnxruntime).

TorchScript is traced on the host from the zoo; the archive's format version
(3 for these convolutional networks) is one that torch 1.10 reads (checked
here with torch 1.10.2 on Python 3.6, see docs/calibrate_a_board.md). ONNX uses
opset 13, which TensorRT 8.2 (JetPack 4.6) parses, with a dynamic batch axis;
the input is called ``input`` and the output ``output``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

ONNX_OPSET = 13
"""ONNX opset of the exported files: TensorRT 8.2's ONNX parser supports opsets 7 to 13."""
INPUT_NAME, OUTPUT_NAME = "input", "output"


class QuantizeU8(nn.Module):
    """calibration/zoo/quant.py ``quantize_tensor`` in tensor operations only (exportable to ONNX).

    Same arithmetic: scale = (max - min) / 255 (a constant tensor is coded as 0 or
    255 exactly), zero point = the integer part of -min/scale clamped to [0, 255],
    code = round(clamp(zero point + x / scale, 0, 255)) as uint8. Scale is computed
    in float32 here and in float64 there, so a code can differ by one where
    zero point + x / scale falls within float32 rounding of a half-integer.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        min_val, max_val = x.min(), x.max()
        scale = (max_val - min_val) / 255.0
        fallback = torch.where(min_val != 0, min_val.abs() / 255.0, torch.ones_like(scale))
        scale = torch.where(scale == 0, fallback, scale)
        zero_point = torch.clamp(-min_val / scale, 0.0, 255.0).floor()  # int() of a value >= 0
        return torch.clamp(zero_point + x / scale, 0.0, 255.0).round().to(torch.uint8)


def trace_torchscript(module: nn.Module, in_shape: tuple[int, ...], path: Path) -> Path:
    """Trace ``module`` at batch 1 and save it; the traced graph takes any batch size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.randn((1, *in_shape))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            traced = torch.jit.trace(module.eval(), example, check_trace=False, _store_inputs=False)
        except TypeError:  # torch without _store_inputs
            traced = torch.jit.trace(module.eval(), example, check_trace=False)
        torch.jit.save(traced, str(path))  # deprecated in torch 2.x, but what torch 1.10 loads
    return path


def export_onnx(
    module: nn.Module, in_shape: tuple[int, ...], path: Path, opset: int = ONNX_OPSET
) -> Path:
    """Export ``module`` to ONNX with a dynamic batch axis (TorchScript-based exporter)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    example = torch.randn((1, *in_shape))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            module.eval(),
            (example,),
            str(path),
            opset_version=opset,
            dynamo=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            do_constant_folding=True,
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        )
    return path


def onnx_matches_torch(
    module: nn.Module,
    path: Path,
    in_shape: tuple[int, ...],
    *,
    batch: int = 2,
    rel_tol: float = 1e-4,
    seed: int = 0,
) -> dict[str, float]:
    """Validate ``path`` with onnx.checker and compare onnxruntime's output with torch's (fp32).

    Returns the largest absolute difference and the largest absolute torch output;
    raises AssertionError when the difference exceeds ``rel_tol`` times that scale
    (uint8 outputs: when any code differs by more than one).
    """
    import numpy as np
    import onnx
    import onnxruntime

    onnx.checker.check_model(str(path))
    model = onnx.load(str(path))
    opsets = {o.domain or "ai.onnx": o.version for o in model.opset_import}
    x = torch.randn((batch, *in_shape), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        expected = module.eval()(x.clone()).numpy()
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = session.run(None, {INPUT_NAME: x.numpy()})[0]
    if got.shape != expected.shape:
        raise AssertionError(f"{path.name}: onnxruntime shape {got.shape}, torch {expected.shape}")
    diff = np.abs(got.astype(np.float64) - expected.astype(np.float64))
    scale = float(np.abs(expected).max())
    if expected.dtype == np.uint8:
        ok = float(diff.max()) <= 1.0
    else:
        ok = float(diff.max()) <= rel_tol * max(scale, 1e-6)
    if not ok:
        raise AssertionError(
            f"{path.name}: onnxruntime differs from torch by {diff.max():.3g} "
            f"(output scale {scale:.3g}, tolerance {rel_tol:g} relative)"
        )
    return {
        "max_abs_diff": float(diff.max()),
        "output_scale": scale,
        "opset": float(opsets["ai.onnx"]),
    }
