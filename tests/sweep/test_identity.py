"""Run ids: what changes results changes the id; what does not, does not."""

from __future__ import annotations

import shutil

import yaml

import sim
from sim.sweep.identity import run_id, scenario_key
from tests.conftest import PROFILES, toy_scenario, toy_spec
from tests.sweep.conftest import small_scenario


def test_same_scenario_same_key_and_ids_differ_by_seed():
    a, b = small_scenario(), small_scenario()
    assert scenario_key(a) == scenario_key(b)
    assert len(scenario_key(a)) == 16
    assert run_id(scenario_key(a), 1) != run_id(scenario_key(a), 2)
    assert run_id(scenario_key(a), 1) == run_id(scenario_key(b), 1)


def test_values_that_change_results_change_the_key():
    base = scenario_key(small_scenario())
    assert scenario_key(small_scenario("devices.pi.count=3")) != base
    assert scenario_key(small_scenario("servers.gpu0.background.0.rate_hz=151")) != base
    assert scenario_key(small_scenario(), ["local"]) != base  # fewer strategies run


def test_spelling_description_and_seed_do_not():
    base = scenario_key(small_scenario())
    assert scenario_key(small_scenario("cells.enb.uplink.rate_bps=23000000")) == base
    assert scenario_key(small_scenario("description=another text")) == base
    assert scenario_key(small_scenario("seed=99")) == base  # the run's seed is hashed apart
    with_block = small_scenario("sweep={grid: {devices.pi.count: [1, 2]}}")
    assert scenario_key(with_block) == base


def test_profile_contents_count_not_only_their_names(tmp_path):
    copy = tmp_path / "toy_server.yaml"
    shutil.copy(PROFILES / "toy_server.yaml", copy)
    original = scenario_key(toy_scenario(servers__0__profile=str(copy)))
    text = copy.read_text()
    assert "0.008" in text
    copy.write_text(text.replace("0.008", "0.009", 1))  # a slower GPU, same file name
    changed = scenario_key(toy_scenario(servers__0__profile=str(copy)))
    assert changed != original


def test_key_survives_a_round_trip_through_yaml_text():
    scenario = sim.loads(yaml.safe_dump(toy_spec()), base_dir=PROFILES.parent.parent)
    rebuilt = scenario.with_overrides([])
    assert scenario_key(rebuilt) == scenario_key(scenario)
