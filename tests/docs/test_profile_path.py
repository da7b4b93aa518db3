"""A user's profile folder found by name: scenario key profile_path and $SPLITSIM_PROFILE_PATH."""

from __future__ import annotations

import shutil

import pytest

from sim.errors import SimInputError
from sim.scenario.load import build_scenario
from tests.conftest import PROFILES, REPO, toy_spec


@pytest.fixture
def board_folder(tmp_path):
    folder = tmp_path / "my_board"
    (folder / "devices").mkdir(parents=True)
    text = (PROFILES / "toy_device.yaml").read_text()
    (folder / "devices" / "my_board.yaml").write_text(
        text.replace("name: toy_device", "name: my_board")
    )
    return folder


def _spec(**extra):
    spec = toy_spec(devices__0__device="my_board")
    spec.update(extra)
    return spec


def test_scenario_key_profile_path(board_folder, monkeypatch):
    monkeypatch.delenv("SPLITSIM_PROFILE_PATH", raising=False)
    scenario = build_scenario(_spec(profile_path=[str(board_folder)]), REPO / "tests" / "t.yaml")
    assert scenario.groups[0].device.name == "my_board"
    # relative to the scenario file
    relative = build_scenario(_spec(profile_path=["my_board"]), board_folder.parent / "s.yaml")
    assert relative.groups[0].device == scenario.groups[0].device


def test_environment_variable(board_folder, monkeypatch):
    monkeypatch.setenv("SPLITSIM_PROFILE_PATH", str(board_folder))
    scenario = build_scenario(_spec(), REPO / "tests" / "t.yaml")
    assert scenario.groups[0].device.models


def test_scenario_path_comes_before_the_environment(board_folder, tmp_path, monkeypatch):
    other = tmp_path / "other"
    shutil.copytree(board_folder, other)
    profile = other / "devices" / "my_board.yaml"
    profile.write_text(profile.read_text().replace("value: 5.0", "value: 7.0"))
    monkeypatch.setenv("SPLITSIM_PROFILE_PATH", str(board_folder))
    scenario = build_scenario(_spec(profile_path=[str(other)]), REPO / "tests" / "t.yaml")
    assert scenario.groups[0].device.power.compute_w.value == 7.0


def test_unknown_name_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.setenv("SPLITSIM_PROFILE_PATH", str(tmp_path))
    with pytest.raises(SimInputError) as err:
        build_scenario(_spec(), REPO / "tests" / "t.yaml")
    message = str(err.value)
    assert "my_board" in message and str(tmp_path) in message and "SPLITSIM_PROFILE_PATH" in message


def test_profiles_command_lists_and_shows_a_profile_on_the_path(board_folder, monkeypatch, capsys):
    from sim.cli import main

    monkeypatch.setenv("SPLITSIM_PROFILE_PATH", str(board_folder))
    assert main(["profiles", "device"]) == 0
    assert "my_board" in capsys.readouterr().out
    assert main(["profiles", "device", "my_board"]) == 0
    assert str(board_folder / "devices" / "my_board.yaml") in capsys.readouterr().out
