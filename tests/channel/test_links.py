"""Transfers over links: trace replay equals an independent integral; shared cells; HARQ; retries."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import sim
from sim.channel.capacity import PiecewiseCapacity
from sim.channel.config import TraceUplink, build_capacity, resolve_trace
from sim.channel.harq import BlerErrors, GilbertElliottErrors, harq_outcome
from sim.channel.sources import SeriesSource
from tests.channel.helpers import assert_covers
from tests.conftest import REPO, toy_scenario

MAHIMAHI_BIN_S = 0.1
PACKET_BITS = 1500 * 8


def _mahimahi_rates(path) -> np.ndarray:
    """Independent parse: delivery counts per 100 ms bin x 12000 bit / 0.1 s."""
    ms = np.array([int(line) for line in path.read_text().split()])
    bins = math.ceil(ms[-1] / 100.0)
    counts = np.bincount(np.minimum(ms // 100, bins - 1), minlength=bins)
    return counts * PACKET_BITS / MAHIMAHI_BIN_S


def _finish_by_hand(rates: np.ndarray, start_s: float, bits: float) -> float:
    """Walk the looped trace bin by bin (a plain loop, no cumulative sums)."""
    t, remaining = start_s, bits
    period = rates.size * MAHIMAHI_BIN_S
    while True:
        k = math.floor(t / MAHIMAHI_BIN_S + 1e-12)
        rate = rates[k % rates.size]
        bin_end = (k + 1) * MAHIMAHI_BIN_S
        available = rate * (bin_end - t)
        if available >= remaining and rate > 0:
            return t + remaining / rate
        remaining -= available
        t = bin_end
        assert t < start_s + 100 * period


def test_trace_replay_finish_time_equals_integral(shared_traces):
    path = shared_traces / "mahimahi_cellular" / "Verizon-LTE-short.up"
    rates = _mahimahi_rates(path)
    config = TraceUplink(kind="trace", path=str(path), format="mahimahi", random_offset=False)
    trace = resolve_trace(config, path.parent, file=None, key="uplink")
    capacity = build_capacity(config, trace, np.random.default_rng(0), horizon_s=60.0)
    period = rates.size * MAHIMAHI_BIN_S
    rng = np.random.default_rng(5)
    for start in [0.0, 0.05, 12.345, period - 0.03, *rng.uniform(0, 3 * period, 20)]:
        for payload_bytes in (1_000, 10_000, 45_000, 500_000):
            bits = 8.0 * payload_bytes
            expected = _finish_by_hand(rates, start, bits)
            assert capacity.time_to_send(start, bits) == pytest.approx(expected, abs=1e-9)


def test_trace_replay_with_offset_and_loop(shared_traces):
    path = shared_traces / "mahimahi_cellular" / "ATT-LTE-driving-2016.up"
    rates = _mahimahi_rates(path)
    offset = 37.25
    capacity = PiecewiseCapacity(
        SeriesSource(np.full(rates.size, MAHIMAHI_BIN_S), rates, offset_s=offset, loop=True)
    )
    period = rates.size * MAHIMAHI_BIN_S
    for start in (0.0, period - offset - 0.01, 2 * period + 3.3):
        bits = 8.0 * 45_000
        assert capacity.time_to_send(start, bits) == pytest.approx(
            _finish_by_hand(rates, start + offset, bits) - offset, abs=1e-9
        )


def test_trace_scenario_request_times(shared_traces):
    """End to end: a request's uplink end is the integral of the trace from its start."""
    path = shared_traces / "mahimahi_cellular" / "TMobile-LTE-short.up"
    uplink = {"kind": "trace", "path": str(path), "format": "mahimahi", "random_offset": False}
    result = sim.run(toy_scenario(cells__0__uplink=uplink))
    req = result.requests.sort_values("t_arrival").reset_index()
    rates = _mahimahi_rates(path)
    for _, row in req.iterrows():
        expected = _finish_by_hand(rates, row["t_tx_start"], 8.0 * row["payload_bytes"])
        assert row["t_uplink_end"] == pytest.approx(expected, abs=1e-9)


def _two_devices(**cell):
    changes = {
        "devices__0__count": 2,
        "devices__0__workload": {"kind": "timestamps", "times_s": [0.0]},
    }
    changes.update({f"cells__0__{k}": v for k, v in cell.items()})
    return toy_scenario(**changes)


