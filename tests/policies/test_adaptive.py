"""The adaptive policy on scripted channels: link down, step changes, hysteresis, constraints."""

from __future__ import annotations

import math

import numpy as np
import pytest

import sim
from sim.plans import Plan
from sim.policies.base import Feedback
from sim.policies.estimators import DeviceEstimates, ewma_after, samples_to_converge
from tests.policies.conftest import one_device

GOOD_BPS = 20.0e6


def _adaptive(**settings) -> dict:
    return {
        "kind": "adaptive",
        "candidates": ["local", "bottlefit_c12"],
        "ewma_alpha": 0.5,
        **settings,
    }


def _threshold_bps(scenario, label: str = "adaptive") -> float:
    """Rate below which the policy's own model prefers local to bottlefit_c12 [bit/s]."""
    policy = scenario.factory("dev", label).make(0)
    local = policy.model.costs["local"]
    split = policy.model.costs["bottlefit_c12"]
    fixed = (
        split.plan.device_s
        + split.to_server_s
        + policy.estimates.server_wait_s
        + split.service_s
        + split.back_s
    )
    return split.bits / (local.plan.device_s - fixed)


def _lag_samples(start: float, target: float, alpha: float, threshold: float) -> int:
    """Samples of ``target`` until an EWMA from ``start`` falls below ``threshold``."""
    k = 0
    while ewma_after(start, target, alpha, k) >= threshold:
        k += 1
    return k


def test_local_when_the_link_is_down_split_when_it_is_good():
    """20 Mbit/s, then no link for 10 s (transfers time out), then 20 Mbit/s again."""
    times = list(np.arange(0.25, 40.0, 0.5))
    uplink = {
        "kind": "series",
        "times_s": [0.0, 10.0, 20.0],
        "rates_bps": [GOOD_BPS, 0.0, GOOD_BPS],
        "period_s": 40.0,
    }
    scenario = one_device(
        uplink=uplink,
        times_s=times,
        compare=[_adaptive(probe_after_s=1.0, initial_rate_bps=GOOD_BPS)],
        timeout_s=0.3,
        deadline_s=1.0,
    )
    results = sim.run(scenario)
    req = results.requests.sort_values("t_arrival")
    arrival = req["t_arrival"].to_numpy()
    variant = req["variant"].astype(str).to_numpy()
    outcome = req["outcome"].astype(str).to_numpy()

    # Good link: every request is split.
    assert (variant[arrival < 10.0] == "bottlefit_c12").all()
    # Down: each timed-out transfer is a goodput sample of 0; the EWMA halves per sample
    # and the policy goes local after exactly the number of samples that takes.
    k = _lag_samples(GOOD_BPS, 0.0, 0.5, _threshold_bps(scenario))
    down = (arrival >= 10.0) & (arrival < 20.0)
    first = variant[down]
    assert (first[:k] == "bottlefit_c12").all()
    assert first[k] == "local"
    assert (outcome[down][:k] == "failed").all()
    # Afterwards it computes locally, but for probes at most one per probe_after_s.
    later = down & (arrival >= arrival[down][k])
    probes = arrival[later & (variant != "local")]
    assert (variant[later] == "local").mean() >= 0.5
    assert (np.diff(probes) >= 1.0 - 1e-9).all()
    # The link is back at 20 s: the first probe after it restores the estimate; split again.
    back = arrival >= 21.5
    assert (variant[back] == "bottlefit_c12").all()
    assert (outcome[back] == "completed").all()
    # Every remote request between going local and the estimate's recovery was a probe.
    probing = (arrival >= arrival[down][k]) & (arrival < 21.0) & (variant != "local")
    assert results.devices.iloc[0]["policy_probes"] == probing.sum() >= len(probes)


@pytest.mark.parametrize("alpha", [0.5, 0.2])
def test_estimate_lags_a_step_change_as_its_ewma_implies(alpha):
    """20 -> 0.2 Mbit/s at 10 s; transfers still finish. Split until the EWMA crosses over."""
    low = 0.2e6
    times = list(np.arange(0.5, 40.0, 1.0))
    uplink = {
        "kind": "series",
        "times_s": [0.0, 10.0],
        "rates_bps": [GOOD_BPS, low],
        "period_s": 60.0,
    }
    scenario = one_device(
        uplink=uplink,
        times_s=times,
        compare=[_adaptive(ewma_alpha=alpha, probe_after_s=None, initial_rate_bps=GOOD_BPS)],
    )
    results = sim.run(scenario)
    req = results.requests.sort_values("t_arrival")
    after = req[req["t_arrival"] > 10.0]
    variant = after["variant"].astype(str).to_numpy()
    k = _lag_samples(GOOD_BPS, low, alpha, _threshold_bps(scenario))
    assert k == (variant == "bottlefit_c12").sum()
    assert (variant[:k] == "bottlefit_c12").all() and (variant[k:] == "local").all()
    # The estimate it was left with is the EWMA after exactly k samples of the new rate.
    estimate = results.devices.iloc[0]["policy_rate_estimate_bps"]
    assert estimate == pytest.approx(ewma_after(GOOD_BPS, low, alpha, k), rel=1e-9)
    # A smaller alpha lags longer: the lag is ceil(ln(eps) / ln(1 - alpha)) samples.
    eps = (_threshold_bps(scenario) - low) / (GOOD_BPS - low)
    assert k == samples_to_converge(alpha, eps)


