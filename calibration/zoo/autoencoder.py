"""The autoencoder baseline ("middle AE") inserted into an unmodified network.

Source: ``yoshitomo-matsubara/head-network-distillation``,
``src/models/autoencoder/middle_ae.py`` ``MiddleAutoencoder``, placed after
``transition2`` (DenseNet, 256 x 14 x 14 input) or ``layer2`` (ResNet-152,
512 x 28 x 28) as in bottlefit_paper.md §3 "Baselines":

* encoder: conv 2x2/1 in->128, BN, ReLU, 128->64, BN, ReLU, 64->32, BN, ReLU,
  32->C, BN(C). Each unpadded 2x2 convolution trims one pixel: 14 -> 10, 28 -> 24.
* decoder: mirror with 2x2/1 transposed convolutions C->32->64->128->in.

The device runs the original blocks through the split point, then the encoder;
the server runs the decoder, then the original remaining blocks.
"""

from __future__ import annotations

import torch
from torch import nn

from calibration.zoo.blocks import Block, Chain, index_of
from calibration.zoo.quant import dequantize_tensor, payload_bytes, quantize_tensor

AE_SPLIT_AFTER = {"densenet169": "transition2", "densenet201": "transition2", "resnet152": "layer2"}
"""Where the BottleFit paper's AE baseline sits (bottlefit_paper.md §3: partition_idx 30 / 15)."""


def ae_encoder(in_channels: int, channels: int) -> nn.Sequential:
    """Four 2x2 stride-1 convolutions in->128->64->32->C with batch norm."""
    return nn.Sequential(
        nn.Conv2d(in_channels, 128, kernel_size=2, stride=1),
        nn.BatchNorm2d(128),
        nn.ReLU(inplace=True),
        nn.Conv2d(128, 64, kernel_size=2, stride=1),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.Conv2d(64, 32, kernel_size=2, stride=1),
        nn.BatchNorm2d(32),
        nn.ReLU(inplace=True),
        nn.Conv2d(32, channels, kernel_size=2, stride=1),
        nn.BatchNorm2d(channels),
    )


def ae_decoder(in_channels: int, channels: int) -> nn.Sequential:
    """Four 2x2 stride-1 transposed convolutions C->32->64->128->in."""
    return nn.Sequential(
        nn.ConvTranspose2d(channels, 32, kernel_size=2, stride=1),
        nn.BatchNorm2d(32),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(32, 64, kernel_size=2, stride=1),
        nn.BatchNorm2d(64),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(64, 128, kernel_size=2, stride=1),
        nn.BatchNorm2d(128),
        nn.ReLU(inplace=True),
        nn.ConvTranspose2d(128, in_channels, kernel_size=2, stride=1),
    )


class AutoencoderSplit(nn.Module):
    """A zoo backbone with a middle autoencoder after block ``split_after``."""

    def __init__(
        self,
        backbone_name: str,
        backbone: nn.Module,
        channels: int,
        split_after: str | None = None,
        quantize: bool = False,
        input_shape: tuple[int, int, int] = (3, 224, 224),
    ) -> None:
        super().__init__()
        if split_after is None:
            if backbone_name not in AE_SPLIT_AFTER:
                raise ValueError(f"no default AE position for '{backbone_name}'; pass split_after")
            split_after = AE_SPLIT_AFTER[backbone_name]
        self.backbone_name = backbone_name
        self.channels = channels
        self.split_after = split_after
        self.quantize = quantize
        blocks = backbone.natural_blocks()
        cut = index_of(blocks, split_after) + 1
        self.front_blocks, self.tail_blocks = blocks[:cut], blocks[cut:]
        self.front, self.tail = Chain(self.front_blocks), Chain(self.tail_blocks)
        in_shape = _out_shape(self.front, input_shape)
        self.split_shape = in_shape
        self.encoder = ae_encoder(in_shape[0], channels)
        self.decoder = ae_decoder(in_shape[0], channels)

    @property
    def variant_name(self) -> str:
        return f"ae_c{self.channels}"

    def head_parts(self) -> list[Block]:
        """Device side: the original blocks through the split point, then the AE encoder."""
        return [*self.front_blocks, Block(f"{self.variant_name}.encoder", self.encoder)]

    def server_parts(self) -> list[Block]:
        """Server side: the AE decoder, then the original remaining blocks."""
        return [Block(f"{self.variant_name}.decoder", self.decoder), *self.tail_blocks]

    def bottleneck_shape(self) -> tuple[int, int, int]:
        """Encoder output shape without the batch dimension: C x (H-4) x (W-4)."""
        _, h, w = self.split_shape
        return (self.channels, h - 4, w - 4)

    def payload_bytes(self) -> int:
        """Bytes sent per image, assuming BottleFit's 8-bit quantisation of the code [bytes]."""
        return payload_bytes(self.bottleneck_shape(), "uint8")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = self.encoder(self.front(x))
        if self.quantize:
            z = dequantize_tensor(quantize_tensor(z))
        return self.tail(self.decoder(z))


def _out_shape(module: nn.Module, input_shape: tuple[int, int, int]) -> tuple[int, int, int]:
    """Output shape of ``module`` without the batch dimension, traced on the meta device."""
    was_training = module.training
    module.eval()
    with torch.no_grad():
        probe = torch.empty((1, *input_shape), device="meta")
        shape = tuple(_meta_forward(module, probe).shape[1:])
    module.train(was_training)
    assert len(shape) == 3
    return shape  # type: ignore[return-value]


def _meta_forward(module: nn.Module, probe: torch.Tensor) -> torch.Tensor:
    """Run ``module`` on a meta tensor; parameters on another device are swapped for meta copies."""
    from torch.func import functional_call

    params = {k: torch.empty_like(v, device="meta") for k, v in module.state_dict().items()}
    return functional_call(module, params, (probe,))