def test_shared_cell_two_equal_transfers_finish_together_at_twice_the_time():
    single = sim.run(toy_scenario(devices__0__workload={"kind": "timestamps", "times_s": [0.0]}))
    alone = single.requests.iloc[0]
    duration_alone = alone["t_uplink_end"] - alone["t_tx_start"]
    assert duration_alone == pytest.approx(8000 / 1e6)  # 1000 B at 1 Mbit/s
    shared = sim.run(_two_devices(sharing="shared")).requests
    assert shared["t_tx_start"].nunique() == 1
    assert shared["t_uplink_end"].nunique() == 1
    both = shared.iloc[0]
    assert both["t_uplink_end"] - both["t_tx_start"] == pytest.approx(2 * duration_alone)
    dedicated = sim.run(_two_devices(sharing="dedicated")).requests
    assert (dedicated["t_uplink_end"] - dedicated["t_tx_start"]).tolist() == pytest.approx(
        [duration_alone] * 2
    )


def test_proportional_fair_gives_no_gain_on_a_constant_link():
    """PF on a constant link (no fading to exploit) is round robin: two equal transfers
    take twice as long as one alone (the old G(n) made the cell carry 1.26x its link)."""
    single = sim.run(toy_scenario(devices__0__workload={"kind": "timestamps", "times_s": [0.0]}))
    alone = single.requests.iloc[0]
    duration_alone = alone["t_uplink_end"] - alone["t_tx_start"]
    req = sim.run(_two_devices(sharing="shared", scheduler="proportional_fair")).requests
    assert req["t_uplink_end"].nunique() == 1
    row = req.iloc[0]
    assert row["t_uplink_end"] - row["t_tx_start"] == pytest.approx(2 * duration_alone)


def test_bler_harq_mean_transmissions():
    """Mean transmissions per block = 1 + b1 + b1 b2 + b1 b2 b3 (replications of many blocks)."""
    model = BlerErrors(kind="bler", first_bler=0.3, chase_combining=False, max_transmissions=4)
    bler = model.transmission_bler()
    assert bler == pytest.approx([0.3] * 4)
    expected = 1 + 0.3 + 0.3**2 + 0.3**3 + 0.0  # failed blocks also use 4 transmissions
    means = []
    for seed in range(10):
        out = harq_outcome(model, 5.0, np.random.default_rng(seed))  # 5000 blocks of 1 ms
        means.append(1 + out.extra_blocks / out.blocks)
    assert_covers(means, expected)
    chase = BlerErrors(kind="bler", first_bler=0.1).transmission_bler()
    assert chase[0] == pytest.approx(0.1) and np.all(np.diff(chase) < 0)


def test_ge_harq_errors_match_loss_rate():
    model = GilbertElliottErrors(kind="gilbert_elliott", p=0.01, r=0.1, loss_bad=1.0)
    lost_first = []
    for seed in range(10):
        out = harq_outcome(model, 20.0, np.random.default_rng(seed))
        lost_first.append(out.extra_blocks / out.blocks)
    # Retransmissions per block >= P(first copy lost) = P(bad) = 0.01 / 0.11.
    assert np.mean(lost_first) > 0.9 * 0.01 / 0.11


def test_exhausted_retries_fail_the_request():
    """Every copy lost: 3 attempts of (8 blocks x 4 copies = 32 ms) with 50 ms back-offs."""
    errors = {"kind": "gilbert_elliott", "p": 0.0, "r": 1.0, "loss_good": 1.0, "loss_bad": 1.0}
    scenario = toy_scenario(
        devices__0__workload={"kind": "timestamps", "times_s": [0.0]},
        cells__0__errors=errors,
        cells__0__retry={"max_retries": 2, "backoff_s": 0.05},
    )
    row = sim.run(scenario).requests.iloc[0]
    assert row["outcome"] == "failed" and row["reason"] == "transfer_failed"
    assert row["t_uplink_end"] - row["t_tx_start"] == pytest.approx(3 * 0.032 + 2 * 0.05)


def test_error_free_bler_changes_nothing_and_timeout_fails():
    base = sim.run(toy_scenario()).requests
    no_errors = sim.run(toy_scenario(cells__0__errors={"kind": "bler", "first_bler": 0.0})).requests
    assert no_errors["t_uplink_end"].tolist() == pytest.approx(base["t_uplink_end"].tolist())
    slow = toy_scenario(
        cells__0__uplink={"kind": "constant", "rate_bps": 1e4},
        cells__0__transfer_timeout_s=0.5,
        devices__0__workload={"kind": "timestamps", "times_s": [0.0]},
    )
    row = sim.run(slow).requests.iloc[0]  # 8000 bit at 10 kbit/s needs 0.8 s > 0.5 s
    assert row["outcome"] == "failed" and row["reason"] == "transfer_failed"
    assert row["t_uplink_end"] - row["t_tx_start"] == pytest.approx(0.5)


