"""Profiles load and validate; plans and server service models resolve as documented."""

from __future__ import annotations

import numpy as np
import pytest

from sim.plans import build_plan, server_part, service_model, variant_names
from sim.profiles.registry import ProfileLibrary, shipped_names
from sim.profiles.schema import ModelProfile
from sim.profiles.service import fit_hinge
from tests.conftest import PROFILES


@pytest.mark.parametrize("kind", ["model", "device", "server"])
def test_every_shipped_profile_validates(kind):
    library = ProfileLibrary()
    names = shipped_names(kind)
    assert names
    for name in names:
        library.resolve(kind, name, file=None, key=kind)


def test_hinge_fit_recovers_a_hinge_and_smooths_noise():
    b = np.array([1, 2, 4, 8, 16, 32, 64, 128])
    true = 0.009 + 0.0003 * np.maximum(0, b - 20)
    fit = fit_hinge(b, true)
    assert fit.fixed_s == pytest.approx(0.009, rel=1e-2)
    assert fit.per_item_s == pytest.approx(0.0003, rel=2e-2)
    assert fit(128) == pytest.approx(true[-1], rel=2e-2)
    noisy = true * np.array([1.0, 0.98, 1.4, 1.02, 0.97, 1.03, 1.0, 1.0])
    smooth = fit_hinge(b, noisy)
    assert smooth(4) < 0.011  # the 1.4x outlier at b = 4 is not followed


def test_plans_of_each_kind():
    library = ProfileLibrary()
    model = library.model(str(PROFILES / "toy_model.yaml"), file=None, key="m")
    device = library.device(str(PROFILES / "toy_device.yaml"), file=None, key="d")
    local = build_plan("local", "full", model, device)
    assert local.device_s == pytest.approx(0.35) and local.server is None and local.accuracy == 0.9
    offload = build_plan("offload", "full", model, device)
    assert offload.payload_bytes == 5000 and offload.server.key == "toy/full"
    bottle = build_plan("split", "bottlefit_c2", model, device)
    assert bottle.device_s == pytest.approx(0.02) and bottle.payload_bytes == 1000
    assert bottle.accuracy == 0.88
    # Vanilla split after 'a': 8x10x10 elements; uint8 adds 8 bytes of scale and zero point.
    fp32 = build_plan("split", "split_a_fp32", model, device)
    u8 = build_plan("split", "split_a_uint8", model, device)
    assert fp32.payload_bytes == 3200 and u8.payload_bytes == 808
    assert fp32.device_s == pytest.approx(0.1) and fp32.server.key == "toy/tail_after_a"
    assert "split_b_fp16" in variant_names(model) and "split_classifier_fp16" not in variant_names(
        model
    )


def test_server_service_models_measured_derived_and_costed():
    library = ProfileLibrary()
    h100 = library.server("h100_eager_pytorch", file=None, key="s")
    dn201 = library.model("densenet201", file=None, key="m")
    assert isinstance(dn201, ModelProfile)
    measured = service_model(h100, server_part(dn201, "bottlefit_c12"), dn201)
    assert measured.provenance == "measured"
    # Smooth, not interpolating: the typical point within 5 %, while the outliers the
    # calibration README names (23.1 ms at batch 16, 21.8 ms at 32) are not followed.
    points = h100.parts["densenet201/bottlefit_c12"].batch_s
    errors = {b: measured.service_s(b) / s - 1 for b, s in points.items()}
    assert measured.time_fit.median_abs_relative_error < 0.05
    assert errors[16] < -0.2 and max(abs(e) for e in errors.values()) < 0.5
    other_c = service_model(h100, server_part(dn201, "bottlefit_c3"), dn201)
    assert other_c.provenance == "derived" and 0.98 < other_c.scale < 1.0
    tail = service_model(h100, server_part(dn201, "tail_after_transition2"), dn201)
    full = service_model(h100, server_part(dn201, "full"), dn201)
    assert tail.provenance == "derived" and 0 < tail.service_s(1) < full.service_s(1)
    toy = library.model(str(PROFILES / "toy_model.yaml"), file=None, key="m")
    costed = service_model(h100, server_part(toy, "full"), toy)
    cost = h100.cost_model
    assert costed.service_s(4) == pytest.approx(cost.fixed_s + 4 * toy.total_macs / cost.macs_per_s)
