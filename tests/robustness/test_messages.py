"""Error messages blame the right thing (issue 13): the override a value came from, the
key that makes a scenario too large, the keys a mapping allows, a symlink loop."""

from __future__ import annotations

import os

import pytest

import sim
from sim.cli import main
from sim.errors import SimInputError
from tests.conftest import REPO

SCENARIO = REPO / "scenarios" / "congested_lte.yaml"


def error_of(args: list[str], capsys) -> str:
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("devices.pi.workload.fps=-1", "devices.0.workload.fps"),
        ("devices.0.workload={kind: poisson, rate_hz: -2}", "devices.0.workload.rate_hz"),
        ("name=..", "name"),
        ("cells.enb.downlink_bps=0", "cells.0.downlink_bps"),
    ],
)
def test_a_bad_set_value_is_blamed_on_the_set(override, key, capsys):
    err = error_of(["validate", str(SCENARIO), "--set", override], capsys)
    assert err.startswith(f"error: --set: key '{key}'"), err
    assert "congested_lte.yaml" not in err


def test_a_bad_seed_option_is_blamed_on_the_option(capsys):
    err = error_of(["run", str(SCENARIO), "--seed", "-1"], capsys)
    assert err.startswith("error: --seed: key 'seed'"), err


def test_a_bad_value_in_the_file_still_names_its_line(tmp_path, capsys):
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO.read_text().replace("warmup_s: 5", "warmup_s: -5"))
    err = error_of(["validate", str(path)], capsys)
    assert "s.yaml:12: key 'warmup_s'" in err


def test_with_overrides_blames_the_override():
    scenario = sim.load(SCENARIO)
    with pytest.raises(SimInputError, match=r"^with_overrides: key 'duration_s'"):
        scenario.with_overrides(["duration_s=-1"])


def test_a_huge_count_blames_the_count(capsys):
    err = error_of(["validate", str(SCENARIO), "--set", "devices.0.count=100000000"], capsys)
    assert "key 'devices.0.count'" in err and "duration_s'" not in err


@pytest.mark.parametrize(
    ("override", "allowed"),
    [
        ("servers.0.batching=[1]", "a mapping with keys max_batch, max_wait_s"),
        ("devices.0.workload=5", "a mapping with 'kind': periodic, poisson, on_off, timestamps"),
        ("cells.0.uplink=fast", "'kind': constant, series, trace, markov"),
    ],
)
def test_not_a_mapping_lists_what_is_allowed(override, allowed, capsys):
    err = error_of(["validate", str(SCENARIO), "--set", override], capsys)
    assert "not a mapping" in err and allowed in err, err


def test_a_symlink_loop_is_not_file_not_found(tmp_path, capsys):
    loop = tmp_path / "loop.yaml"
    os.symlink(loop, loop)
    err = error_of(["validate", str(loop)], capsys)
    assert "symbolic link loop" in err and "not found" not in err
    bare = tmp_path / "scenario"
    os.symlink(bare, bare)
    err = error_of(["validate", str(bare)], capsys)
    assert "symbolic link loop" in err


def test_a_broken_link_says_where_it_points(tmp_path, capsys):
    link = tmp_path / "s.yaml"
    os.symlink(tmp_path / "gone.yaml", link)
    err = error_of(["validate", str(link)], capsys)
    assert "broken symbolic link" in err and "gone.yaml" in err


def test_a_bad_sweep_value_names_the_point(tmp_path, capsys):
    err = error_of(
        ["sweep", str(SCENARIO), "--grid", "devices.pi.count=2,-1", "--out", str(tmp_path / "s")],
        capsys,
    )
    assert "sweep point 1" in err and "devices.0.count" in err
    assert not (tmp_path / "s").exists()


def test_validate_checks_a_sweep_file_and_every_point(tmp_path, capsys):
    good = REPO / "scenarios" / "sweeps" / "grid_3x3.yaml"
    assert main(["validate", str(good), "--no-preflight"]) == 0
    assert "sweep of 9 points x 5 replications" in capsys.readouterr().out
    bad = tmp_path / "sw.yaml"
    bad.write_text(f"scenario: {SCENARIO}\ngrid: {{devices.pi.count: [2, -1]}}\n")
    err = error_of(["validate", str(bad), "--no-preflight"], capsys)
    assert "sweep point 1" in err


@pytest.mark.parametrize(
    ("value", "needle"), [("local,local", "named twice"), ("locl", "did you mean 'local'")]
)
def test_strategies_option_is_checked_before_the_run(value, needle, tmp_path, capsys):
    err = error_of(["run", str(SCENARIO), "--strategies", value, "--no-preflight",
                    "--out", str(tmp_path / "o")], capsys)  # fmt: skip
    assert err.startswith("error: --strategies") and needle in err
    assert not (tmp_path / "o").exists()
