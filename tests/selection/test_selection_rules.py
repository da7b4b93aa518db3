"""Selection settings, candidate sets, bounds and common random numbers (tests/selection/)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import simpy

import sim
from sim.errors import SimInputError
from sim.selection.board import LoadBoard
from sim.selection.power_of_d import sample_without_replacement

TWO = Path(__file__).parent / "two_servers.yaml"


def _load(*overrides: str):
    return sim.load(TWO, list(overrides))


@pytest.mark.parametrize(
    ("overrides", "key", "words"),
    [
        (["devices.nano.selection.policy=fixed"], "devices.0.selection", "needs server"),
        (
            ["devices.far.selection.policy=jsq"],
            "devices.1.server",
            "either server",
        ),
        (
            ["devices.nano.selection.policy=jsq", "devices.nano.selection.d=3"],
            "devices.0.selection",
            "takes no d",
        ),
        (
            ["devices.nano.selection.policy=random", "devices.nano.selection.report_interval_s=1"],
            "devices.0.selection",
            "report_interval_s",
        ),
        (
            ["devices.nano.selection.policy=power_of_d", "devices.nano.selection.d=1"],
            "devices.0.selection.d",
            "",
        ),
        (
            ["devices.nano.selection.policy=jsq", "devices.nano.selection.servers=[gpu0, gpu9]"],
            "devices.0.selection.servers.1",
            "unknown server",
        ),
    ],
)
def test_bad_selection_is_one_clear_error(overrides, key, words):
    with pytest.raises(SimInputError) as info:
        _load(*overrides)
    assert info.value.key == key, str(info.value)
    assert words in str(info.value)


def test_unreachable_candidate_is_refused(tmp_path):
    text = TWO.read_text().replace(
        "  - name: gpu1\n",
        "  - name: island\n    node: nowhere\n    profile: h100_eager_pytorch\n  - name: gpu1\n",
    )
    path = tmp_path / "island.yaml"
    path.write_text(text)
    sim.load(path)  # unreachable servers are fine until a group names them
    with pytest.raises(SimInputError) as info:
        sim.load(
            path,
            [
                "devices.nano.selection.policy=random",
                "devices.nano.selection.servers=[gpu0, island]",
            ],
        )
    assert info.value.key == "devices.0.selection.servers.1"
    assert "no network path" in str(info.value) and "nowhere" in str(info.value)


@pytest.mark.parametrize("policy", ["random", "round_robin", "jsq", "power_of_d", "least_latency"])
def test_candidates_bound_the_choice_and_arrivals_are_common(policy):
    """Every request is served by a server of its group's candidate set; the selection
    stream leaves the arrivals alone (common random numbers across policies). Upload
    times may differ: a result received on the downlink shares the device's radio
    timeline with its uploads, and results come back from different servers."""
    base = sim.run(_load(), strategies=["offload"]).requests
    scenario = _load(
        f"devices.nano.selection.policy={policy}", "devices.nano.selection.servers=[gpu1]"
    )
    req = sim.run(scenario, strategies=["offload"]).requests
    served = req[req["t_server_arrival"].notna()]
    assert set(served["server"].astype(str)) == {"gpu1"}
    for column in ("t_arrival", "device"):
        np.testing.assert_array_equal(req[column].to_numpy(), base[column].to_numpy())
    spread = sim.run(_load(f"devices.nano.selection.policy={policy}"), strategies=["offload"])
    nano = spread.requests[spread.requests["group"] == "nano"]
    assert set(nano["server"].dropna().astype(str)) <= {"gpu0", "gpu1"}
    np.testing.assert_array_equal(spread.requests["t_arrival"], base["t_arrival"])


def test_round_robin_cycles_in_departure_order():
    req = sim.run(_load("devices.nano.selection.policy=round_robin"), strategies=["offload"])
    nano = req.requests[req.requests["group"] == "nano"].dropna(subset=["t_uplink_end"])
    nano = nano.sort_values("t_uplink_end", kind="stable")
    servers = nano["server"].astype(str).tolist()
    # candidates nearest first: gpu0 (0.4 ms), gpu1 (2 ms)
    assert servers == [("gpu0", "gpu1")[i % 2] for i in range(len(servers))]


def test_least_latency_picks_the_lowest_prediction_when_idle():
    """At a light load every server is idle when a request leaves, so least_latency sends
    it to the server of least network + S(1): gpu0 (batching window 2 ms but nearer)
    against gpu1 (no window, 1.6 ms farther each way). Hand check of the prediction."""
    scenario = _load("devices.nano.selection.policy=least_latency", "devices.nano.count=1")
    from sim.engine import Run
    from sim.selection.least_latency import predicted_server_s

    run = Run(scenario, "offload")
    plan = scenario.factory("nano", "offload").plans[0]
    group = scenario.groups[0]
    key = plan.server.key
    predicted = {}
    for name, server in run.servers.items():
        route = run.router.route(group, "ap", plan, 0, name)
        predicted[name] = route.to_server_s + predicted_server_s(server, key, 0) + route.back_s
    s1 = scenario.service_models[("gpu0", key)].service_s(1)
    # gpu0: max_batch 4, so a lone job waits its 2 ms window; gpu1: batch 1
    assert predicted["gpu0"] - predicted["gpu1"] == pytest.approx(
        0.002 - 2 * (0.002 - 0.0004), abs=1e-9
    )
    assert predicted["gpu0"] > s1
    best = min(predicted, key=predicted.get)
    req = run.run().requests
    served = req[req["t_server_arrival"].notna() & (req["group"] == "nano")]
    assert best == "gpu0"
    assert (served["server"].astype(str) == best).mean() > 0.9


def test_board_posts_every_interval():
    """The periodic board shows the load as of the last multiple of the interval."""

    class Fake:
        def __init__(self, index):
            self.index, self.waiting, self.in_service = index, 0, 0

        @property
        def jobs(self):
            return self.waiting + self.in_service

    env = simpy.Environment()
    servers = [Fake(0), Fake(1)]
    board = LoadBoard(env, servers, 0.5)
    live = LoadBoard(env, servers, 0.0)
    seen = []

    def script(env):
        yield env.timeout(0.2)
        servers[0].waiting = 3
        seen.append((env.now, board.loads(servers), live.loads(servers)))
        yield env.timeout(0.4)  # t = 0.6: posted at 0.5
        servers[1].in_service = 1
        seen.append((env.now, board.loads(servers), live.loads(servers)))
        yield env.timeout(0.45)  # t = 1.05: posted at 1.0
        seen.append((env.now, board.loads(servers), live.loads(servers)))

    env.process(script(env))
    env.run(until=1.2)
    assert [(round(t, 2), b, lv) for t, b, lv in seen] == [
        (0.2, [0, 0], [3, 0]),
        (0.6, [3, 0], [3, 1]),
        (1.05, [3, 1], [3, 1]),
    ]
    assert board.refreshes == 2


def test_sampling_without_replacement_is_uniform():
    rng = np.random.default_rng(5)
    counts = np.zeros((5, 5))
    for _ in range(20_000):
        a, b = sample_without_replacement(5, 2, rng)
        assert a != b
        counts[a, b] += 1
    pairs = counts + counts.T
    off = pairs[~np.eye(5, dtype=bool)]
    # each unordered pair 1/10 of draws: 2000 +- 3 sigma (sigma = sqrt(20000 * 0.1 * 0.9) = 42)
    assert np.all(np.abs(off - 2000) < 130)


def test_preflight_spreads_a_balanced_group_over_its_candidates():
    """validate's server-load check: the nearest policy puts the whole group on one server
    (which the server_selection scenario overloads); a balancing policy spreads it."""
    from sim.preflight import check

    path = Path(__file__).parents[2] / "scenarios" / "server_selection.yaml"

    def overloaded(*overrides):
        findings = check(sim.load(path, list(overrides)))[0]
        return [f for f in findings if f.check == "server_overload"]

    assert overloaded(
        "devices.cams.selection.policy=nearest",
        "devices.cams.selection.d=null",
        "devices.cams.selection.report_interval_s=0",
    )
    assert not overloaded()
    assert not overloaded(
        "devices.cams.selection.policy=random",
        "devices.cams.selection.d=null",
        "devices.cams.selection.report_interval_s=0",
    )
