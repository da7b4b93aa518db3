"""Backhaul links as FIFO queues of bits (sim/backhaul.py) against queueing theory and by hand.

One link of capacity C [bit/s] fed by Poisson arrivals of rate lambda [1/s] is a
single-server FIFO queue whose service time is the payload's transmission time
S = B / C:

* fixed-size payloads (B constant): M/D/1. Pollaczek-Khinchine mean wait
  W_q = lambda E[S^2] / (2 (1 - rho)) = rho D / (2 (1 - rho)), rho = lambda D, D = B / C;
* exponential sizes (mean B): M/M/1, W_q = rho / (mu - lambda) = rho D / (1 - rho).

The formulas are written here, not taken from sim/theory.py. Each case runs
REPLICATIONS seeded replications; the closed form must lie inside the 95 %
t-interval of the replication means (and the interval must be narrow enough to
tell a model without queueing, W_q = 0, apart). Then a two-hop tandem and two
paths merging on one link, computed by hand: store and forward, FIFO per hop.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from scipy import stats

from sim.backhaul import Backhaul, BackhaulLoadWarning
from sim.network import Path
from sim.rng import replication_seeds

CAPACITY_BPS = 1e6
PAYLOAD_BITS = 1e4  # D = 10 ms
LATENCY_S = 0.003
RHO = 0.7
ARRIVALS = 12_000
WARMUP = 1_000
REPLICATIONS = 8


def one_link(queueing: bool = True) -> Path:
    return Path(("a", "b"), LATENCY_S, (CAPACITY_BPS,), (LATENCY_S,), (queueing,))


def mean_wait(seed: int, sizes: str) -> float:
    """Mean FIFO wait [s] of one replication: payloads sent at Poisson times, all booked
    at time 0 (each enters the link by its own event at its arrival)."""
    rng = np.random.default_rng(seed)
    service_s = PAYLOAD_BITS / CAPACITY_BPS
    times = np.cumsum(rng.exponential(service_s / RHO, ARRIVALS))
    if sizes == "fixed":
        bits = np.full(ARRIVALS, PAYLOAD_BITS)
    else:
        bits = rng.exponential(PAYLOAD_BITS, ARRIVALS)
    env = simpy.Environment()
    backhaul = Backhaul(env)
    path = one_link()
    waits = np.full(ARRIVALS, np.nan)
    for i, (t, b) in enumerate(zip(times.tolist(), bits.tolist(), strict=True)):

        def arrived(arrival_s: float, i=i, t=t, b=b) -> None:
            # arrival = entry + wait + transmission + latency
            waits[i] = arrival_s - t - b / CAPACITY_BPS - LATENCY_S

        backhaul.send(path, b, arrived, t_s=t)
    env.run()
    assert not np.isnan(waits).any()
    assert waits.min() >= -1e-12
    return float(waits[WARMUP:].mean())


def t_interval_95(values: list[float]) -> tuple[float, float, float]:
    data = np.asarray(values)
    mean = float(data.mean())
    half = float(stats.t.ppf(0.975, data.size - 1) * data.std(ddof=1) / math.sqrt(data.size))
    return mean, mean - half, mean + half


@pytest.mark.parametrize(
    ("sizes", "closed_form_s"),
    [
        # M/D/1, Pollaczek-Khinchine with E[S^2] = D^2
        ("fixed", RHO * (PAYLOAD_BITS / CAPACITY_BPS) / (2.0 * (1.0 - RHO))),
        # M/M/1 (exponential sizes, so exponential service), W_q = rho / (mu - lambda)
        ("exponential", RHO * (PAYLOAD_BITS / CAPACITY_BPS) / (1.0 - RHO)),
    ],
)
def test_link_is_a_fifo_queue_of_bits(sizes: str, closed_form_s: float) -> None:
    means = [mean_wait(seed, sizes) for seed in replication_seeds(17, REPLICATIONS)]
    mean, low, high = t_interval_95(means)
    assert low <= closed_form_s <= high, (sizes, closed_form_s, mean, low, high)
    assert high - low < 0.25 * closed_form_s  # tight enough to see a 25 % error (or no queue)


def test_link_without_queueing_is_pure_arithmetic() -> None:
    env = simpy.Environment()
    backhaul = Backhaul(env, (0.0, 1.0))
    path = one_link(queueing=False)
    got: list[float] = []
    for t in (0.0, 0.0, 0.001):
        backhaul.send(path, PAYLOAD_BITS, got.append, t_s=t)
    # All three overlap on the wire; none waits.
    assert got == [t + PAYLOAD_BITS / CAPACITY_BPS + LATENCY_S for t in (0.0, 0.0, 0.001)]
    assert env.peek() == math.inf  # no events at all
    assert backhaul.arrival_s(path, PAYLOAD_BITS, 0.5) == pytest.approx(0.5 + path.delay_s(1250))
    with pytest.raises(ValueError):
        backhaul.arrival_s(one_link(True), PAYLOAD_BITS, 0.0)


def tandem() -> Path:
    # a -> m: 1 Mbit/s, 10 ms; m -> s: 0.5 Mbit/s, 2 ms
    return Path(("a", "m", "s"), 0.012, (1e6, 0.5e6), (0.010, 0.002), (True, True))


def test_two_hop_tandem_store_and_forward_by_hand() -> None:
    env = simpy.Environment()
    backhaul = Backhaul(env)
    arrivals: dict[str, float] = {}
    sends = [("p1", 0.0, 1e5), ("p2", 0.05, 2e4), ("p3", 0.06, 1e5)]
    for name, t, bits in sends:
        backhaul.send(tandem(), bits, lambda a, n=name: arrivals.__setitem__(n, a), t_s=t)
    env.run()
    # By hand. Hop a->m (1 Mbit/s): p1 [0, 0.1], at m 0.11; p2 waits for p1: [0.1, 0.12], at m
    # 0.13; p3 [0.12, 0.22], at m 0.23. Hop m->s (0.5 Mbit/s) starts each payload only once
    # fully received at m: p1 [0.11, 0.31] -> 0.312; p2 [0.31, 0.35] -> 0.352; p3 [0.35,
    # 0.55] -> 0.552.
    assert arrivals == pytest.approx({"p1": 0.312, "p2": 0.352, "p3": 0.552}, abs=1e-12)
    hop1 = backhaul.links[("a", "m")]
    hop2 = backhaul.links[("m", "s")]
    assert hop1.bits == pytest.approx(2.2e5) and hop2.bits == pytest.approx(2.2e5)
    assert hop1.busy_s == pytest.approx(0.22) and hop2.busy_s == pytest.approx(0.44)
    assert hop1.wait_s == pytest.approx(0.0 + 0.05 + 0.06)  # p2 0.1-0.05, p3 0.12-0.06
    assert hop2.max_wait_s == pytest.approx(0.18)  # p2: at m 0.13, starts 0.31


def test_merging_paths_are_served_in_order_of_arrival_at_the_shared_hop() -> None:
    env = simpy.Environment()
    backhaul = Backhaul(env)
    slow = Path(("x", "m", "s"), 0.0, (1e5, 1e6), (0.0, 0.0), (True, True))
    fast = Path(("y", "m", "s"), 0.0, (1e7, 1e6), (0.0, 0.0), (True, True))
    got: dict[str, float] = {}
    backhaul.send(slow, 5e4, lambda a: got.__setitem__("slow", a), t_s=0.0)  # at m 0.5
    backhaul.send(fast, 5e4, lambda a: got.__setitem__("fast", a), t_s=0.1)  # at m 0.105
    env.run()
    # fast reaches m first though sent later: m->s serves it first [0.105, 0.155]; slow
    # [0.5, 0.55].
    assert got == pytest.approx({"fast": 0.155, "slow": 0.55}, abs=1e-12)
    assert backhaul.links[("m", "s")].wait_s == 0.0


def test_way_back_is_the_other_direction() -> None:
    env = simpy.Environment()
    backhaul = Backhaul(env)
    path = tandem()
    got: list[float] = []
    backhaul.send(path, 1e5, got.append)
    backhaul.send(path.reversed(), 1e5, got.append)  # full duplex: no wait
    env.run()
    assert got[0] == pytest.approx(0.1 + 0.01 + 0.2 + 0.002)
    assert got[1] == pytest.approx(0.2 + 0.002 + 0.1 + 0.01)
    assert set(backhaul.links) == {("a", "m"), ("m", "s"), ("s", "m"), ("m", "a")}


def test_predicted_delay_counts_the_backlog_ahead() -> None:
    env = simpy.Environment()
    backhaul = Backhaul(env)
    path = tandem()
    assert backhaul.predicted_delay_s(path, 1e5) == pytest.approx(path.delay_s(1e5 / 8))
    backhaul.send(path, 1e5, lambda a: None)  # on a->m now [0, 0.1]
    # A second payload now waits 0.1 s on a->m; m->s is still free when it gets there.
    assert backhaul.predicted_delay_s(path, 2e4) == pytest.approx(0.1 + 0.02 + 0.01 + 0.04 + 0.002)
    assert env.peek() == pytest.approx(0.11)  # one event: the arrival at the queueing hop m


def test_a_link_never_carries_more_than_capacity_times_time() -> None:
    """Bound: bits inside the window <= C x window, busy time <= window, overload included."""
    window = (1.0, 3.0)
    env = simpy.Environment()
    backhaul = Backhaul(env, window)
    rng = np.random.default_rng(5)
    path = tandem()
    for t in np.sort(rng.uniform(0.0, 4.0, 400)).tolist():  # offered ~10x what a->m carries
        backhaul.send(path, float(rng.exponential(5e4)), lambda a: None, t_s=t)
    env.run()
    for state in backhaul.links.values():
        row = state.result_row(window)
        length = window[1] - window[0]
        assert row["bits"] <= state.capacity_bps * length * (1 + 1e-12)
        assert row["busy_s"] <= length * (1 + 1e-12)
        assert 0.99 <= row["utilisation"] <= 1.0 + 1e-12  # saturated all window long


def test_overloaded_link_without_queueing_warns() -> None:
    env = simpy.Environment()
    backhaul = Backhaul(env, (0.0, 1.0))
    path = one_link(queueing=False)
    for t in np.linspace(0.0, 0.99, 200).tolist():  # 200 x 10 ms in 1 s: 200 % offered
        backhaul.send(path, PAYLOAD_BITS, lambda a: None, t_s=t)
    with pytest.warns(BackhaulLoadWarning, match="a->b"):
        rows = backhaul.result_rows()
    assert rows[0]["utilisation"] == pytest.approx(2.0, rel=0.01)


def test_payload_that_entered_in_the_past_keeps_its_arrival_time() -> None:
    """An early-exit result ready before its batch ended enters at its true time."""
    env = simpy.Environment()
    env.run(until=1.0)
    got: list[float] = []
    Backhaul(env).send(one_link(), PAYLOAD_BITS, got.append, t_s=0.5)
    assert got == [pytest.approx(0.5 + PAYLOAD_BITS / CAPACITY_BPS + LATENCY_S)]


def test_in_a_run_a_thin_backhaul_queues_and_the_option_turns_it_off() -> None:
    """Two devices upload at the same moment over a shared 1 Mbit/s backhaul link: with
    queueing the second payload waits for the first; without, both cross it at once."""
    import sim
    from tests.conftest import toy_scenario

    def run(queueing: bool):
        scenario = toy_scenario(
            devices__0__count=2,
            devices__0__workload={"kind": "timestamps", "times_s": [0.0]},
            network={
                "queueing": queueing,
                "links": [{"a": "ap", "b": "edge", "latency_s": 0.002, "capacity_bps": 1.0e6}],
            },
        )
        result = sim.run(scenario)
        return scenario, result.requests.sort_values("t_server_arrival"), result.links

    scenario, queued, links = run(True)
    _, free, _ = run(False)
    path = scenario.groups[0].paths["srv"]
    payload_bits = 8.0 * queued["payload_bytes"].iloc[0]
    hop_s = payload_bits / 1.0e6
    cell = scenario.groups[0].cell
    # Both uploads end together (one dedicated link each); without queueing the wired leg is
    # the old arithmetic for both.
    expected_free = free["t_uplink_end"] + cell.propagation_s + path.delay_s(payload_bits / 8)
    assert np.allclose(free["t_server_arrival"], expected_free, rtol=0, atol=1e-12)
    # With queueing the second waits one transmission time on the link.
    first, second = queued["t_server_arrival"].to_numpy()
    assert first == pytest.approx(free["t_server_arrival"].iloc[0], abs=1e-12)
    assert second - first == pytest.approx(hop_s, rel=1e-9)
    up = links[(links["link_from"] == "ap") & (links["link_to"] == "edge")].iloc[0]
    assert up["queueing"] and up["payloads"] == 2
    assert up["max_wait_s"] == pytest.approx(hop_s, rel=1e-9)
    assert up["bits"] == pytest.approx(2 * payload_bits)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_chained_hops_give_the_same_arrivals_as_one_event_per_hop(seed: int) -> None:
    """The fast path (a hop fed only by the queueing hop before it is served with it) equals
    the plain one (an event at every hop, as without the paths known in advance): random
    sizes and times over a three-hop tandem and its way back."""
    rng = np.random.default_rng(seed)
    forward = Path(
        ("a", "m", "n", "s"), 0.0, (2e6, 1e6, 3e6), (0.004, 0.001, 0.002), (True, True, True)
    )
    times = np.sort(rng.uniform(0.0, 5.0, 300)).tolist()
    sizes = rng.exponential(2e4, 300).tolist()

    def play(plain: bool) -> tuple[list[float], int]:
        env = simpy.Environment()
        backhaul = Backhaul(env, paths=None if plain else [forward, forward.reversed()])
        assert backhaul.chaining is not plain
        arrivals = [math.nan] * (2 * len(times))
        for i, (t, b) in enumerate(zip(times, sizes, strict=True)):
            backhaul.send(forward, b, lambda a, i=i: arrivals.__setitem__(i, a), t_s=t)
            back = len(times) + i
            backhaul.send(
                forward.reversed(), b / 3, lambda a, k=back: arrivals.__setitem__(k, a), t_s=t
            )
        env.run()
        return arrivals, len(backhaul.links)

    fast, _ = play(plain=False)
    plain, _ = play(plain=True)
    assert fast == plain  # bit for bit


def test_chaining_needs_a_single_feeder_and_stops_for_an_unknown_path() -> None:
    env = simpy.Environment()
    slow = Path(("x", "m", "s"), 0.0, (1e5, 1e6), (0.0, 0.0), (True, True))
    fast = Path(("y", "m", "s"), 0.0, (1e7, 1e6), (0.0, 0.0), (True, True))
    both = Backhaul(env, paths=[slow, fast])
    assert both.chaining and not both._chained(slow, 1)  # m -> s has two feeders
    alone = Backhaul(env, paths=[slow])
    assert alone._chained(slow, 1)
    alone.send(fast, 1.0, lambda a: None, t_s=1.0)  # a path it was not told of
    assert not alone.chaining


def test_preflight_warns_of_an_overloaded_backhaul_link() -> None:
    """10 devices x 20 requests/s x the payload against a link of 0.8 x that: 1.25 x."""
    from sim.preflight import check
    from sim.scenario.load import build_scenario
    from tests.conftest import REPO, toy_spec

    probe = build_scenario(toy_spec(), REPO / "tests" / "toy.yaml")
    payload_bits = 8.0 * probe.factory("dev", "bottlefit_c2").plans[0].payload_bytes
    capacity_bps = 0.8 * 10 * 20.0 * payload_bits

    def findings(queueing: bool, capacity: float):
        spec = toy_spec(devices__0__count=10)
        spec["devices"][0]["workload"] = {"kind": "poisson", "rate_hz": 20.0}
        spec["network"] = {
            "queueing": queueing,
            "links": [{"a": "ap", "b": "edge", "latency_s": 0.002, "capacity_bps": capacity}],
        }
        found, _ = check(build_scenario(spec, REPO / "tests" / "toy.yaml"))
        return [f for f in found if f.check == "backhaul_overload"]

    (found,) = findings(True, capacity_bps)
    assert found.subject == "network.links.0" and "ap -> edge" in found.text
    assert "1.25 x" in found.text and "without bound" in found.text
    (loose,) = findings(False, capacity_bps)
    assert "too low" in loose.text
    assert not findings(True, 2.0 * capacity_bps)
