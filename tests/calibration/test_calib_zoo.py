"""The zoo: torchvision parameter counts and GFLOPS, natural blocks, BottleFit, AE, quantiser, splits."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from calibration.zoo import (  # noqa: E402
    PUBLISHED,
    SPLIT_MODELS,
    build,
    build_variant,
    count_params,
    load_torchvision_checkpoint,
    run_blocks,
)
from calibration.zoo.densenet import remap_legacy_keys  # noqa: E402
from calibration.zoo.quant import (  # noqa: E402
    QUANT_OVERHEAD_BYTES,
    dequantize_tensor,
    payload_bytes,
    quantize_tensor,
)

# torchvision's published parameter counts (issue 4; pytorch.org/vision model pages).
TORCHVISION_PARAMS = {
    "resnet50": 25_557_032,
    "resnet152": 60_192_808,
    "densenet169": 14_149_480,
    "densenet201": 20_013_928,
    "mobilenet_v2": 3_504_872,
}
# torchvision's published GFLOPS (multiply-accumulates) at 224 x 224.
TORCHVISION_GFLOPS = {
    "resnet50": 4.09,
    "resnet152": 11.51,
    "densenet169": 3.36,
    "densenet201": 4.29,
    "mobilenet_v2": 0.30,
}


def meta_macs(module: torch.nn.Module, shape: tuple[int, ...]) -> tuple[float, tuple[int, ...]]:
    x = torch.empty((1, *shape), device="meta")
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        y = module(x)
    return counter.get_total_flops() / 2, tuple(y.shape[1:])


@pytest.mark.parametrize("name", sorted(TORCHVISION_PARAMS))
def test_parameter_counts_equal_torchvision(name: str) -> None:
    assert count_params(build(name, device="meta")) == TORCHVISION_PARAMS[name]


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_every_zoo_network_matches_its_published_parameter_count(name: str) -> None:
    assert count_params(build(name, device="meta")) == PUBLISHED[name].params


@pytest.mark.parametrize("name", sorted(TORCHVISION_GFLOPS))
def test_flops_within_two_percent_of_torchvision(name: str) -> None:
    macs, out = meta_macs(build(name, device="meta"), (3, 224, 224))
    assert out == (1000,)
    assert macs / 1e9 == pytest.approx(TORCHVISION_GFLOPS[name], rel=0.02)


@pytest.mark.parametrize("name", SPLIT_MODELS)
def test_natural_blocks_sum_to_the_model(name: str) -> None:
    net = build(name, device="meta")
    total, _ = meta_macs(net, (3, 224, 224))
    shape: tuple[int, ...] = (3, 224, 224)
    block_macs = 0.0
    for block in net.natural_blocks():
        macs, shape = meta_macs(block.module, shape)
        block_macs += macs
    assert block_macs == total
    assert shape == (1000,)


EXPECTED_BLOCKS = {
    "resnet50": ["stem", "layer1", "layer2", "layer3", "layer4", "classifier"],
    "densenet169": [
        "stem",
        "denseblock1",
        "transition1",
        "denseblock2",
        "transition2",
        "denseblock3",
        "transition3",
        "denseblock4",
        "classifier",
    ],
    "mobilenet_v2": [f"features.{i}" for i in range(19)] + ["classifier"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED_BLOCKS))
def test_blocks_compose_to_forward_on_real_weights(name: str) -> None:
    torch.manual_seed(0)
    net = build(name)
    assert [b.name for b in net.natural_blocks()] == EXPECTED_BLOCKS[name]
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(run_blocks(net.natural_blocks(), x), net(x), atol=1e-5)


def test_state_dict_keys_follow_torchvision() -> None:
    assert (
        "features.denseblock1.denselayer1.norm1.weight"
        in build("densenet169", device="meta").state_dict()
    )
    assert "layer1.0.downsample.0.weight" in build("resnet152", device="meta").state_dict()
    keys = build("mobilenet_v2", device="meta").state_dict()
    assert {
        "features.1.conv.0.0.weight",
        "features.2.conv.1.0.weight",
        "features.18.1.running_var",
        "classifier.1.weight",
    } <= set(keys)


def test_load_torchvision_checkpoint_round_trip_and_legacy_densenet_keys(tmp_path) -> None:
    torch.manual_seed(1)
    source = build("mobilenet_v2")
    path = tmp_path / "mobilenet_v2.pth"
    torch.save({"state_dict": source.state_dict()}, path)
    target = load_torchvision_checkpoint(build("mobilenet_v2"), path)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value)
    legacy = {
        "features.denseblock1.denselayer1.norm.1.weight": torch.ones(1),
        "features.denseblock1.denselayer1.conv.2.weight": torch.ones(1),
        "features.norm5.weight": torch.ones(1),
    }
    assert set(remap_legacy_keys(legacy)) == {
        "features.denseblock1.denselayer1.norm1.weight",
        "features.denseblock1.denselayer1.conv2.weight",
        "features.norm5.weight",
    }


# ---------------------------------------------------------------- BottleFit, AE, splits

TAIL_INPUT = {
    "densenet169": (256, 14, 14),
    "densenet201": (256, 14, 14),
    "resnet152": (512, 28, 28),
}


@pytest.mark.parametrize("channels", [1, 3, 6, 9, 12])
@pytest.mark.parametrize("name", sorted(TAIL_INPUT))
def test_bottlefit_shapes_head_size_and_payload(name: str, channels: int) -> None:
    variant = build_variant(name, build(name, device="meta"), "bottlefit", channels=channels)
    head_macs, code = meta_macs(variant.encoder, (3, 224, 224))
    assert code == (channels, 29, 29) == variant.bottleneck_shape()
    # Head parameters: conv 7x7 3->64 (9,408) + two BN(64) (256) + conv 2x2 64->C (256 C);
    # bottlefit_paper.md §2.1: 12,736 at C = 12, 9,920 at C = 1.
    assert count_params(variant.encoder) == 9_664 + 256 * channels
    assert head_macs == 118_013_952 + 215_296 * channels
    assert variant.payload_bytes() == channels * 29 * 29 + QUANT_OVERHEAD_BYTES
    _, decoded = meta_macs(variant.decoder, code)
    assert decoded == TAIL_INPUT[name]
    _, logits = meta_macs(variant.tail, decoded)
    assert logits == (1000,)


def test_bottlefit_c12_matches_the_paper_table() -> None:
    variant = build_variant(
        "densenet201", build("densenet201", device="meta"), "bottlefit", channels=12
    )
    assert count_params(variant.encoder) == 12_736
    assert variant.payload_bytes() == 10_092 + 8
    dec_macs, _ = meta_macs(variant.decoder, (12, 29, 29))
    assert dec_macs / 1e6 == pytest.approx(1927.6, abs=0.1)  # bottlefit_paper.md §2.1


def test_bottlefit_quantized_forward_sends_the_exact_payload() -> None:
    torch.manual_seed(0)
    variant = build_variant("resnet152", build("resnet152", device="meta"), "bottlefit", channels=6)
    encoder = variant.encoder.to_empty(device="cpu")
    for module in encoder.modules():
        if hasattr(module, "reset_parameters"):
            module.reset_parameters()
    with torch.no_grad():
        q = quantize_tensor(encoder.eval()(torch.randn(1, 3, 224, 224)))
    assert q.tensor.dtype == torch.uint8 and tuple(q.tensor.shape) == (1, 6, 29, 29)
    assert q.nbytes == 6 * 841 + 8 == payload_bytes((6, 29, 29), "uint8")


@pytest.mark.parametrize("channels", [1, 24])
def test_channel_range_is_enforced(channels: int) -> None:
    build_variant(
        "densenet169", build("densenet169", device="meta"), "bottlefit", channels=channels
    )
    with pytest.raises(ValueError):
        build_variant(
            "densenet169", build("densenet169", device="meta"), "bottlefit", channels=channels + 24
        )


def test_quantizer_round_trip_error() -> None:
    x = torch.linspace(-3.0, 5.0, 1000).reshape(10, 100)
    q = quantize_tensor(x)
    assert 0 <= q.zero_point <= 255
    assert q.scale == pytest.approx(8.0 / 255)
    error = (dequantize_tensor(q) - x).abs()
    # torchdistill truncates the zero point to an integer, which shifts the grid by under one
    # step: values clamped at 0 are off by less than a step, the others by half a step at most.
    clamped = q.tensor == 0
    assert error[~clamped].max() <= q.scale / 2 + 1e-6
    assert error.max() < q.scale
    for value in (2.5, -1.25, 0.0):
        constant = quantize_tensor(torch.full((4,), value))
        assert torch.allclose(dequantize_tensor(constant), torch.full((4,), value))


@pytest.mark.parametrize(
    ("name", "split", "side"), [("densenet169", "transition2", 10), ("resnet152", "layer2", 24)]
)
def test_autoencoder_baseline_position_and_sizes(name: str, split: str, side: int) -> None:
    ae = build_variant(name, build(name, device="meta"), "autoencoder", channels=3)
    assert ae.split_after == split
    assert ae.bottleneck_shape() == (3, side, side)
    _, code = meta_macs(ae.encoder, ae.split_shape)
    assert code == (3, side, side)
    _, back = meta_macs(ae.decoder, code)
    assert back == ae.split_shape
    assert ae.payload_bytes() == 3 * side * side + 8
    head_params = sum(count_params(b.module) for b in ae.head_parts())
    expected = {"densenet169": 1_602_729, "resnet152": 2_869_353}[
        name
    ]  # bottlefit_paper.md §4: 1.603 M / 2.869 M
    assert head_params == expected


@pytest.mark.parametrize(
    ("dtype", "per_element", "extra"), [("fp32", 4, 0), ("fp16", 2, 0), ("uint8", 1, 8)]
)
def test_vanilla_split_payloads(dtype: str, per_element: int, extra: int) -> None:
    torch.manual_seed(0)
    net = build("resnet50")
    split = build_variant("resnet50", net, "split", split_after="layer1", dtype=dtype)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        logits, nbytes = split.forward_with_payload(x)
        reference = net(x)
    assert nbytes == 256 * 16 * 16 * per_element + extra
    assert payload_bytes((256, 56, 56), dtype) == 256 * 56 * 56 * per_element + extra
    if dtype == "fp32":
        assert torch.allclose(logits, reference, atol=1e-5)
    with pytest.raises(ValueError):
        build_variant("resnet50", net, "split", split_after="classifier")


def test_payload_constants_agree_with_the_simulator() -> None:
    from calibration.zoo.quant import DTYPE_BYTES
    from sim.profiles.schema import DTYPE_BYTES as SIM_DTYPE_BYTES
    from sim.profiles.schema import QUANT_OVERHEAD_BYTES as SIM_OVERHEAD

    assert DTYPE_BYTES == SIM_DTYPE_BYTES
    assert QUANT_OVERHEAD_BYTES == SIM_OVERHEAD
