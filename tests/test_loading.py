"""Scenario loading: defaults, overrides, cross-references and one-line errors."""

from __future__ import annotations

import pytest

import sim
from sim.errors import SimInputError
from sim.scenario.load import build_scenario
from sim.scenario.overrides import apply_override
from tests.conftest import REPO, toy_scenario, toy_spec

SCENARIO = REPO / "scenarios" / "congested_lte.yaml"


def error_of(**changes) -> str:
    with pytest.raises(SimInputError) as info:
        build_scenario(toy_spec(**changes), REPO / "tests" / "toy.yaml")
    text = str(info.value)
    assert "\n" not in text
    return text


def test_load_resolves_profiles_and_plans():
    scenario = sim.load(SCENARIO)
    assert scenario.strategy_labels == ["local", "offload", "bottlefit_c12"]
    group = scenario.groups[0]
    assert group.model.name == "densenet201" and group.device.name == "raspberry_pi4"
    plan = scenario.factory("pi", "bottlefit_c12").plans[0]
    assert plan.payload_bytes == 12 * 29 * 29 + 8
    assert plan.server is not None and plan.server.key == "densenet201/bottlefit_c12"
    assert ("gpu0", "densenet201/bottlefit_c12") in scenario.service_models
    assert ("gpu0", "resnet50/full") in scenario.service_models


def test_overrides_by_index_and_name():
    data = {"devices": [{"name": "a", "count": 1}, {"name": "b", "count": 2}]}
    assert apply_override(data, "devices.b.count=5")["devices"][1]["count"] == 5
    assert apply_override(data, "devices.0.count=7")["devices"][0]["count"] == 7
    assert data["devices"][0]["count"] == 1  # the original is untouched
    with pytest.raises(SimInputError, match="no list item named 'c'"):
        apply_override(data, "devices.c.count=1")
    with pytest.raises(SimInputError, match="key=value"):
        apply_override(data, "devices")


@pytest.mark.parametrize(
    ("changes", "needles"),
    [
        ({"duration_s": -1}, ["key 'duration_s'", "(got -1)", "> 0"]),
        ({"duration_s": float("nan")}, ["duration_s", "finite"]),
        ({"duration_s": float("inf")}, ["duration_s", "finite"]),
        ({"duration_s": "ten"}, ["duration_s", "not a number"]),
        ({"warmup_s": 10.0}, ["warmup_s", "< 10.0"]),
        ({"seeed": 3}, ["unknown key", "did you mean 'seed'"]),
        ({"devices__0__count": 0}, ["devices.0.count", "> 0"]),
        (
            {"devices__0__workload": {"kind": "poison", "rate_hz": 1}},
            ["devices.0.workload", "unknown kind", "poisson"],
        ),
        (
            {"devices__0__workload": {"kind": "poisson", "rate": 1}},
            ["devices.0.workload.rate", "did you mean 'rate_hz'"],
        ),
        ({"devices__0__cell": "nope"}, ["devices.0.cell", "unknown cell", "ap"]),
        ({"devices__0__server": "srv2"}, ["devices.0.server", "unknown server"]),
        ({"devices__0__device": "no_such_board"}, ["devices.0.device", "unknown device profile"]),
        ({"devices__0__model": "/nonexistent/model.yaml"}, ["devices.0.model", "not found"]),
        (
            {"compare": ["split_zz_uint8"]},
            ["compare.0.variant", "unknown variant", "split_a_uint8"],
        ),
        ({"compare": ["split_classifier_fp32"]}, ["compare.0.variant", "unknown variant"]),
        ({"compare": ["local", "local"]}, ["compare.1", "compared twice"]),
        (
            {"cells__0__uplink": {"kind": "constant", "rate_bps": -5}},
            ["cells.0.uplink.rate_bps", "> 0"],
        ),
        ({"servers__0__batching": {"max_batch": 0}}, ["servers.0.batching.max_batch"]),
        (
            {"servers__0__service_variability": {"kind": "gamma"}},
            ["servers.0.service_variability", "cv"],
        ),
        ({"network": {"links": []}}, ["no network path", "devices.0.cell"]),
        ({"devices__0__workload": {"kind": "poisson", "rate_hz": 1e9}}, ["too large", "requests"]),
    ],
)
def test_bad_input_names_key_value_and_allowed(changes, needles):
    text = error_of(**changes)
    for needle in needles:
        assert needle in text, (needle, text)
    assert "toy.yaml" in text


def test_errors_in_files_carry_line_numbers(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.read_text().replace("fps: 5,", "fps: -5,"))
    with pytest.raises(SimInputError) as info:
        sim.load(path)
    message = str(info.value)
    assert "s.yaml:" in message and "devices.0.workload.fps" in message and "(got -5)" in message


def test_yaml_tags_and_alias_bombs_are_refused(tmp_path):
    tag = tmp_path / "tag.yaml"
    tag.write_text("name: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(SimInputError, match="malformed YAML"):
        sim.load(tag)
    bomb = tmp_path / "bomb.yaml"
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    bomb.write_text("\n".join(lines) + "\n")
    with pytest.raises(SimInputError, match="alias"):
        sim.load(bomb)


def test_top_level_must_be_mapping(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(SimInputError, match="mapping"):
        sim.load(path)


def test_defaults_are_filled():
    scenario = toy_scenario()
    server = scenario.spec.servers[0]
    assert server.service_variability.kind == "deterministic"
    assert scenario.spec.devices[0].policy == "compare"
    assert scenario.spec.outputs.plots is True
