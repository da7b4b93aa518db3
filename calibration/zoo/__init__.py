"""Model zoo in plain torch (torchvision does not install beside our torch).

``build(name)`` returns a network built layer for layer as torchvision builds
it; the five split-computing backbones (``SPLIT_MODELS``) also expose
``natural_blocks()``. ``build_variant`` wraps a backbone into a BottleFit,
autoencoder or vanilla-split model. ``load_torchvision_checkpoint`` loads a
torchvision ``.pth`` file a user already has (nothing is ever downloaded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from calibration.zoo import classic, densenet, inception, mobilenet_v2, resnet
from calibration.zoo.autoencoder import AE_SPLIT_AFTER, AutoencoderSplit
from calibration.zoo.blocks import Block, Chain, count_params, index_of, run_blocks
from calibration.zoo.bottlefit import REPLACES_THROUGH, BottleFit
from calibration.zoo.quant import DTYPE_BYTES, QUANT_OVERHEAD_BYTES, payload_bytes
from calibration.zoo.split import VanillaSplit

__all__ = [
    "AE_SPLIT_AFTER",
    "BUILDERS",
    "DTYPE_BYTES",
    "PUBLISHED",
    "QUANT_OVERHEAD_BYTES",
    "REPLACES_THROUGH",
    "SPLIT_MODELS",
    "AutoencoderSplit",
    "Block",
    "BottleFit",
    "Chain",
    "Published",
    "VanillaSplit",
    "build",
    "build_variant",
    "count_params",
    "index_of",
    "load_torchvision_checkpoint",
    "payload_bytes",
    "run_blocks",
]

BUILDERS: dict[str, Callable[[], nn.Module]] = {
    "resnet18": resnet.resnet18,
    "resnet34": resnet.resnet34,
    "resnet50": resnet.resnet50,
    "resnet101": resnet.resnet101,
    "resnet152": resnet.resnet152,
    "resnext101_32x8d": resnet.resnext101_32x8d,
    "densenet121": densenet.densenet121,
    "densenet161": densenet.densenet161,
    "densenet169": densenet.densenet169,
    "densenet201": densenet.densenet201,
    "mobilenet_v2": mobilenet_v2.mobilenet_v2,
    "alexnet": classic.alexnet,
    "vgg11": classic.vgg11,
    "vgg13": classic.vgg13,
    "vgg16": classic.vgg16,
    "squeezenet1_0": classic.squeezenet1_0,
    "squeezenet1_1": classic.squeezenet1_1,
    "shufflenet_v2_x1_0": classic.shufflenet_v2_x1_0,
    "googlenet": inception.googlenet,
    "inception_v3": inception.inception_v3,
}

SPLIT_MODELS = ("resnet50", "resnet152", "densenet169", "densenet201", "mobilenet_v2")
"""The backbones with natural split blocks and shipped model profiles."""


@dataclass(frozen=True)
class Published:
    """torchvision's published figures for the IMAGENET1K_V1 weights of a model.

    Source: the pytorch.org/vision model pages (``docs/source/models/*.rst`` tables
    generated from each weight's ``meta``: ``num_params``, ``_ops`` in GFLOPS, which
    torchvision counts as multiply-accumulates of conv and linear layers at 224 x 224,
    except Inception v3 at 299 x 299, and ``acc@1``).
    """

    display_name: str
    params: int
    gmacs: float
    top1: float | None = None


PUBLISHED: dict[str, Published] = {
    "resnet18": Published("ResNet-18", 11_689_512, 1.81),
    "resnet34": Published("ResNet-34", 21_797_672, 3.66),
    "resnet50": Published("ResNet-50", 25_557_032, 4.09, 0.76130),
    "resnet101": Published("ResNet-101", 44_549_160, 7.80),
    "resnet152": Published("ResNet-152", 60_192_808, 11.51, 0.78312),
    "resnext101_32x8d": Published("ResNeXt-101 32x8d", 88_791_336, 16.41),
    "densenet121": Published("DenseNet-121", 7_978_856, 2.83),
    "densenet161": Published("DenseNet-161", 28_681_000, 7.73),
    "densenet169": Published("DenseNet-169", 14_149_480, 3.36, 0.75600),
    "densenet201": Published("DenseNet-201", 20_013_928, 4.29, 0.76896),
    "mobilenet_v2": Published("MobileNetV2", 3_504_872, 0.30, 0.71878),
    "alexnet": Published("AlexNet", 61_100_840, 0.71),
    "vgg11": Published("VGG-11", 132_863_336, 7.61),
    "vgg13": Published("VGG-13", 133_047_848, 11.31),
    "vgg16": Published("VGG-16", 138_357_544, 15.47),
    "squeezenet1_0": Published("SqueezeNet 1.0", 1_248_424, 0.82),
    "squeezenet1_1": Published("SqueezeNet 1.1", 1_235_496, 0.35),
    "shufflenet_v2_x1_0": Published("ShuffleNetV2 x1.0", 2_278_604, 0.14),
    "googlenet": Published("GoogLeNet", 6_624_904, 1.50),
    "inception_v3": Published("Inception v3", 27_161_264, 5.71),
}


def build(name: str, *, device: str | torch.device | None = None) -> nn.Module:
    """A fresh network ``name`` in eval mode (random weights), optionally on ``device``.

    ``device="meta"`` builds shapes only (no memory, no initialisation cost).
    """
    if name not in BUILDERS:
        raise KeyError(f"unknown model '{name}'; known: {', '.join(sorted(BUILDERS))}")
    if device is None:
        return BUILDERS[name]().eval()
    with torch.device(device):
        return BUILDERS[name]().eval()


def build_variant(
    model_name: str,
    backbone: nn.Module,
    kind: str,
    *,
    channels: int = 12,
    split_after: str | None = None,
    dtype: str = "uint8",
    quantize: bool = False,
) -> BottleFit | AutoencoderSplit | VanillaSplit:
    """Wrap ``backbone`` into a split variant.

    ``kind``: ``bottlefit`` (``channels``), ``autoencoder`` (``channels``; ``split_after``
    defaults to the BottleFit paper's AE position) or ``split`` (vanilla split after
    ``split_after``, payload ``dtype``). New modules are created on the backbone's device.
    """
    device = next(backbone.parameters()).device
    with torch.device(device):
        if kind == "bottlefit":
            variant: nn.Module = BottleFit(model_name, backbone, channels, quantize=quantize)
        elif kind == "autoencoder":
            variant = AutoencoderSplit(
                model_name, backbone, channels, split_after, quantize=quantize
            )
        elif kind == "split":
            if split_after is None:
                raise ValueError("a vanilla split needs split_after (a natural block name)")
            variant = VanillaSplit(backbone, split_after, dtype)
        else:
            raise ValueError(f"unknown variant kind '{kind}'; use bottlefit, autoencoder or split")
    assert isinstance(variant, BottleFit | AutoencoderSplit | VanillaSplit)
    return variant.eval()


def load_torchvision_checkpoint(model: nn.Module, path: str | Path) -> nn.Module:
    """Load a torchvision ``.pth`` state dict (a local file) into a zoo model; strict key match.

    Accepts a bare state dict or one wrapped under ``state_dict`` / ``model``;
    renames DenseNet's legacy ``norm.1`` style keys as torchvision does.
    """
    state = torch.load(Path(path), map_location="cpu", weights_only=True)
    for wrapper in ("state_dict", "model"):
        if isinstance(state, dict) and wrapper in state and isinstance(state[wrapper], dict):
            state = state[wrapper]
    if isinstance(model, densenet.DenseNet):
        state = densenet.remap_legacy_keys(state)
    model.load_state_dict(state, strict=True)
    return model
