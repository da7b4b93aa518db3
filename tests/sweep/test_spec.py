"""What a sweep varies: grid, zip, random samples, seeds; and the errors for bad sweeps."""

from __future__ import annotations

import pytest

import sim
from sim.errors import SimInputError
from sim.rng import replication_seeds
from sim.sweep.cli import parse_assignment, parse_random, split_values
from sim.sweep.expand import expand_points, sweep_seeds
from sim.sweep.identity import scenario_key
from sim.sweep.plan import plan_sweep, point_scenario
from sim.sweep.runner import merge_spec, open_target
from sim.sweep.spec import SweepSpec
from tests.conftest import REPO
from tests.sweep.conftest import RATE_KEY, SCENARIO, SMALL


def spec(**data) -> SweepSpec:
    return SweepSpec.model_validate(data)


def test_grid_is_a_product_first_key_slowest():
    points = expand_points(spec(grid={"a": [1, 2], "b": ["x", "y", "z"]}), 0)
    assert [p.params for p in points] == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 2, "b": "z"},
    ]
    assert [p.index for p in points] == list(range(6))


def test_zip_walks_keys_together_and_combines_with_the_grid():
    s = spec(grid={"a": [1, 2]}, zip={"b": [10, 20, 30], "c": ["p", "q", "r"]})
    params = [p.params for p in expand_points(s, 0)]
    assert len(params) == 6
    assert params[:3] == [
        {"a": 1, "b": 10, "c": "p"},
        {"a": 1, "b": 20, "c": "q"},
        {"a": 1, "b": 30, "c": "r"},
    ]


def test_no_dimension_is_one_baseline_point():
    points = expand_points(spec(replications=3), 0)
    assert len(points) == 1 and points[0].params == {} and points[0].label == "baseline"


def test_random_samples_are_seeded_bounded_and_independent_per_key():
    random = {
        "samples": 50,
        "seed": 3,
        "params": {
            "u": {"kind": "uniform", "low": 1.0, "high": 2.0},
            "l": {"kind": "loguniform", "low": 1e3, "high": 1e6},
            "i": {"kind": "integers", "low": 1, "high": 4},
            "c": {"kind": "choice", "values": ["a", "b"]},
        },
    }
    first = [p.params for p in expand_points(spec(random=random), 0)]
    again = [p.params for p in expand_points(spec(random=random), 0)]
    assert first == again and len(first) == 50
    assert all(1.0 <= p["u"] < 2.0 and 1e3 <= p["l"] <= 1e6 for p in first)
    assert {p["i"] for p in first} == {1, 2, 3, 4}
    assert {p["c"] for p in first} == {"a", "b"}
    # Dropping a key leaves the other keys' draws unchanged (one named stream per key).
    fewer = dict(random, params={"u": random["params"]["u"]})
    assert [p.params["u"] for p in expand_points(spec(random=fewer), 0)] == [p["u"] for p in first]
    other_seed = dict(random, seed=4)
    assert [p.params for p in expand_points(spec(random=other_seed), 0)] != first


def test_seeds_are_explicit_and_derived_from_the_base_seed():
    assert sweep_seeds(spec(replications=4), 7) == replication_seeds(7, 4)
    assert sweep_seeds(spec(seeds=[5, 9]), 7) == [5, 9]
    assert spec(seeds=[5, 9]).replication_count == 2


def test_more_replications_keep_the_earlier_seeds_and_run_ids(small):
    three = plan_sweep(small, spec(replications=3))
    five = plan_sweep(small, spec(replications=5))
    assert five.seeds[:3] == three.seeds
    assert [r.run_id for r in five.runs[:3]] == [r.run_id for r in three.runs]


def test_exponent_numbers_without_a_dot_are_numbers():
    # YAML 1.1 reads 1e6 as a string; a sweep axis of strings would not plot.
    s = spec(grid={RATE_KEY: ["1e6", "2.5E+6", 3]}, zip={"k": ["1e3", "x"]})
    assert s.grid[RATE_KEY] == [1e6, 2.5e6, 3]
    assert s.zipped[0]["k"] == [1e3, "x"]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"grid": {"a": []}}, "no values"),
        ({"grid": {"a": [1]}, "zip": {"a": [1]}}, "swept twice"),
        ({"zip": {"a": [1, 2], "b": [1]}}, "equal length"),
        ({"grid": {"seed": [1, 2]}}, "cannot be swept"),
        ({"grid": {"sweep.replications": [1, 2]}}, "cannot be swept"),
        ({"grid": {"bad key": [1]}}, "not a dotted key"),
        ({"replications": 0}, "out of range"),
        ({"seeds": [1, 1]}, "seeds repeat"),
        ({"seeds": [1, 2], "replications": 3}, "differs"),
        (
            {"random": {"samples": 2, "params": {"a": {"kind": "uniform", "low": 2, "high": 1}}}},
            "less than high",
        ),
        (
            {
                "random": {
                    "samples": 2,
                    "params": {"a": {"kind": "loguniform", "low": 0, "high": 1}},
                }
            },
            "low > 0",
        ),
        ({"random": {"samples": 2, "params": {"a": {"kind": "choice"}}}}, "needs values"),
        ({"grdi": {"a": [1]}}, "unknown key"),
    ],
)
def test_bad_sweeps_are_one_line_errors(data, problem):
    with pytest.raises(SimInputError) as err:
        merge_spec(data)
    assert problem in str(err.value)
    assert "\n" not in str(err.value)


