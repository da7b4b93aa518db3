"""The allowed keys and kinds in an error come from the models' own fields, at any depth."""

from __future__ import annotations

import pytest

from sim.errors import SimInputError
from sim.profiles.schema import ModelProfile
from sim.scenario.schema import ScenarioSpec
from sim.validation import validate_data
from sim.yamlio import read_yaml
from tests.conftest import REPO


def _error(model, data) -> str:
    with pytest.raises(SimInputError) as info:
        validate_data(model, data, file="f.yaml")
    return str(info.value)


def test_a_misspelt_key_in_a_named_strategy_lists_that_kind_s_fields():
    data = read_yaml(REPO / "scenarios" / "policy_congested.yaml").data
    data["strategies"]["adaptive"]["switch_margn"] = 0.1
    err = _error(ScenarioSpec, data)
    assert (
        "key 'strategies.adaptive.switch_margn': unknown key (did you mean 'switch_margin'?)" in err
    )
    # adaptive's own fields, not another strategy kind's (static_optimum has server_wait_s)
    assert "ewma_alpha" in err and "server_wait_s" not in err


def test_a_dict_of_kinds_says_its_entries_are_named():
    data = read_yaml(REPO / "sim" / "profiles" / "data" / "models" / "densenet169.yaml").data
    data["variants"] = 5
    err = _error(ModelProfile, data)
    assert "a mapping of names to mappings with 'kind': bottlefit, autoencoder" in err


def test_a_dict_of_models_is_not_described_by_its_entries_keys():
    data = read_yaml(REPO / "sim" / "profiles" / "data" / "models" / "densenet169.yaml").data
    data["exits"] = 5
    err = _error(ModelProfile, data)
    assert "allowed: a mapping of keys to values" in err and "flops_fraction" not in err


def test_cross_references_are_checked_by_the_spec_itself_with_their_line(tmp_path):
    """A group's unknown cell is refused by ScenarioSpec's validator, naming key and line."""
    source = REPO / "scenarios" / "policy_congested.yaml"
    doc = read_yaml(source)
    data = doc.data
    data["devices"][0]["cell"] = data["cells"][0]["name"] + "x"
    with pytest.raises(SimInputError) as info:
        validate_data(ScenarioSpec, data, file="f.yaml", doc=doc)
    err = info.value
    assert err.key == "devices.0.cell" and err.line == doc.line_of(("devices", 0, "cell"))
    assert err.line is not None
    assert f"unknown cell (did you mean '{data['cells'][0]['name']}'?)" in str(err)
