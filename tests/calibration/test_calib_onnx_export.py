"""ONNX export of the zoo's blocks and BottleFit parts: onnx.checker, opset 13, onnxruntime equals torch (fp32).

The fast test covers a few blocks of each kind; the slow one every block of
DenseNet-201 and ResNet-152 and the BottleFit C = 12 encoder, quantiser and
decoder of both (the issue's "done when").
"""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from calibration.board_export import ONNX_OPSET, QuantizeU8, export_onnx, onnx_matches_torch  # noqa: E402
from calibration.model_profile import INPUT_SHAPE  # noqa: E402
from calibration.zoo import build, build_variant  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _blocks_with_inputs(model: str) -> list[tuple[str, torch.nn.Module, tuple[int, ...]]]:
    torch.manual_seed(0)
    net = build(model).eval()
    out, shape = [], tuple(INPUT_SHAPE)
    for block in net.natural_blocks():
        out.append((block.name, block.module, shape))
        with torch.no_grad():
            shape = tuple(block.module(torch.zeros((1, *shape))).shape[1:])
    return out


def _bottlefit_parts(
    model: str, channels: int
) -> list[tuple[str, torch.nn.Module, tuple[int, ...]]]:
    torch.manual_seed(0)
    variant = build_variant(model, build(model).eval(), "bottlefit", channels=channels).eval()
    code = tuple(variant.bottleneck_shape())
    return [
        ("encoder", variant.encoder, tuple(INPUT_SHAPE)),
        ("encoder_quant", torch.nn.Sequential(variant.encoder, QuantizeU8()), tuple(INPUT_SHAPE)),
        ("decoder", variant.decoder, code),
    ]


def _check(
    parts: list[tuple[str, torch.nn.Module, tuple[int, ...]]], tmp_path: Path
) -> dict[str, dict[str, float]]:
    results = {}
    for name, module, shape in parts:
        path = export_onnx(module, shape, tmp_path / f"{name}.onnx")
        results[name] = onnx_matches_torch(module, path, shape, batch=2)
        assert results[name]["opset"] == ONNX_OPSET
    return results


def test_a_few_blocks_and_the_bottlefit_parts_export_and_match(tmp_path: Path) -> None:
    blocks = _blocks_with_inputs("resnet50")
    picked = [b for b in blocks if b[0] in ("stem", "layer1", "classifier")]
    results = _check(picked + _bottlefit_parts("densenet201", 12), tmp_path)
    assert set(results) == {"stem", "layer1", "classifier", "encoder", "encoder_quant", "decoder"}
    model = onnx.load(str(tmp_path / "encoder_quant.onnx"))
    assert model.graph.output[0].type.tensor_type.elem_type == onnx.TensorProto.UINT8
    batch = model.graph.input[0].type.tensor_type.shape.dim[0]
    assert (
        batch.dim_param == "batch"
    )  # the batch axis is dynamic: sweeps and trtexec --shapes use it


def test_the_checker_rejects_a_broken_file(tmp_path: Path) -> None:
    module = torch.nn.Conv2d(3, 4, 3)
    path = export_onnx(module, (3, 8, 8), tmp_path / "conv.onnx")
    model = onnx.load(str(path))
    model.graph.node[0].input[1] = "no_such_tensor"
    onnx.save(model, str(path))
    with pytest.raises(onnx.checker.ValidationError):
        onnx_matches_torch(module, path, (3, 8, 8))


def test_a_wrong_export_is_caught(tmp_path: Path) -> None:
    """The comparison is not vacuous: an ONNX file of other weights fails it."""
    torch.manual_seed(0)
    exported, other = torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(3, 4, 3)
    path = export_onnx(exported, (3, 8, 8), tmp_path / "conv.onnx")
    with pytest.raises(AssertionError, match="differs from torch"):
        onnx_matches_torch(other, path, (3, 8, 8))


@pytest.mark.slow
@pytest.mark.parametrize("model", ["densenet201", "resnet152"])
def test_every_block_and_the_bottlefit_c12_parts_export_and_match(
    model: str, tmp_path: Path
) -> None:
    blocks = _blocks_with_inputs(model)
    results = _check(blocks + _bottlefit_parts(model, 12), tmp_path)
    assert len(results) == len(blocks) + 3