def test_hysteresis_reduces_switching():
    """A link alternating around the break-even rate: a switching margin damps flapping."""
    times = list(np.arange(0.25, 60.0, 0.5))
    scenario = one_device(times_s=times, compare=["local"])
    threshold = _threshold_bps(one_device(times_s=times, compare=[_adaptive()]), label="adaptive")
    uplink = {
        "kind": "series",
        "times_s": [0.0, 2.0],
        "rates_bps": [0.7 * threshold, 1.6 * threshold],
        "period_s": 4.0,
    }
    compare = [
        _adaptive(name="no_margin", probe_after_s=1.0),
        _adaptive(name="margin", probe_after_s=1.0, switch_margin=0.4),
    ]
    scenario = one_device(uplink=uplink, times_s=times, compare=compare, deadline_s=2.0)
    results = sim.run(scenario)
    switches = results.devices.set_index("strategy")["policy_switches"]
    assert switches["no_margin"] >= 4
    assert switches["margin"] < switches["no_margin"]


def test_accuracy_floor_and_energy_budget_are_respected():
    compare = [
        {"kind": "adaptive", "name": "floor", "min_accuracy": 0.77},
        {"kind": "adaptive", "name": "budget", "energy_budget_j": 0.2, "objective": "latency"},
        {"kind": "adaptive", "name": "energy", "objective": "energy"},
    ]
    times = list(np.arange(0.5, 10.0, 0.5))
    scenario = one_device(
        uplink={"kind": "constant", "rate_bps": 5e6}, times_s=times, compare=compare, radio="wifi"
    )
    results = sim.run(scenario)
    req = results.requests
    floor = req[req["strategy"] == "floor"]
    assert (floor["accuracy"] >= 0.77).all()
    assert set(floor["variant"].astype(str)) <= {
        "local",
        "offload",
        "bottlefit_c9",
        "bottlefit_c12",
    }
    budget = req[req["strategy"] == "budget"]
    assert ((budget["e_compute_j"] + budget["e_radio_j"]) <= 0.2 + 1e-9).all()
    energy = req[req["strategy"] == "energy"]
    assert (energy["kind"] != "local").all()


def _feedback(plan: Plan, now: float, bits: float, air: float, wait: float = math.nan) -> Feedback:
    return Feedback(now, plan, "completed", bits, air, 0.05, 0, wait)


def test_estimates_unit():
    plan = Plan("bottlefit_c12", "split", "m", 0.01, 5.0, 10_000, None, 0.7, "assumed")
    est = DeviceEstimates(0.25, 8e6, 0.0, 3.0)
    for i in range(3):
        est.observe(_feedback(plan, 1.0 + i, 80_000.0, 0.02, wait=0.004))  # 4 Mbit/s samples
    assert est.rate_bps == pytest.approx(ewma_after(8e6, 4e6, 0.25, 3))
    assert est.server_wait_s == pytest.approx(ewma_after(0.0, 0.004, 0.25, 3))
    # An overdue request caps the estimate at its bits / age; answering it lifts the cap.
    est.dispatched(10.0, 80_000.0, 10.01, 10.03, 0.05)
    est.computed(10.01)
    assert est.effective_rate_bps(10.1) == est.rate_bps
    assert est.effective_rate_bps(12.0) == pytest.approx(80_000.0 / 2.0)
    assert est.stale_for_s(12.0) == 0.0
    # Still on the device after its computation: it is on the radio, the whole payload ahead.
    assert est.radio_backlog_free_s(12.0, 1, 40_000.0) == pytest.approx(14.0)
    assert est.radio_backlog_free_s(12.0, 0, 40_000.0) == 12.0  # gone: the radio is free now
    assert est.radio_free_s <= 12.0
    est.observe(Feedback(12.5, plan, "failed", 0.0, 0.3, 2.5, -1))
    assert not est.outstanding
    assert est.rate_bps == pytest.approx(0.75 * ewma_after(8e6, 4e6, 0.25, 3))
    assert est.stale_for_s(13.0) == pytest.approx(3.0)
    assert samples_to_converge(0.5, 0.1) == 4 and samples_to_converge(1.0, 0.1) == 1
