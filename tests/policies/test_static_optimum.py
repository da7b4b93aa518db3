"""The static optimum against brute force: every split point and C simulated one by one."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.errors import SimInputError
from sim.metrics import finished, latency_s
from sim.plans import variant_names
from tests.policies.conftest import one_device

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _brute_force(device: str, model: str, rate_bps: float, static: list[dict], radio: str):
    """Simulate every plan of the model as a fixed strategy, plus the static optimum configs."""
    probe = one_device(device=device, model=model)
    variants = variant_names(probe.groups[0].model)
    fixed = ["local", "offload", *[v for v in variants if v != "full"]]
    scenario = one_device(
        device=device,
        model=model,
        uplink={"kind": "constant", "rate_bps": rate_bps},
        compare=[*fixed, *static],
        radio=radio,
        drain_s=2.0,  # a plan busier than the 3 s between frames leaves its last one unfinished
        # The window outlasts the last request's radio tail (LTE: 11.6 s), which is charged only
        # up to the window's end; the expectation lets the last tail run in full.
        duration_s=9.5 + 15.0,
    )
    results = sim.run(scenario)
    requests = results.requests
    per_request = requests.assign(
        latency=latency_s(requests), energy=requests["e_compute_j"] + requests["e_radio_j"]
    )
    means = per_request.groupby("strategy", observed=True)[["latency", "energy"]].mean()
    # A plan whose payloads outlast the gap between frames never catches up: infinite.
    # (Judged at 12.5 s, the end of a run of 10.5 s + 2 s drain.)
    done = finished(requests[requests["t_done"] <= 12.5]).groupby("strategy", observed=True).size()
    total = requests.groupby("strategy", observed=True).size()
    unstable = total.index[done.reindex(total.index, fill_value=0) < total]
    means.loc[unstable, :] = math.inf
    return scenario, results, fixed, means


@pytest.mark.parametrize(
    ("device", "model", "rate_bps", "radio"),
    [
        ("jetson_nano", "resnet152", 0.2e6, "wifi"),
        ("jetson_nano", "resnet152", 5.0e6, "wifi"),
        ("raspberry_pi4", "densenet169", 1.0e6, "lte"),
        ("raspberry_pi4", "densenet169", 2.0e9, "wifi"),
    ],
)
def test_static_optimum_is_the_brute_force_minimum(device, model, rate_bps, radio):
    static = [
        {"kind": "static_optimum", "name": "static_latency"},
        {"kind": "static_optimum", "name": "static_energy", "objective": "energy"},
        {"kind": "static_optimum", "name": "static_floor", "min_accuracy": 0.745},
    ]
    scenario, results, fixed, means = _brute_force(device, model, rate_bps, static, radio)
    # Predictions are exact on a constant channel with an idle server.
    choice = scenario.factory("dev", "static_latency").make(0).choice
    predicted = {e.plan.name: e for e in choice.ranking}
    for label in fixed:
        plan = scenario.factory("dev", label).plans[0]
        simulated = means.loc[label]
        if math.isinf(simulated["latency"]):
            assert math.isinf(predicted[plan.name].latency_s), label
            continue
        assert predicted[plan.name].latency_s == pytest.approx(simulated["latency"], rel=1e-9)
        assert predicted[plan.name].energy_j == pytest.approx(simulated["energy"], rel=1e-9)
    # The static choice is the brute-force minimum, with and without the accuracy floor.
    plans = {label: scenario.factory("dev", label).plans[0] for label in fixed}
    fixed_means = means.loc[fixed]
    for label, column, floor in (
        ("static_latency", "latency", 0.0),
        ("static_energy", "energy", 0.0),
        ("static_floor", "latency", 0.745),
    ):
        allowed = [f for f in fixed if plans[f].accuracy >= floor]
        brute = fixed_means.loc[allowed, column].idxmin()
        chosen = scenario.factory("dev", label).plans[0].name
        assert chosen == plans[brute].name, (label, chosen, brute)
        assert means.loc[label, column] == pytest.approx(fixed_means.loc[brute, column], rel=1e-12)
    # The policy reports what it predicted.
    stats = results.devices.set_index("strategy")
    assert stats.loc["static_latency", "policy_predicted_latency_s"] == pytest.approx(
        means.loc["static_latency", "latency"], rel=1e-9
    )


def test_static_optimum_moves_from_local_to_split_with_the_rate():
    """Slow link: compute locally; fast link: a BottleFit split (the smallest C without a floor)."""
    chosen = {}
    for rate in (0.01e6, 50e6):
        scenario = one_device(
            uplink={"kind": "constant", "rate_bps": rate}, compare=["static_optimum"]
        )
        chosen[rate] = scenario.factory("dev", "static_optimum").plans[0].name
    assert chosen[0.01e6] == "local"
    assert chosen[50e6].startswith("bottlefit_c")


def test_static_optimum_uses_the_mean_of_a_markov_channel():
    uplink = {"kind": "markov", "rates_bps": [10.0e6, 0.0], "mean_sojourn_s": [3.0, 1.0]}
    scenario = one_device(uplink=uplink, compare=["static_optimum"])
    policy = scenario.factory("dev", "static_optimum").make(0)
    assert policy.choice.rate_bps == pytest.approx(7.5e6)
    assert policy.stats()["planned_rate_bps"] == pytest.approx(7.5e6)


def test_static_optimum_infeasible_device_load_is_infinite():
    """Frames faster than the device can compute them: local is predicted unstable (inf)."""
    times = list(np.arange(0.0, 3.0, 0.1))  # 10 fps against a ~0.2 s local ResNet-152
    scenario = one_device(times_s=times, compare=["static_optimum"])
    choice = scenario.factory("dev", "static_optimum").make(0).choice
    local = next(e for e in choice.ranking if e.plan.name == "local")
    assert math.isinf(local.latency_s)
    assert choice.chosen.plan.kind != "local"


def test_unknown_candidate_names_its_key():
    with pytest.raises(SimInputError) as err:
        one_device(compare=[{"kind": "static_optimum", "candidates": ["local", "bottlefit_c7"]}])
    assert err.value.key == "compare.0.candidates.1"
    assert "bottlefit_c6" in str(err.value)
