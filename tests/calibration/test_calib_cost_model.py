"""Operator counts and the per-device cost model: fit, held-out error, spreading over blocks."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from calibration.cost_model import (  # noqa: E402
    CostModel,
    choose_columns,
    evaluate,
    fit,
    fit_block_law,
    spread,
)
from calibration.opcount import OpWork, blocks_work, op_work  # noqa: E402
from calibration.published import BOARDS  # noqa: E402
from calibration.zoo import build  # noqa: E402

FIT_MODELS = (
    "resnet18",
    "resnet50",
    "densenet121",
    "squeezenet1_1",
    "vgg11",
    "mobilenet_v2",
    "alexnet",
)


@pytest.fixture(scope="module")
def works() -> dict[str, OpWork]:
    names = set(FIT_MODELS) | {m for board in BOARDS.values() for m in board.latency_ms}
    return {name: op_work(build(name, device="meta"), (3, 224, 224)) for name in sorted(names)}


def test_op_work_of_one_convolution_is_exact() -> None:
    conv = torch.nn.Conv2d(8, 16, 3, padding=1, bias=False, device="meta")
    work = op_work(conv, (8, 10, 10))
    assert work.macs == {"conv": 16 * 8 * 9 * 100, "gconv": 0.0, "matmul": 0.0}
    assert work.n_ops == 1
    assert work.bytes_moved == 4 * (
        8 * 100 + 16 * 8 * 9 + 16 * 100
    )  # input + weight + output, fp32
    half = op_work(conv, (8, 10, 10), bytes_per_element=2)
    assert half.bytes_moved == work.bytes_moved / 2


def test_op_work_classifies_grouped_convs_and_skips_views() -> None:
    depthwise = torch.nn.Sequential(
        torch.nn.Conv2d(8, 8, 3, groups=8, device="meta"), torch.nn.Flatten()
    )
    work = op_work(depthwise, (8, 6, 6))
    assert work.macs["gconv"] == 8 * 9 * 16 and work.macs["conv"] == 0
    assert work.n_ops == 1  # the flatten is a view


def test_block_works_add_up_to_the_model(works: dict[str, OpWork]) -> None:
    net = build("resnet50", device="meta")
    rows = blocks_work([(b.name, b.module) for b in net.natural_blocks()], (3, 224, 224))
    assert [r[0] for r in rows] == ["stem", "layer1", "layer2", "layer3", "layer4", "classifier"]
    assert sum(r[1].total_macs for r in rows) == works["resnet50"].total_macs
    assert sum(r[1].n_ops for r in rows) == works["resnet50"].n_ops


def test_fit_recovers_a_known_cost_model_and_held_out_errors_vanish(
    works: dict[str, OpWork],
) -> None:
    truth = CostModel(("macs_conv", "bytes", "n_ops"), (1 / 50e9, 1 / 8e9, 40e-6))
    times = {m: truth.predict_s(works[m]) for m in FIT_MODELS}
    report = evaluate("synthetic", works, times)
    assert report.model.columns == truth.columns
    assert report.model.seconds_per_unit == pytest.approx(truth.seconds_per_unit, rel=1e-6)
    assert set(report.held_out_error) == set(FIT_MODELS)
    assert report.held_out_stats["max_abs"] < 1e-6


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_held_out_error_is_computed_for_every_published_board(
    board: str, works: dict[str, OpWork]
) -> None:
    spec = BOARDS[board]
    report = evaluate(board, works, {m: ms / 1000 for m, ms in spec.latency_ms.items()})
    assert set(report.held_out_error) == set(spec.latency_ms) == set(report.fit_error)
    assert all(math.isfinite(e) for e in report.held_out_error.values())
    stats = report.held_out_stats
    assert math.isfinite(stats["mean_abs"]) and stats["max_abs"] >= stats["mean_abs"]
    summary = report.as_dict()
    assert summary["held_out_stats"] == stats and summary["columns"]


def test_layer_kind_gets_its_own_term_only_with_support() -> None:
    def w(conv: float, gconv: float) -> OpWork:
        return OpWork({"conv": conv, "gconv": gconv, "matmul": 0.0}, 1.0, 1)

    assert choose_columns([w(1, 0.1), w(1, 0.1), w(1, 0)]) == ("macs_conv", "bytes", "n_ops")
    assert choose_columns([w(1, 0.1)] * 3) == ("macs_conv", "macs_gconv", "bytes", "n_ops")
    model = fit({"a": w(1e9, 0), "b": w(2e9, 1e9)}, {"a": 1.0, "b": 3.0})
    assert model.columns == ("macs_conv", "bytes", "n_ops")  # gconv MACs folded into the conv term


def test_spread_keeps_the_total_and_follows_the_predictions() -> None:
    blocks = [
        ("a", OpWork({"conv": 1e9, "gconv": 0.0, "matmul": 0.0}, 0.0, 1)),
        ("b", OpWork({"conv": 3e9, "gconv": 0.0, "matmul": 0.0}, 0.0, 1)),
    ]
    model = CostModel(("macs_conv", "bytes", "n_ops"), (1e-9, 0.0, 0.0))
    shares = spread(0.2, blocks, model)
    assert shares == pytest.approx({"a": 0.05, "b": 0.15})
    zero = CostModel(("macs_conv", "bytes", "n_ops"), (0.0, 0.0, 0.0))
    assert spread(0.2, blocks, zero) == pytest.approx({"a": 0.05, "b": 0.15})  # MAC share fallback


def test_block_law_fit() -> None:
    points = [(m, 1e-3 + m / 2e10) for m in (1e6, 1e8, 5e8, 2e9)]
    overhead, throughput = fit_block_law(points)
    assert overhead == pytest.approx(1e-3, rel=1e-6)
    assert throughput == pytest.approx(2e10, rel=1e-6)
