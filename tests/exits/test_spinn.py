"""The SPINN-style scheduler and the server-only / device-only progressive plans."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.errors import SimInputError
from tests.exits.conftest import exit_scenario
from tests.exits.test_progressive import SAME


def _same(a, b):
    a, b = a.reset_index(drop=True), b.reset_index(drop=True)
    assert len(a) == len(b) > 20
    for column in SAME:
        x, y = a[column].to_numpy(), b[column].to_numpy()
        if x.dtype.kind == "f":
            assert np.array_equal(x, y, equal_nan=True), column
        else:
            assert [str(v) for v in a[column]] == [str(v) for v in b[column]], column


def test_server_only_and_device_only_with_exits_off_are_offload_and_local():
    compare = ["offload", "progressive_input_t1", "local", "progressive_device_t1"]
    req = sim.run(exit_scenario(compare=compare, duration_s=10.0)).requests
    by = {s: req[req["strategy"] == s] for s in compare}
    _same(by["offload"], by["progressive_input_t1"])
    _same(by["local"], by["progressive_device_t1"])


def test_device_only_never_sends_and_server_only_never_exits_on_device():
    compare = ["progressive_input_t0.6", "progressive_device_t0.6"]
    req = sim.run(exit_scenario(compare=compare, duration_s=10.0)).requests
    server = req[req["strategy"] == "progressive_input_t0.6"]
    device = req[req["strategy"] == "progressive_device_t0.6"]
    assert not server["exit_on_device"].any() and (server["bytes_sent"] > 0).all()
    assert device["exit_on_device"].all() and (device["bytes_sent"] == 0).all()
    # Same draws: each request leaves at the same exit whichever side runs it.
    assert (server["exit"].astype(str).to_numpy() == device["exit"].astype(str).to_numpy()).all()


def _spinn_scenario(rate_bps, deadline_s, **spinn):
    compare = ["local", "offload", "bottlefit_c12", {"kind": "spinn", **spinn}]
    sc = exit_scenario(compare=compare, duration_s=40.0, warmup_s=2.0)
    data = dict(sc.raw)
    data["cells"][0]["uplink"] = {"kind": "constant", "rate_bps": rate_bps}
    data["devices"][0]["deadline_s"] = deadline_s
    from sim.scenario.load import build_scenario

    return build_scenario(data, sc.path)


def test_spinn_beats_fixed_plans_on_on_time_accuracy_under_a_tight_deadline():
    """0.3 Mbit/s and 0.1 s: nothing remote or local-whole-model is on time; device exits are."""
    res = sim.run(_spinn_scenario(0.3e6, 0.1))
    s = res.summary.set_index("strategy")
    assert s.loc["spinn", "on_time_accuracy"] > 0.05
    for other in ("local", "offload", "bottlefit_c12"):
        assert s.loc[other, "on_time_accuracy"] < s.loc["spinn", "on_time_accuracy"]
    spinn = res.requests[res.requests["strategy"] == "spinn"]
    answered_on_device = spinn["exit_on_device"].mean()
    assert answered_on_device > 0.8  # the rest: probes every probe_after_s (2 s)


def test_spinn_keeps_accuracy_when_the_network_is_good():
    res = sim.run(_spinn_scenario(50e6, 1.0))
    s = res.summary.set_index("strategy")
    top1 = 0.78312
    assert s.loc["spinn", "deadline_miss_rate"] < 0.01
    plans = res.runs["spinn"].requests
    assert len(plans) > 100
    # Every candidate is on time, so it takes one of greatest expected accuracy (<= top-1 under
    # the conserving rule) and loses nothing in expectation.
    sc = res.scenario
    factory = sc.factory("board", "spinn")
    best = max(p.accuracy for p in factory.plans)
    chosen = {p.name: p.accuracy for p in factory.plans}
    picked = plans["variant"].astype(str).unique()
    assert all(chosen[name] >= best - 1e-9 for name in picked if not name.endswith("_t1"))
    assert best == pytest.approx(top1, abs=1e-9)


def test_spinn_probes_when_its_estimates_go_stale():
    """Slow link, tight deadline: it answers on the device, and every probe_after_s it sends one
    request with the exits off to refresh its uplink estimate."""
    res = sim.run(_spinn_scenario(0.3e6, 0.1, probe_after_s=5.0))
    dev = res.devices[res.devices["strategy"] == "spinn"]
    probes = dev["policy_probes"].sum()
    spinn = res.requests[res.requests["strategy"] == "spinn"]
    sent = int((spinn["bytes_sent"] > 0).sum())
    assert probes >= 4 * 5  # four devices, 40 s, one every >= 5 s after the previous sample
    assert sent == probes
    assert (dev["policy_rate_samples"] > 0).all()


def test_spinn_bad_split():
    with pytest.raises(SimInputError, match="unknown split"):
        exit_scenario(compare=[{"kind": "spinn", "splits": ["layer7"]}])
