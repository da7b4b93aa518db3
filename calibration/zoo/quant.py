"""8-bit per-tensor quantisation of a bottleneck tensor, and payload sizes per dtype.

The scheme is torchdistill's ``quantize_tensor`` / ``dequantize_tensor``
(``torchdistill/common/tensor_util.py``), which BottleFit's ``-bq`` configs
insert after the encoder (bottlefit_paper.md §2 "Quantization"): uniform,
asymmetric, per tensor; scale = (max - min) / 255; integer zero point clamped
to [0, 255]. On the wire: the uint8 tensor plus one float32 scale and one
int32 zero point, i.e. ``numel + 8`` bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

DTYPE_BYTES: dict[str, int] = {"fp32": 4, "fp16": 2, "uint8": 1}
"""Bytes per element of each payload dtype (same table as sim.profiles.schema.DTYPE_BYTES)."""

QUANT_OVERHEAD_BYTES = 8
"""float32 scale + int32 zero point sent with a uint8 tensor (sim.profiles.schema.QUANT_OVERHEAD_BYTES)."""


@dataclass(frozen=True)
class QuantizedTensor:
    """A uint8 tensor with its dequantisation parameters: x ~= scale * (q - zero_point)."""

    tensor: torch.Tensor
    scale: float
    zero_point: int

    @property
    def nbytes(self) -> int:
        """Bytes on the wire [bytes]: one byte per element plus scale and zero point."""
        return self.tensor.numel() + QUANT_OVERHEAD_BYTES


def quantize_tensor(x: torch.Tensor, num_bits: int = 8) -> QuantizedTensor:
    """Quantise ``x`` to unsigned ``num_bits`` integers with one scale and zero point for the tensor."""
    if num_bits != 8:
        raise ValueError("only 8-bit quantisation is sent as uint8; use fp16 for 16 bits")
    qmin, qmax = 0.0, 2.0**num_bits - 1.0
    min_val, max_val = float(x.min()), float(x.max())
    scale = (max_val - min_val) / (qmax - qmin)
    if (
        scale == 0.0
    ):  # constant tensor (torchdistill would divide by zero): code it as 0 or 255 exactly
        scale = abs(min_val) / qmax if min_val != 0.0 else 1.0
    initial_zero_point = qmin - min_val / scale
    zero_point = int(min(max(initial_zero_point, qmin), qmax))
    q = (zero_point + x / scale).clamp(qmin, qmax).round().to(torch.uint8)
    return QuantizedTensor(q, scale, zero_point)


def dequantize_tensor(q: QuantizedTensor) -> torch.Tensor:
    """float32 tensor from a :class:`QuantizedTensor`."""
    return q.scale * (q.tensor.float() - q.zero_point)


def payload_bytes(shape: tuple[int, ...] | torch.Size, dtype: str) -> int:
    """Bytes to send one tensor of ``shape`` (no batch dimension) as ``dtype`` [bytes].

    ``uint8`` adds the 8-byte scale and zero point of per-tensor quantisation.
    """
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"dtype '{dtype}' is not one of {', '.join(DTYPE_BYTES)}")
    numel = 1
    for dim in shape:
        numel *= int(dim)
    return numel * DTYPE_BYTES[dtype] + (QUANT_OVERHEAD_BYTES if dtype == "uint8" else 0)


def encode_payload(x: torch.Tensor, dtype: str) -> tuple[object, int]:
    """What a device sends for tensor ``x`` as ``dtype``, and its size [bytes]."""
    if dtype == "fp32":
        t = x.float()
        return t, t.numel() * 4
    if dtype == "fp16":
        t = x.half()
        return t, t.numel() * 2
    if dtype == "uint8":
        q = quantize_tensor(x)
        return q, q.nbytes
    raise ValueError(f"dtype '{dtype}' is not one of {', '.join(DTYPE_BYTES)}")


def decode_payload(payload: object) -> torch.Tensor:
    """float32 tensor back from :func:`encode_payload`'s payload."""
    if isinstance(payload, QuantizedTensor):
        return dequantize_tensor(payload)
    assert isinstance(payload, torch.Tensor)
    return payload.float()
