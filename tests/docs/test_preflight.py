"""Pre-flight checks: each warning against a hand calculation, and silence where none applies."""

from __future__ import annotations

import math

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from sim.cli import main
from sim.preflight import check
from sim.scenario.load import build_scenario
from tests.conftest import REPO, toy_spec
from tests.robustness.test_invariants import scenarios as random_scenarios

TOY_LOCAL_S = 0.1 + 0.2 + 0.05  # blocks a, b, classifier of the toy device profile [s]
TOY_SERVICE_S = 0.010  # toy/full S(1) = S(8) [s]


def _findings(spec: dict) -> list:
    scenario = build_scenario(spec, REPO / "tests" / "toy.yaml")
    return check(scenario)[0]


def _by_check(findings: list, name: str) -> list:
    return [f for f in findings if f.check == name]


def test_validate_warns_when_local_compute_is_slower_than_the_frame_rate(tmp_path, capsys):
    spec = toy_spec(compare=["local", "bottlefit_c2"])
    spec["devices"][0]["workload"] = {"kind": "periodic", "fps": 5.0}
    path = tmp_path / "slow.yaml"
    path.write_text(yaml.safe_dump(spec))
    assert main(["validate", str(path)]) == 0
    out, err = capsys.readouterr()
    assert ": ok" in out
    lines = [line for line in err.splitlines() if "device_overload" in line]
    assert len(lines) == 1, err
    # 350 ms per frame against one frame every 200 ms: utilisation 0.35 x 5 = 1.75
    assert lines[0].startswith("warning: devices.dev [local]:")
    assert "350 ms" in lines[0] and "200 ms" in lines[0] and "1.75" in lines[0]
    # the cost model's predictions are printed beside "ok"
    assert "predicted by the cost model" in out and "bottlefit_c2" in out
    assert main(["validate", str(path), "--no-preflight"]) == 0
    out, err = capsys.readouterr()
    assert "warning" not in err and "predicted" not in out


def test_deadline_below_the_fastest_latency():
    spec = toy_spec(compare=["local"], devices__0__deadline_s=0.3)
    found = _by_check(_findings(spec), "deadline_unreachable")
    assert len(found) == 1
    assert "350 ms" in found[0].text and "300 ms" in found[0].text
    assert not _by_check(
        _findings(toy_spec(compare=["local"], devices__0__deadline_s=0.4)), "deadline_unreachable"
    )


def test_server_offered_load_at_full_batches():
    spec = toy_spec(compare=["local"])
    spec["servers"][0]["background"] = [{"part": "toy/full", "rate_hz": 150.0}]
    found = _by_check(_findings(spec), "server_overload")
    # 150 jobs/s x 10 ms at batch 1 = 1.5
    assert len(found) == 1 and "1.50" in found[0].text and found[0].subject == "servers.srv"
    spec["servers"][0]["batching"] = {"max_batch": 8, "max_wait_s": 0.01}
    # S(8) = 10 ms for 8 jobs: 150 x 0.010 / 8 = 0.19 < 1
    assert not _by_check(_findings(spec), "server_overload")


def test_uplink_offered_load_above_the_mean_capacity():
    scenario = build_scenario(toy_spec(), REPO / "tests" / "toy.yaml")
    payload_bits = 8.0 * scenario.factory("dev", "bottlefit_c2").plans[0].payload_bytes
    rate_hz, count = 20.0, 10
    capacity_bps = 0.8 * count * rate_hz * payload_bits  # offered / capacity = 1.25
    spec = toy_spec(devices__0__count=count, cells__0__sharing="shared")
    spec["devices"][0]["workload"] = {"kind": "poisson", "rate_hz": rate_hz}
    spec["cells"][0]["uplink"] = {"kind": "constant", "rate_bps": capacity_bps}
    found = _by_check(_findings(spec), "uplink_overload")
    assert len(found) == 1 and "1.25 x" in found[0].text
    spec["cells"][0]["sharing"] = "dedicated"  # each device alone: 0.125 of its link
    assert not _by_check(_findings(spec), "uplink_overload")


def test_warmup_shorter_than_three_relaxation_times():
    spec = toy_spec(compare=["local"], duration_s=100.0)
    spec["devices"][0]["workload"] = {"kind": "poisson", "rate_hz": 2.0}
    rho = 2.0 * TOY_LOCAL_S  # 0.7
    needed = 3.0 * TOY_LOCAL_S / (1.0 - math.sqrt(rho)) ** 2  # Morse's relaxation time
    found = _by_check(_findings(spec), "warmup_short")
    assert len(found) == 1 and f"{needed:.3g} s" in found[0].text
    spec["warmup_s"] = math.ceil(needed)
    assert not _by_check(_findings(spec), "warmup_short")


def test_fallback_numbers_are_named():
    found = _by_check(_findings(toy_spec()), "fallback")
    assert any("assumed placeholders" in f.text for f in found)  # the toy's power is assumed
    assert not any("cost model" in f.text for f in found)  # every block is timed


def test_devices_driving_out_of_coverage():
    spec = toy_spec(compare=["local"], duration_s=200.0)
    spec["cells"][0]["uplink"] = {
        "kind": "physical",
        "scenario": "uma",
        "distance_m": [50.0, 60.0],
        "mobility": {"kind": "straight_line", "speed_mps": 30.0},
    }
    found = _by_check(_findings(spec), "coverage")
    assert len(found) == 1 and "6,060 m" in found[0].text  # 60 m + 30 m/s x 200 s
    spec["cells"][0]["uplink"]["mobility"] = {"kind": "static"}
    assert not _by_check(_findings(spec), "coverage")


@pytest.mark.parametrize("name", ["jetson_office_wifi", "light_5g"])
def test_shipped_scenarios_without_problems_are_quiet(name):
    from sim import load

    findings, predictions = check(load(REPO / "scenarios" / f"{name}.yaml"))
    assert findings == []
    assert predictions and all(p.latency_s > 0 and p.energy_j >= 0 for p in predictions)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_scenarios())
def test_preflight_never_fails_on_random_scenarios(spec):
    """Warnings are arithmetic on a valid scenario: whatever it holds, check() returns lines."""
    findings, predictions = check(build_scenario(spec, REPO / "tests" / "random.yaml"))
    assert all(f.line().count("\n") == 0 and f.check and f.subject for f in findings)
    assert all(p.energy_j >= 0 and p.latency_s > 0 for p in predictions)
