"""The static optimum plans split point and server jointly under least_latency selection:
its choice is the brute-force minimum over every (plan, server) pair simulated one by one."""

from __future__ import annotations

import math

import pytest

import sim
from sim.metrics import latency_s
from sim.plans import variant_names
from sim.scenario.load import build_scenario
from tests.conftest import REPO
from tests.policies.conftest import one_device_spec

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _spec(selection: dict, compare: list, rate_bps: float) -> dict:
    """One device; 'near' (FP32, batches of 8 after a 30 ms window: a lone job waits 30 ms)
    and 'far' (FP16, batch 1, 6 ms farther each way)."""
    spec = one_device_spec(
        uplink={"kind": "constant", "rate_bps": rate_bps}, compare=compare, drain_s=2.0
    )
    spec["network"] = {
        "links": [
            {"a": "ap", "b": "near", "latency_s": 0.002},
            {"a": "ap", "b": "far", "latency_s": 0.008},
        ]
    }
    spec["servers"] = [
        {
            "name": "near",
            "node": "near",
            "profile": "h100_eager_pytorch",
            "batching": {"max_batch": 8, "max_wait_s": 0.03},
        },
        {"name": "far", "node": "far", "profile": "h100_eager_pytorch_fp16"},
    ]
    spec["devices"][0]["selection"] = selection
    return spec


def _scenario(selection: dict, compare: list, rate_bps: float):
    return build_scenario(_spec(selection, compare, rate_bps), REPO / "tests" / "joint.yaml")


@pytest.mark.parametrize("rate_bps", [2.0e6, 50.0e6])
def test_joint_static_optimum_is_the_brute_force_pair(rate_bps):
    probe = _scenario({"policy": "least_latency"}, ["local"], rate_bps)
    variants = [v for v in variant_names(probe.groups[0].model) if v != "full"]
    fixed = ["local", "offload", *variants]
    measured: dict[tuple[str, str | None], float] = {}
    for server in ("near", "far"):
        scenario = _scenario({"policy": "fixed", "server": server}, fixed, rate_bps)
        requests = sim.run(scenario).requests
        means = requests.assign(latency=latency_s(requests)).groupby("strategy", observed=True)
        for label, latency in means["latency"].mean().items():
            plan = scenario.factory("dev", label).plans[0]
            measured[(plan.name, None if plan.kind == "local" else server)] = float(latency)
    joint = _scenario({"policy": "least_latency"}, ["static_optimum"], rate_bps)
    choice = joint.factory("dev", "static_optimum").make(0).choice
    predicted = {(e.plan.name, e.server): e.latency_s for e in choice.ranking}
    assert set(predicted) == set(measured)  # every pair, local once
    for pair, value in measured.items():
        if math.isfinite(predicted[pair]):
            assert predicted[pair] == pytest.approx(value, rel=1e-9), pair
    best_pair = min(measured, key=measured.get)
    assert (choice.chosen.plan.name, choice.server) == best_pair
    # The requests follow: least_latency sends them to the pair's server.
    run = sim.run(joint).requests
    served = run[run["t_server_arrival"].notna()]
    if best_pair[1] is not None:
        assert set(served["server"].astype(str)) == {best_pair[1]}


def test_other_selections_plan_on_the_planning_server():
    """Under any selection but least_latency the static optimum predicts on one server:
    the fixed one or the nearest candidate (as before selection existed)."""
    for selection, server in (
        ({"policy": "random"}, "near"),
        ({"policy": "fixed", "server": "far"}, "far"),
        ({"policy": "jsq", "servers": ["far"]}, "far"),
    ):
        scenario = _scenario(selection, ["static_optimum"], 10.0e6)
        choice = scenario.factory("dev", "static_optimum").make(0).choice
        assert {e.server for e in choice.ranking} - {None} == {server}
