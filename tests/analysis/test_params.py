"""Parsing what a study varies and reads: parameters, metrics, objectives, constraints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.analysis.metrics import parse_constraint, parse_objective, resolve_metric
from sim.analysis.params import Choice, Range, check_params, overrides, parse_param
from sim.analysis.plots import pareto_mask
from sim.errors import SimInputError
from tests.conftest import toy_scenario


def test_param_forms():
    assert parse_param("a.b=1:10:log") == Range("a.b", 1.0, 10.0, log=True)
    assert parse_param("a.b=1:10:int:log") == Range("a.b", 1.0, 10.0, log=True, integer=True)
    assert parse_param("a.b=x,[1, 2],3") == Choice("a.b", ("x", [1, 2], 3))
    assert parse_param("strategy=local,offload") == Choice("strategy", ("local", "offload"))
    assert parse_param("a.b=1e6:2e6").high == 2e6


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a.b=5:1", "LOW must be less than HIGH"),
        ("a.b=1:1", "LOW must be less than HIGH"),
        ("a.b=0:1:log", "LOW > 0"),
        ("a.b=1.5:3:int", "whole-number bounds"),
        ("a.b=1:2:cube", "expected"),
        ("a.b=x:y", "bounds must be numbers"),
        ("a.b=nan:1", "finite"),
        ("a.b=only", "expected"),
        ("a.b=x,x", "repeat"),
        ("seed=1:2", "cannot be swept"),
        ("=1:2", "expected"),
    ],
)
def test_bad_params(text: str, message: str):
    with pytest.raises(SimInputError, match=message):
        parse_param(text)


def test_params_checked_against_the_scenario():
    scenario = toy_scenario()
    check_params(scenario, [parse_param("cells.ap.uplink.rate_bps=1e5:1e6")])
    with pytest.raises(SimInputError, match="did you mean"):
        check_params(scenario, [parse_param("cells.ap.uplink.rate_bsp=1e5:1e6")])
    with pytest.raises(SimInputError, match="given twice"):
        check_params(scenario, [parse_param("devices.dev.count=1:2")] * 2)
    with pytest.raises(SimInputError):  # a count of 0 devices is no scenario
        check_params(scenario, [parse_param("devices.dev.count=0:2:int")])
    with pytest.raises(SimInputError):
        check_params(scenario, [parse_param("strategy=bottlefit_c2,no_such_variant")])


def test_point_overrides():
    params = [Range("a.b", 1, 4, integer=True), Choice("strategy", ("local", "offload"))]
    assert overrides(params, [2.6, "offload"]) == {"a.b": 3, "compare": ["offload"]}


def test_metric_names():
    assert resolve_metric("latency_p95") == "latency_p95_s"
    assert resolve_metric("deadline_miss_rate") == "deadline_miss_rate"
    with pytest.raises(SimInputError, match="could be"):
        resolve_metric("latency")  # mean, p50, p95, p99
    with pytest.raises(SimInputError, match="unknown metric"):
        resolve_metric("no_such_metric")


def test_objectives_and_constraints():
    assert parse_objective("latency_p95").maximise is False
    assert parse_objective("accuracy").maximise is True
    assert parse_objective("min:accuracy").maximise is False
    c = parse_constraint("deadline_miss_rate<=0.05")
    assert (c.metric, c.upper, c.bound) == ("deadline_miss_rate", True, 0.05)
    assert c.violation(0.04) < 0 < c.violation(0.06)
    assert math.isinf(c.violation(math.nan))  # a metric that could not be measured fails
    low = parse_constraint("accuracy >= 0.7")
    assert low.violation(0.75) < 0 < low.violation(0.65)
    for bad in ("deadline_miss_rate<0.05", "deadline_miss_rate<=x", "x<=1"):
        with pytest.raises(SimInputError):
            parse_constraint(bad)


def test_pareto_mask_by_hand():
    # (cost, value): minimise the first, maximise the second.
    points = np.array([[1.0, 1.0], [2.0, 3.0], [2.0, 2.0], [3.0, 3.0], [0.5, 0.5], [np.nan, 9]])
    mask = pareto_mask(points, [False, True])
    assert mask.tolist() == [True, True, False, False, True, False]
