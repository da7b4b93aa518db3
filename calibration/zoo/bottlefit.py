"""BottleFit ver-2: an on-device encoder, a server-side decoder and the unchanged tail.

Architecture from the official code (bottlefit_paper.md §2; repo
``yoshitomo-matsubara/bottlefit-split_computing``, ``custom/model.py``
``Bottleneck4ResNet152`` with ``bottleneck_ver='2'``, ``bottleneck_idx=7``, and the
DenseNet decoder of ``kdkit/.../densenet.py`` @91e717d as summarised in §2):

* encoder (device): conv 7x7/2 3->64, BN, ReLU, max-pool 3x3/2, BN, ReLU,
  conv 2x2/2 pad 1 64->C. Output C x 29 x 29 for a 224 x 224 input.
* decoder (server): BN(C), ReLU, conv 2x2 pad 1 C->512, BN, ReLU, conv 2x2 pad 1
  512->512, BN, ReLU, then
  DenseNet: conv 2x2 512->256, BN, ReLU, conv 2x2 256->256, BN, ReLU, conv 2x2
  256->256, avg-pool 2/2 -> 256 x 14 x 14 (stands in for ``stem..transition2``);
  ResNet-152: conv 2x2 512->512, BN, ReLU, conv 2x2 512->512, avg-pool 2/1 ->
  512 x 28 x 28 (stands in for ``stem..layer2``).
* tail: the original blocks after ``transition2`` / ``layer2``.

With ``quantize=True`` the 8-bit quantiser/dequantiser of :mod:`calibration.zoo.quant`
sits between encoder and decoder, as in the ``-bq`` configs.
"""

from __future__ import annotations

import torch
from torch import nn

from calibration.zoo.blocks import Block, Chain, index_of
from calibration.zoo.quant import dequantize_tensor, payload_bytes, quantize_tensor

MIN_CHANNELS, MAX_CHANNELS = 1, 24
"""Bottleneck channel counts the zoo builds (the configs use 1..12 for ver 2, up to 24 for ver 3)."""

REPLACES_THROUGH = {
    "densenet169": "transition2",
    "densenet201": "transition2",
    "resnet152": "layer2",
}
"""Last original block the encoder + decoder stand in for (bottlefit_paper.md §2)."""


def _conv2x2(in_ch: int, out_ch: int, stride: int = 1, padding: int = 0) -> nn.Conv2d:
    return nn.Conv2d(in_ch, out_ch, kernel_size=2, stride=stride, padding=padding, bias=False)


def bottlefit_encoder(channels: int) -> nn.Sequential:
    """The on-device head: 3 x 224 x 224 -> C x 29 x 29; 9,664 + 256 C parameters."""
    _check_channels(channels)
    return nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2, padding=1),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        _conv2x2(64, channels, stride=2, padding=1),
    )


def bottlefit_decoder(backbone: str, channels: int) -> nn.Sequential:
    """The server-side decoder for ``backbone``: C x 29 x 29 -> the tensor the tail expects."""
    _check_channels(channels)
    common: list[nn.Module] = [
        nn.BatchNorm2d(channels),
        nn.ReLU(inplace=True),
        _conv2x2(channels, 512, padding=1),
        nn.BatchNorm2d(512),
        nn.ReLU(inplace=True),
        _conv2x2(512, 512, padding=1),
        nn.BatchNorm2d(512),
        nn.ReLU(inplace=True),
    ]
    if backbone.startswith("densenet"):
        rest: list[nn.Module] = [
            _conv2x2(512, 256),
            nn.BatchNorm2d(256),
            nn.ReLU(inplace=True),
            _conv2x2(256, 256),
            nn.BatchNorm2d(256),
            nn.ReLU(inplace=True),
            _conv2x2(256, 256),
            nn.AvgPool2d(kernel_size=2, stride=2),
        ]
    elif backbone == "resnet152":
        rest = [
            _conv2x2(512, 512),
            nn.BatchNorm2d(512),
            nn.ReLU(inplace=True),
            _conv2x2(512, 512),
            nn.AvgPool2d(kernel_size=2, stride=1),
        ]
    else:
        raise ValueError(
            f"BottleFit ver 2 exists for {', '.join(REPLACES_THROUGH)}, not '{backbone}'"
        )
    return nn.Sequential(*common, *rest)


def _check_channels(channels: int) -> None:
    if not MIN_CHANNELS <= channels <= MAX_CHANNELS:
        raise ValueError(
            f"bottleneck channels must be in {MIN_CHANNELS}..{MAX_CHANNELS}, got {channels}"
        )


class BottleFit(nn.Module):
    """A BottleFit model built around a zoo backbone (whose tail blocks it shares).

    ``head`` runs on the device; ``server`` (decoder + tail) on the edge server.
    """

    def __init__(
        self, backbone_name: str, backbone: nn.Module, channels: int, quantize: bool = False
    ) -> None:
        super().__init__()
        if backbone_name not in REPLACES_THROUGH:
            raise ValueError(
                f"BottleFit ver 2 exists for {', '.join(REPLACES_THROUGH)}, not '{backbone_name}'"
            )
        self.backbone_name = backbone_name
        self.channels = channels
        self.quantize = quantize
        self.replaces_through = REPLACES_THROUGH[backbone_name]
        self.encoder = bottlefit_encoder(channels)
        self.decoder = bottlefit_decoder(backbone_name, channels)
        blocks = backbone.natural_blocks()
        self.tail_blocks = blocks[index_of(blocks, self.replaces_through) + 1 :]
        self.tail = Chain(self.tail_blocks)

    def head_parts(self) -> list[Block]:
        """Device side as blocks: just the encoder."""
        return [Block(f"bottlefit_c{self.channels}.encoder", self.encoder)]

    def server_parts(self) -> list[Block]:
        """Server side as blocks: the decoder, then the original tail blocks."""
        return [Block(f"bottlefit_c{self.channels}.decoder", self.decoder), *self.tail_blocks]

    def payload_bytes(self, input_hw: tuple[int, int] = (224, 224)) -> int:
        """Bytes sent per image with 8-bit quantisation [bytes]: C*29*29 + 8 at 224 x 224."""
        return payload_bytes(self.bottleneck_shape(input_hw), "uint8")

    def bottleneck_shape(self, input_hw: tuple[int, int] = (224, 224)) -> tuple[int, int, int]:
        """Encoder output shape without the batch dimension, from the layer arithmetic."""
        h, w = input_hw
        for _ in range(2):  # conv 7x7/2 pad 3, max-pool 3x3/2 pad 1
            h, w = (h - 1) // 2 + 1, (w - 1) // 2 + 1
        h, w = h // 2 + 1, w // 2 + 1  # conv 2x2/2 pad 1
        return (self.channels, h, w)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(x)
        if self.quantize:
            z = dequantize_tensor(quantize_tensor(z))
        return self.tail(self.decoder(z))
