"""Operator-level work of a network: MACs by layer kind, bytes moved, kernel count.

Runs the network once under a ``TorchDispatchMode`` (normally on the ``meta``
device, so nothing is computed) and records every ATen operator that does
work. The cost model (:mod:`calibration.cost_model`) turns these counts into a
time. MACs come from torch's own formulas (``torch.utils.flop_counter``,
FLOPs / 2); bytes are the sizes of every tensor an operator reads or writes
(a DRAM-traffic upper bound that ignores caches); views and allocations are
not operators here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten
from torch.utils.flop_counter import flop_registry

KINDS = ("conv", "gconv", "matmul")
"""Layer kinds with MACs: dense convolution (groups = 1, incl. transposed), grouped or
depthwise convolution, matrix multiply (linear layers)."""

_CONV_OPS = {
    "aten::convolution",
    "aten::_convolution",
    "aten::convolution_overrideable",
    "aten::cudnn_convolution",
    "aten::_slow_conv2d_forward",
    "aten::mkldnn_convolution",
}
_MATMUL_OPS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::baddbmm"}
_FREE_OPS = {
    "aten::empty",
    "aten::empty_strided",
    "aten::empty_like",
    "aten::detach",
    "aten::lift_fresh",
    "aten::_to_copy",
    "aten::clone",
}


@dataclass
class OpWork:
    """Work of a network or part: MACs per kind, bytes moved [bytes], operators (kernels) run."""

    macs: dict[str, float] = field(default_factory=lambda: dict.fromkeys(KINDS, 0.0))
    bytes_moved: float = 0.0
    n_ops: int = 0

    @property
    def total_macs(self) -> float:
        return float(sum(self.macs.values()))

    def __add__(self, other: OpWork) -> OpWork:
        return OpWork(
            {k: self.macs[k] + other.macs[k] for k in KINDS},
            self.bytes_moved + other.bytes_moved,
            self.n_ops + other.n_ops,
        )

    def as_dict(self) -> dict[str, float]:
        return {
            **{f"macs_{k}": v for k, v in self.macs.items()},
            "bytes": self.bytes_moved,
            "n_ops": float(self.n_ops),
        }


def _tensor_bytes(values: object) -> int:
    leaves, _ = tree_flatten(values)
    return sum(t.numel() * t.element_size() for t in leaves if isinstance(t, torch.Tensor))


def _is_view(func: torch._ops.OpOverload) -> bool:
    """True for operators whose outputs alias an input without writing it (view, t, reshape ...)."""
    return any(r.alias_info is not None and not r.alias_info.is_write for r in func._schema.returns)


class _Recorder(TorchDispatchMode):
    def __init__(self, bytes_per_element: int | None) -> None:
        super().__init__()
        self.work = OpWork()
        self.bytes_per_element = bytes_per_element

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = func._schema.name
        if name in _FREE_OPS or _is_view(func):
            return out
        moved = _tensor_bytes((args, kwargs)) + _tensor_bytes(out)
        if self.bytes_per_element is not None:
            moved = (
                moved // 4 * self.bytes_per_element
            )  # re-express fp32 tensors at the target width
        self.work.bytes_moved += moved
        self.work.n_ops += 1
        packet = func._overloadpacket
        if packet in flop_registry:
            macs = flop_registry[packet](*args, **kwargs, out_val=out) / 2
            if name in _CONV_OPS:
                groups = args[8] if len(args) > 8 else kwargs.get("groups", 1)
                self.work.macs["gconv" if groups != 1 else "conv"] += macs
            elif name in _MATMUL_OPS:
                self.work.macs["matmul"] += macs
        return out


def op_work(
    module: nn.Module,
    input_shape: Sequence[int],
    *,
    bytes_per_element: int | None = None,
    device: str = "meta",
) -> OpWork:
    """Operator work of one forward pass of ``module`` on a batch-1 input of ``input_shape``.

    ``module`` must live on ``device`` (build zoo models with ``device="meta"``).
    ``bytes_per_element`` re-expresses bytes at another precision (2 for fp16).
    """
    recorder = _Recorder(bytes_per_element)
    x = torch.empty((1, *input_shape), device=device)
    with torch.no_grad(), recorder:
        module(x)
    return recorder.work


def blocks_work(
    blocks: Sequence[tuple[str, nn.Module]],
    input_shape: Sequence[int],
    *,
    bytes_per_element: int | None = None,
) -> list[tuple[str, OpWork, tuple[int, ...]]]:
    """(name, work, output shape) of each block applied in turn, on the meta device."""
    out: list[tuple[str, OpWork, tuple[int, ...]]] = []
    x = torch.empty((1, *input_shape), device="meta")
    for name, module in blocks:
        recorder = _Recorder(bytes_per_element)
        with torch.no_grad(), recorder:
            x = module(x)
        out.append((name, recorder.work, tuple(x.shape[1:])))
    return out
