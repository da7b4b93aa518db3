"""The device cost model predicts only inside the range it was fitted on, or says so (issue 12)."""

from __future__ import annotations

import pytest

pytest.importorskip("scipy")

from calibration.cost_model import macs_range, range_note
from calibration.opcount import KINDS, OpWork
from sim.profiles.registry import load_profile_file, shipped_path


def load_device(name: str):
    return load_profile_file("device", shipped_path("device", name))


def _work(gmac: float) -> OpWork:
    return OpWork({k: (gmac * 1e9 if k == "conv" else 0.0) for k in KINDS}, 0.0, 0)


def test_range_note_flags_only_extrapolation():
    works = {"small": _work(0.5), "large": _work(8.0)}
    fitted = macs_range(works, ["small", "large"])
    assert fitted == (0.5e9, 8.0e9)
    assert range_note(_work(0.5), fitted) == "" and range_note(_work(8.0), fitted) == ""
    assert range_note(_work(4.0), fitted) == ""
    assert "EXTRAPOLATED: 0.30 GMAC" in range_note(_work(0.3), fitted)
    assert "outside the fitted range 0.50-8.00 GMAC" in range_note(_work(11.5), fitted)


def test_shipped_profiles_label_their_extrapolated_predictions():
    """Pi 3B+ (fitted on 0.30-4.09 GMAC): ResNet-152 (11.5 GMAC) is labelled; the Nano's
    refitted ResNet-152 and DenseNet-201 are published figures now, not predictions."""
    pi3 = load_device("raspberry_pi3bplus")
    assert "EXTRAPOLATED" in pi3.models["resnet152"].source
    nano = load_device("jetson_nano")
    for model in ("resnet152", "densenet201"):
        assert nano.models[model].source.startswith("blocks: published"), model
        assert "EXTRAPOLATED" not in nano.models[model].source
    total_s = sum(nano.models["resnet152"].blocks_s.values())
    assert total_s == pytest.approx(0.204, rel=1e-4)  # devices.md §2.1, torch2trt PyTorch FP16
    trt = load_device("jetson_nano_trt")
    assert sum(trt.models["densenet201"].blocks_s.values()) == pytest.approx(0.0408, rel=1e-4)
