"""The deadline-aware policy: falls back to a smaller C, then local, and counts it."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.errors import SimInputError
from sim.policies.registry import default_ladder
from tests.policies.conftest import one_device

LADDER = {
    "kind": "deadline_aware",
    "preferred": "bottlefit_c12",
    "fallbacks": ["bottlefit_c3", "local"],
    "ewma_alpha": 1.0,  # the last sample is the estimate: each level is learnt in one request
    "probe_after_s": 1.0,
}


def test_falls_back_to_smaller_c_then_local_and_counts():
    """Rate steps 20 -> 0.3 -> 0.05 -> 20 Mbit/s against a 0.25 s deadline (aim 0.225 s).

    At 0.3 Mbit/s C = 12 (80.8 kbit) needs ~0.27 s on air but C = 3 (20 kbit) ~0.07 s;
    at 0.05 Mbit/s only local (~0.21 s on a Jetson Nano) makes it.
    """
    times = list(np.arange(0.25, 40.0, 0.5))
    uplink = {
        "kind": "series",
        "times_s": [0.0, 10.0, 20.0, 30.0],
        "rates_bps": [20e6, 0.3e6, 0.05e6, 20e6],
        "period_s": 40.0,
    }
    scenario = one_device(
        uplink=uplink, times_s=times, compare=[LADDER], deadline_s=0.25, timeout_s=2.0
    )
    results = sim.run(scenario)
    req = results.requests.sort_values("t_arrival")
    arrival = req["t_arrival"].to_numpy()
    variant = req["variant"].astype(str).to_numpy()

    def share(lo: float, hi: float, name: str) -> float:
        part = variant[(arrival >= lo) & (arrival < hi)]
        return float((part == name).mean())

    assert share(0, 10, "bottlefit_c12") == 1.0
    assert share(11, 20, "bottlefit_c3") >= 0.5  # probes of C = 12 come back too slow
    assert share(22, 30, "local") >= 0.5  # probes of C = 12 cannot even be sent in time
    assert share(32, 40, "bottlefit_c12") == 1.0
    stats = results.devices.iloc[0]
    not_preferred = int((variant != "bottlefit_c12").sum())
    assert stats["policy_fallbacks"] == not_preferred
    assert stats["policy_fallbacks_local"] == int((variant == "local").sum())
    assert stats["policy_fallbacks_smaller"] == int((variant == "bottlefit_c3").sum())
    assert (
        stats["policy_fallbacks"]
        == stats["policy_fallbacks_local"] + stats["policy_fallbacks_smaller"]
    )
    # The fallbacks pay: fewer misses than always sending C = 12.
    fixed = sim.run(
        one_device(
            uplink=uplink,
            times_s=times,
            compare=["bottlefit_c12"],
            deadline_s=0.25,
            timeout_s=2.0,
        )
    )
    assert (
        results.summary["deadline_miss_rate"].iloc[0]
        < fixed.summary["deadline_miss_rate"].iloc[0] / 2
    )


def test_default_ladder_is_bottlefit_by_decreasing_c_then_local():
    scenario = one_device(compare=["deadline_aware"])
    model = scenario.groups[0].model
    preferred, fallbacks = default_ladder(model)
    channels = sorted(
        (v.channels for v in model.variants.values() if v.kind == "bottlefit"), reverse=True
    )
    assert preferred == f"bottlefit_c{channels[0]}"
    assert fallbacks == [*(f"bottlefit_c{c}" for c in channels[1:]), "local"]
    plans = [p.name for p in scenario.factory("dev", "deadline_aware").plans]
    assert plans == [preferred, *fallbacks]


def test_ladder_errors_name_their_key():
    with pytest.raises(SimInputError) as err:
        one_device(compare=[{"kind": "deadline_aware", "fallbacks": ["bottlefit", "local"]}])
    assert err.value.key == "compare.0.fallbacks.0"
    with pytest.raises(SimInputError) as err:
        one_device(compare=[{"kind": "deadline_aware", "preferred": "bottlefit_c13"}])
    assert err.value.key == "compare.0.preferred"
    with pytest.raises(SimInputError):
        one_device(
            compare=[{"kind": "deadline_aware", "preferred": "local", "fallbacks": ["local"]}]
        )