def test_a_bad_value_names_the_sweep_point(small):
    bad = spec(grid={RATE_KEY: [1e6, -5]})
    with pytest.raises(SimInputError) as err:
        plan_sweep(small, bad)
    text = str(err.value)
    assert "cells.0.uplink.rate_bps" in text and "sweep point 1" in text and "> 0" in text


def test_unknown_strategy_and_points_that_do_not_change_anything(small):
    with pytest.raises(SimInputError, match="unknown strategy"):
        plan_sweep(small, spec(strategies=["local", "teleport"]))
    with pytest.raises(SimInputError, match="same scenario"):
        plan_sweep(small, spec(grid={"description": ["a", "b"]}))


def test_inline_sweep_block_in_a_scenario(tmp_path):
    text = SCENARIO.read_text() + (
        "\nsweep:\n"
        f"  grid: {{{RATE_KEY}: [5.0e6, 20.0e6]}}\n"
        "  replications: 2\n"
        "  strategies: [local, bottlefit_c12]\n"
    )
    path = tmp_path / "with_sweep.yaml"
    path.write_text(text.replace("name: sweep_small", "name: inline"))
    scenario, file_spec, out = open_target(path, SMALL)
    assert file_spec is not None and file_spec.replications == 2
    plan = plan_sweep(scenario, file_spec)
    assert len(plan.runs) == 4 and plan.strategies == ("local", "bottlefit_c12")
    assert out.name == "inline"
    # 'sim run' ignores the block; a bad block is an error like any other key.
    path.write_text(text.replace("replications: 2", "replicatoins: 2"))
    with pytest.raises(SimInputError, match=r"sweep\.replicatoins.*did you mean 'replications'"):
        sim.load(path)


def test_sweep_file_names_its_scenario_and_base_overrides(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text(
        f"scenario: {SCENARIO}\n"
        "set: [duration_s=3, warmup_s=0.5, devices.pi.count=2]\n"
        f"zip: {{{RATE_KEY}: [5.0e6, 20.0e6], devices.pi.deadline_s: [0.5, 0.6]}}\n"
        "seeds: [11, 12, 13]\n"
    )
    scenario, file_spec, out = open_target(path, ["devices.pi.count=3"])
    assert scenario.spec.duration_s == 3 and scenario.spec.devices[0].count == 3
    assert out.name == "mine"
    plan = plan_sweep(scenario, file_spec)
    assert len(plan.points) == 2 and plan.seeds == (11, 12, 13)


@pytest.mark.parametrize(
    "path", sorted((REPO / "scenarios" / "sweeps").glob("*.yaml")), ids=lambda p: p.stem
)
def test_shipped_sweep_files_expand_and_their_extreme_points_load(path):
    scenario, file_spec, _ = open_target(path)
    points = expand_points(file_spec, scenario.spec.seed)
    assert len(points) * file_spec.replication_count >= 9
    # Resolving all points costs ~0.5 s each: the extreme ones, which must differ from each
    # other (the sweep varies something the resolved scenario sees) when they are two.
    first, last = (point_scenario(scenario, p) for p in (points[0], points[-1]))
    if len(points) > 1:
        assert scenario_key(first) != scenario_key(last)
    else:
        assert scenario_key(first) == scenario_key(scenario)


def test_command_line_values():
    assert split_values("1, [2,3] ,{a: 1, b: 2},'x,y'") == ["1", "[2,3]", "{a: 1, b: 2}", "'x,y'"]
    assert parse_assignment("a.b=1e6,2.5,x,[1,2]", "--grid") == ("a.b", [1e6, 2.5, "x", [1, 2]])
    assert parse_random("a=uniform:1:5") == ("a", {"kind": "uniform", "low": 1.0, "high": 5.0})
    assert parse_random("a=choice:1|x") == ("a", {"kind": "choice", "values": [1, "x"]})
    for bad in ("a", "a=", "seed=1,2", "a=1,,2"):
        with pytest.raises(SimInputError):
            parse_assignment(bad, "--grid")


def test_command_line_keys_replace_the_files_use_of_them():
    base = spec(grid={"a": [1, 2], "b": [3]}, zip={"c": [1, 2], "d": [3, 4]}, replications=4)
    merged = merge_spec(base, grid={"c": [9]}, replications=2)
    assert merged.grid == {"a": [1, 2], "b": [3], "c": [9]}
    assert merged.zipped == [{"d": [3, 4]}]
    assert merged.replications == 2
