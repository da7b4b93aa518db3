"""Natural split blocks: a network as a sequence of named modules.

Every zoo network exposes ``natural_blocks()``: applying the blocks in turn to
the input gives exactly ``forward``. A split *after* block ``k`` runs blocks
``0..k`` on the device and sends block ``k``'s output.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Block:
    """One natural block: its name (as in the H100 JSON and the model profiles) and module."""

    name: str
    module: nn.Module


def run_blocks(blocks: Sequence[Block], x: torch.Tensor) -> torch.Tensor:
    """Apply ``blocks`` in order to ``x``."""
    for block in blocks:
        x = block.module(x)
    return x


class Chain(nn.Module):
    """Blocks chained into one module (a model part: head, server side, whole network).

    The sub-modules are shared with the network they come from, not copied.
    """

    def __init__(self, blocks: Sequence[Block]) -> None:
        super().__init__()
        self.names = [b.name for b in blocks]
        self.parts = nn.ModuleList([b.module for b in blocks])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for module in self.parts:
            x = module(x)
        return x


def block_names(blocks: Sequence[Block]) -> list[str]:
    """Names of ``blocks`` in order."""
    return [b.name for b in blocks]


def index_of(blocks: Sequence[Block], name: str) -> int:
    """Position of the block called ``name``; a KeyError lists the valid names."""
    for i, block in enumerate(blocks):
        if block.name == name:
            return i
    raise KeyError(f"no block '{name}'; blocks: {', '.join(block_names(blocks))}")


def count_params(module: nn.Module) -> int:
    """Number of parameters (BatchNorm running statistics are buffers, not counted)."""
    return sum(p.numel() for p in module.parameters())
