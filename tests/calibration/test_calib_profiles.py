"""The shipped model and device profiles: up to date with the zoo, complete, and sourced."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

from calibration.model_profile import block_table, model_profile_dict
from calibration.profile_io import read_doc
from calibration.published import BOARDS
from calibration.zoo import SPLIT_MODELS
from sim.profiles.registry import load_profile_file, shipped_names, shipped_path
from sim.profiles.schema import DeviceProfile, ModelProfile

SHIPPED_DEVICES = {
    "jetson_nano",
    "jetson_nano_trt",
    "raspberry_pi4",
    "raspberry_pi3bplus",
    "x86_2core_cpu",
}


def model(name: str) -> ModelProfile:
    profile = load_profile_file("model", shipped_path("model", name))
    assert isinstance(profile, ModelProfile)
    return profile


def device(name: str) -> DeviceProfile:
    profile = load_profile_file("device", shipped_path("device", name))
    assert isinstance(profile, DeviceProfile)
    return profile


def test_shipped_names() -> None:
    assert set(SPLIT_MODELS) <= set(shipped_names("model"))
    assert set(shipped_names("device")) >= SHIPPED_DEVICES


@pytest.mark.parametrize("name", SPLIT_MODELS)
def test_model_blocks_are_the_zoo_counts(name: str) -> None:
    shipped = model(name)
    table = block_table(name)
    assert [b.name for b in shipped.blocks] == [row["name"] for row in table]
    for block, row in zip(shipped.blocks, table, strict=True):
        assert block.macs == row["macs"] and block.params == row["params"]
        assert list(block.out_shape) == row["out_shape"]
    assert sum(b.params for b in shipped.blocks) == shipped.params


def test_densenet201_variants_are_up_to_date_with_the_builder() -> None:
    on_disk = read_doc(shipped_path("model", "densenet201"))
    assert on_disk is not None
    names = list(on_disk["variants"])
    assert names == [f"bottlefit_c{c}" for c in (1, 2, 3, 6, 9, 12)] + [
        f"ae_c{c}" for c in (3, 6, 9, 12, 15, 18)
    ]
    pairs = [("bottlefit", 12), ("autoencoder", 12)]
    fresh = model_profile_dict("densenet201", pairs)["variants"]
    for key in ("bottlefit_c12", "ae_c12"):
        assert on_disk["variants"][key] == fresh[key]


@pytest.mark.parametrize("name", sorted(SHIPPED_DEVICES))
def test_devices_cover_every_block_and_encoder(name: str) -> None:
    profile = device(name)
    for model_name in SPLIT_MODELS:
        times = profile.models[model_name]
        shipped = model(model_name)
        assert list(times.blocks_s) == [b.name for b in shipped.blocks]
        assert set(times.parts_s) == {f"{v}.encoder" for v in shipped.variants}
        assert all(t > 0 for t in times.blocks_s.values())


def test_x86_profile_is_measured() -> None:
    profile = device("x86_2core_cpu")
    assert profile.processor == "cpu"
    assert {t.provenance for t in profile.models.values()} == {"measured"}


@pytest.mark.parametrize("board", sorted(BOARDS))
def test_published_totals_are_kept_when_spread_over_blocks(board: str) -> None:
    profile = device(board)
    spec = BOARDS[board]
    for model_name in SPLIT_MODELS:
        times = profile.models[model_name]
        assert times.provenance == "derived"
        if model_name in spec.latency_ms:
            assert sum(times.blocks_s.values()) == pytest.approx(
                spec.latency_ms[model_name] / 1000, rel=1e-4
            )
            assert "published" in times.source
        else:
            assert "predicted" in times.source
    assert profile.power.idle_w.provenance == "published"