def test_shared_cell_retries_and_harq_tail():
    """Shared path: the HARQ tail and retries follow the same rules as the dedicated path."""
    errors = {"kind": "gilbert_elliott", "p": 0.0, "r": 1.0, "loss_good": 1.0, "loss_bad": 1.0}
    req = sim.run(
        _two_devices(sharing="shared", errors=errors, retry={"max_retries": 1, "backoff_s": 0.05})
    ).requests
    assert set(req["reason"]) == {"transfer_failed"}
    # Each attempt: 2 devices x 32 ms of blocks sharing the cell = 64 ms; 2 attempts + back-off.
    durations = (req["t_uplink_end"] - req["t_tx_start"]).to_numpy()
    assert durations == pytest.approx([2 * 0.064 + 0.05] * 2)


def test_time_to_send_against_brute_force_on_random_series():
    """Random piecewise series with outages: finish times equal a plain segment walk."""
    rng = np.random.default_rng(7)
    for _ in range(30):
        n = int(rng.integers(1, 40))
        durations = rng.uniform(0.01, 2.0, n)
        rates = np.where(rng.random(n) < 0.3, 0.0, rng.uniform(1e3, 1e7, n))
        if rates.max() == 0:
            rates[0] = 1e6
        capacity = PiecewiseCapacity(SeriesSource(durations, rates, loop=True))
        edges = np.concatenate([[0.0], np.cumsum(np.tile(durations, 400))])
        tiled = np.tile(rates, 400)
        for start in rng.uniform(0, 3 * durations.sum(), 10):
            bits = float(rng.uniform(1, 5e6))
            k = int(np.searchsorted(edges, start, side="right")) - 1
            t, left = start, bits
            while tiled[k] * (edges[k + 1] - t) < left or tiled[k] == 0:
                left -= tiled[k] * (edges[k + 1] - t)
                t, k = edges[k + 1], k + 1
            expected = t + left / tiled[k]
            assert capacity.time_to_send(start, bits) == pytest.approx(expected, rel=1e-9)


def test_shared_cell_matches_a_fine_time_step_simulation():
    """Round robin on time-varying capacities: event-driven finish times vs 0.1 ms stepping."""
    import simpy

    from sim.channel.config import GilbertElliottUplink
    from sim.channel.shared import SharedCell

    ge = GilbertElliottUplink(
        kind="gilbert_elliott", good_rate_bps=2e6, bad_rate_bps=2e5, mean_good_s=0.3, mean_bad_s=0.1
    )
    caps = [build_capacity(ge, None, np.random.default_rng(s), horizon_s=10.0) for s in (1, 2, 3)]
    starts, bits = [0.0, 0.05, 0.12], [4e5, 1e5, 2.5e5]
    env = simpy.Environment()
    cell = SharedCell(env, "c")
    ends: dict[int, float] = {}

    def go(k):
        yield env.timeout(starts[k])
        cell.start(
            k, caps[k], bits[k], math.inf, lambda end, ok, sent, k=k: ends.setdefault(k, end)
        )

    for k in range(3):
        env.process(go(k))
    env.run()
    dt, t = 1e-4, 0.0
    left = list(bits)
    stepped: dict[int, float] = {}
    while len(stepped) < 3:
        active = [k for k in range(3) if starts[k] <= t + 1e-12 and k not in stepped]
        for k in active:
            left[k] -= caps[k].bits_between(t, t + dt) / len(active)
            if left[k] <= 0:
                stepped[k] = t + dt
        t += dt
    for k in range(3):
        assert ends[k] == pytest.approx(stepped[k], abs=3 * dt)


def test_shared_cell_bounds_change_no_finish_time(monkeypatch):
    """The cell computes finish times only for transfers whose bound r / (share c_max) could
    make them the first to end; the records equal those of computing every finish time."""
    scenario = sim.load(
        REPO / "scenarios" / "congested_lte.yaml",
        [
            "devices.pi.count=200",
            "devices.pi.workload.fps=0.5",
            "duration_s=30",
            "warmup_s=1",
            "servers.0.background=[]",
            "compare=[bottlefit_c12]",
        ],
    )
    bounded = sim.run(scenario)
    assert bounded.runs["bottlefit_c12"].servers["max_concurrent_uplinks"].max() >= 8
    monkeypatch.setattr(PiecewiseCapacity, "max_rate_bps", lambda self: None)
    everyone = sim.run(scenario)
    pd.testing.assert_frame_equal(bounded.requests, everyone.requests)
