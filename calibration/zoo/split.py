"""Vanilla split (no bottleneck) after any natural block, with fp32 / fp16 / uint8 payloads."""

from __future__ import annotations

import torch
from torch import nn

from calibration.zoo.blocks import Block, Chain, index_of
from calibration.zoo.quant import DTYPE_BYTES, decode_payload, encode_payload


class VanillaSplit(nn.Module):
    """Run blocks ``0..k`` on the device, send block ``k``'s output as ``dtype``, run the rest.

    The last block cannot be a split point (nothing would be left for the server).
    """

    def __init__(self, backbone: nn.Module, after: str, dtype: str = "fp32") -> None:
        super().__init__()
        if dtype not in DTYPE_BYTES:
            raise ValueError(f"dtype '{dtype}' is not one of {', '.join(DTYPE_BYTES)}")
        blocks = backbone.natural_blocks()
        cut = index_of(blocks, after) + 1
        if cut >= len(blocks):
            raise ValueError(f"cannot split after the last block '{after}'")
        self.after, self.dtype = after, dtype
        self.head_blocks, self.tail_blocks = blocks[:cut], blocks[cut:]
        self.head, self.tail = Chain(self.head_blocks), Chain(self.tail_blocks)

    def head_parts(self) -> list[Block]:
        return list(self.head_blocks)

    def server_parts(self) -> list[Block]:
        return list(self.tail_blocks)

    def forward_with_payload(self, x: torch.Tensor) -> tuple[torch.Tensor, int]:
        """Logits and the payload size of the whole batch [bytes]."""
        payload, nbytes = encode_payload(self.head(x), self.dtype)
        return self.tail(decode_payload(payload)), nbytes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_payload(x)[0]
