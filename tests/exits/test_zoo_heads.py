"""Exit heads of the zoo: placement and cost against hand calculation (torch parts skip without it)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from sim.profiles.registry import ProfileLibrary

REPO = Path(__file__).resolve().parents[2]


def _early_exit():
    # Loaded by path: calibration/zoo/__init__.py imports torch, the placement code does not.
    spec = importlib.util.spec_from_file_location(
        "early_exit_under_test", REPO / "calibration" / "zoo" / "early_exit.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_head_cost_by_hand():
    ee = _early_exit()
    # Global average pool (no MACs counted) + Linear(C, 1000): C x 1000 MACs, C x 1000 + 1000 params.
    assert ee.head_cost(256) == (256_000.0, 257_000)
    assert ee.head_cost(1792) == (1_792_000.0, 1_793_000)
    assert ee.head_cost(24, classes=10) == (240.0, 250)


def test_placement_nearest_sdn_fraction_with_gap():
    ee = _early_exit()
    # Four blocks of 10, 20, 30, 40 MACs: cumulative 0.1, 0.3, 0.6, 1.0 (the last = classifier).
    blocks = [("a", 10.0, 8), ("b", 20.0, 16), ("c", 30.0, 32), ("d", 40.0, 64)]
    exits = ee.place_exits(blocks)
    # 0.15 -> a (0.1); 0.30 -> b; 0.45 -> b (0.3) or c (0.6): tie goes to b; 0.60, 0.75, 0.90 -> c.
    assert [e.after for e in exits] == ["a", "b", "c"]
    assert [e.flops_fraction for e in exits] == [0.1, 0.3, 0.6]
    assert [e.macs for e in exits] == [8000.0, 16000.0, 32000.0]
    # A 0.25 gap drops b (0.2 from a).
    assert [e.after for e in ee.place_exits(blocks, min_gap=0.25)] == ["a", "c"]


@pytest.mark.parametrize("model", ["resnet152", "densenet201", "mobilenet_v2"])
def test_profiles_carry_the_placed_heads(model):
    ee = _early_exit()
    profile = ProfileLibrary(REPO).model(model, file=None, key="model")
    expected = ee.place_exits(ee.profile_blocks(model))
    assert list(profile.exits) == [e.after for e in expected]
    total = profile.total_macs
    for e in expected:
        head = profile.exits[e.after]
        channels = profile.blocks[profile.block_index(e.after)].out_shape[0]
        assert head.macs == channels * 1000
        assert head.params == channels * 1000 + 1000
        upto = profile.block_index(e.after)
        assert head.flops_fraction == pytest.approx(
            sum(b.macs for b in profile.blocks[: upto + 1]) / total, abs=1e-6
        )
        assert 0.05 < head.flops_fraction < 0.95


def test_torch_head_matches_closed_form():
    torch = pytest.importorskip("torch", reason="torch is only in the calibration extra")
    ee = _early_exit()
    for channels, size in ((256, 56), (1024, 14), (24, 56)):
        head = ee.exit_head(channels)
        params = sum(p.numel() for p in head.parameters())
        macs, expected_params = ee.head_cost(channels)
        assert params == expected_params
        from torch.utils.flop_counter import FlopCounterMode

        x = torch.randn(1, channels, size, size)
        with FlopCounterMode(display=False) as counter:
            out = head(x)
        assert out.shape == (1, 1000)
        assert counter.get_total_flops() == 2 * macs


def test_board_predictions_from_the_fitted_cost_models():
    pytest.importorskip("torch", reason="torch is only in the calibration extra")
    ee = _early_exit()
    small = ee.board_head_s(256, 56, 56)
    large = ee.board_head_s(1792, 14, 14)
    assert set(small) >= {"jetson_nano", "raspberry_pi4"}
    for board, seconds in small.items():
        # A pool + linear head: a few kernels, each at least the board's per-operator overhead.
        assert 1e-5 < seconds < 5e-3, board
    # More channels and weights: more bytes moved and MACs on every board.
    assert all(large[b] >= small[b] for b in small)
