"""DenseNets in plain torch, layer for layer as torchvision builds them.

Module names equal torchvision's (``features.denseblock1.denselayer1.norm1``),
so a torchvision checkpoint loads with ``load_state_dict``; the old-style
keys of the published ``densenet*-*.pth`` files (``...norm.1.weight``) are
renamed by :func:`remap_legacy_keys`, as torchvision does.
Source: torchvision ``models/densenet.py`` (v0.26), memory-inefficient path
(one concatenation per dense layer), which is what eager inference runs.
"""

from __future__ import annotations

import re
from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from calibration.zoo.blocks import Block

_LEGACY_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


class DenseLayer(nn.Module):
    """BN-ReLU-1x1 conv (bn_size*growth) then BN-ReLU-3x3 conv (growth) on the concatenated inputs."""

    def __init__(self, num_input_features: int, growth_rate: int, bn_size: int) -> None:
        super().__init__()
        self.norm1 = nn.BatchNorm2d(num_input_features)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(num_input_features, bn_size * growth_rate, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth_rate)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth_rate, growth_rate, 3, padding=1, bias=False)

    def forward(self, inputs: list[torch.Tensor]) -> torch.Tensor:
        concated = torch.cat(inputs, 1)
        bottleneck = self.conv1(self.relu1(self.norm1(concated)))
        return self.conv2(self.relu2(self.norm2(bottleneck)))


class DenseBlock(nn.ModuleDict):
    """``num_layers`` dense layers; the output concatenates the input and every layer's output."""

    def __init__(
        self, num_layers: int, num_input_features: int, bn_size: int, growth_rate: int
    ) -> None:
        super().__init__()
        for i in range(num_layers):
            layer = DenseLayer(num_input_features + i * growth_rate, growth_rate, bn_size)
            self.add_module(f"denselayer{i + 1}", layer)

    def forward(self, init_features: torch.Tensor) -> torch.Tensor:
        features = [init_features]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


class Transition(nn.Sequential):
    """BN-ReLU-1x1 conv (halves the channels) then 2x2 average pooling."""

    def __init__(self, num_input_features: int, num_output_features: int) -> None:
        super().__init__()
        self.norm = nn.BatchNorm2d(num_input_features)
        self.relu = nn.ReLU(inplace=True)
        self.conv = nn.Conv2d(num_input_features, num_output_features, 1, bias=False)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)


class DenseNet(nn.Module):
    """torchvision DenseNet-BC; natural blocks ``stem, denseblock1, transition1, ..., denseblock4, classifier``.

    ``denseblock4`` includes ``norm5`` (bottlefit_paper.md §7 "denseblock4 / norm5");
    ``classifier`` is ReLU, global average pooling and the linear layer.
    """

    def __init__(
        self,
        growth_rate: int,
        block_config: tuple[int, int, int, int],
        num_init_features: int,
        bn_size: int = 4,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        self.features = nn.Sequential(
            OrderedDict(
                [
                    (
                        "conv0",
                        nn.Conv2d(
                            3, num_init_features, kernel_size=7, stride=2, padding=3, bias=False
                        ),
                    ),
                    ("norm0", nn.BatchNorm2d(num_init_features)),
                    ("relu0", nn.ReLU(inplace=True)),
                    ("pool0", nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
                ]
            )
        )
        num_features = num_init_features
        for i, num_layers in enumerate(block_config):
            block = DenseBlock(num_layers, num_features, bn_size, growth_rate)
            self.features.add_module(f"denseblock{i + 1}", block)
            num_features += num_layers * growth_rate
            if i != len(block_config) - 1:
                self.features.add_module(
                    f"transition{i + 1}", Transition(num_features, num_features // 2)
                )
                num_features //= 2
        self.features.add_module("norm5", nn.BatchNorm2d(num_features))
        self.classifier = nn.Linear(num_features, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
            elif isinstance(m, nn.Linear):
                nn.init.constant_(m.bias, 0)

    def natural_blocks(self) -> list[Block]:
        """The split points of the network, in order; applying them in turn equals forward."""
        f = self.features
        blocks = [Block("stem", nn.Sequential(f.conv0, f.norm0, f.relu0, f.pool0))]
        for i in range(1, 5):
            if i < 4:
                blocks.append(Block(f"denseblock{i}", getattr(f, f"denseblock{i}")))
                blocks.append(Block(f"transition{i}", getattr(f, f"transition{i}")))
            else:
                blocks.append(Block("denseblock4", nn.Sequential(f.denseblock4, f.norm5)))
        head = nn.Sequential(
            nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(1), self.classifier
        )
        blocks.append(Block("classifier", head))
        return blocks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.features(x), inplace=True)
        out = torch.flatten(F.adaptive_avg_pool2d(out, (1, 1)), 1)
        return self.classifier(out)


def remap_legacy_keys(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename ``...denselayerN.norm.1.weight`` keys to ``...denselayerN.norm1.weight`` (torchvision)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        match = _LEGACY_KEY.match(key)
        out[match.group(1) + match.group(2) if match else key] = value
    return out


def densenet121() -> DenseNet:
    return DenseNet(32, (6, 12, 24, 16), 64)


def densenet161() -> DenseNet:
    return DenseNet(48, (6, 12, 36, 24), 96)


def densenet169() -> DenseNet:
    return DenseNet(32, (6, 12, 32, 32), 64)


def densenet201() -> DenseNet:
    return DenseNet(32, (6, 12, 48, 32), 64)
