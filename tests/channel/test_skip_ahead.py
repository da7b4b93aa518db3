"""Skipping time in a capacity process: exact where it is used, right in law, the same channel
for every strategy.

A capacity that skips ahead (``PiecewiseCapacity(skip_after_s=...)``) must give every
transfer the finish time the fully generated process gives, land its sources on their
transient law after a gap, and keep common random numbers across strategies.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import expm

import sim
import sim.engine
from sim.channel import arrival_windows
from sim.channel.capacity import PiecewiseCapacity
from sim.channel.fading import AR1Fading, SumOfSinusoids
from sim.channel.gilbert import per_step_probabilities, stationary_bad
from sim.channel.physical import PhysicalSource, PhysicalUplink
from sim.channel.sources import MarkovSource, SeriesSource
from tests.channel.helpers import assert_covers
from tests.conftest import REPO

SCENARIO = REPO / "scenarios" / "congested_lte.yaml"
SPARSE = [
    "devices.pi.count=40",
    "devices.pi.workload.fps=0.2",
    "duration_s=60",
    "warmup_s=1",
    "servers.0.background=[]",
]

BLOCKAGE = {"mean_clear_s": 3.3, "mean_blocked_s": 0.5, "loss_db": 25.0}
PHYSICAL_CASES = {
    "static, sum of sinusoids, blockage": {
        "distance_m": [30.0, 250.0],
        "fading": {"kind": "sum_of_sinusoids", "environment_doppler_hz": 2.0},
        "blockage": BLOCKAGE,
    },
    "static, block fading, power control": {
        "position_m": [180.0, 40.0],
        "fading": {"kind": "block", "environment_doppler_hz": 5.0},
        "link": {"power_control": {"p0_dbm": -95.0}},
        "blockage": BLOCKAGE,
    },
    "straight line between two stations, handovers": {
        "base_stations": [{"name": "a"}, {"name": "b", "x_m": 600.0}],
        "position_m": [50.0, 20.0],
        "mobility": {
            "kind": "straight_line",
            "speed_mps": 15.0,
            "heading_deg": 10.0,
            "area_m": {"x_m": [0.0, 600.0], "y_m": [0.0, 60.0]},
        },
        "fading": {"kind": "sum_of_sinusoids"},
        "blockage": BLOCKAGE,
    },
    "random waypoint, no fading": {
        "mobility": {
            "kind": "random_waypoint",
            "area_m": {"x_m": [-300.0, 300.0], "y_m": [-300.0, 300.0]},
            "speed_mps": [1.0, 3.0],
        },
        "fading": {"kind": "none"},
        "blockage": BLOCKAGE,
    },
}


def _physical(fields: dict) -> PhysicalUplink:
    return PhysicalUplink.model_validate({"kind": "physical", **fields})


@pytest.mark.parametrize("case", list(PHYSICAL_CASES))
def test_transfers_after_a_gap_match_the_fully_generated_process(case):
    """Every process of a physical uplink is deterministic given its draws or addressed by
    step, so the skipping capacity gives each transfer the same c(t) and finish time."""
    config = _physical(PHYSICAL_CASES[case])
    for seed in range(3):
        full_source = PhysicalSource(config, np.random.default_rng(seed))
        skip_source = PhysicalSource(config, np.random.default_rng(seed))
        full = PiecewiseCapacity(full_source)
        skipping = PiecewiseCapacity(skip_source, skip_after_s=1.0)
        for start in [0.73, 9.31, 9.9, 41.025, 97.77, 250.104, 251.0]:
            bits = 4e5
            end = skipping.time_to_send(start, bits)
            assert end == pytest.approx(full.time_to_send(start, bits), rel=1e-12, abs=1e-9)
            # The capacity itself, step by step, over the transfer.
            steps = np.arange(math.ceil(start / 0.01), math.floor(end / 0.01)) * 0.01 + 0.005
            assert [skipping.rate_at(t) for t in steps] == [full.rate_at(t) for t in steps]
            assert skip_source.tx_power_dbm_at(start) == full_source.tx_power_dbm_at(start)
        assert len(skipping.gaps) >= 4
        assert skipping.rates.size < full.rates.size / 10
        generated_until = skipping.edges[-1]
        assert skip_source.handover_times_s == [
            t for t in full_source.handover_times_s if t < generated_until
        ]


WINDOW_CASES = {
    "sum of sinusoids, blockage": {
        "distance_m": [30.0, 250.0],
        "fading": {"kind": "sum_of_sinusoids", "environment_doppler_hz": 2.0},
        "blockage": BLOCKAGE,
    },
    "sum of sinusoids, LOS, no blockage": {
        "distance_m": [30.0, 60.0],
        "los": "los",
        "fading": {"kind": "sum_of_sinusoids", "environment_doppler_hz": 5.0},
    },
    "no fading, blockage of a few steps": {
        "distance_m": [100.0, 200.0],
        "fading": {"kind": "none"},
        "blockage": {"mean_clear_s": 0.5, "mean_blocked_s": 0.03, "loss_db": 30.0},
    },
}


@pytest.mark.parametrize("lookback", [None, 1])
@pytest.mark.parametrize("case", list(WINDOW_CASES))
def test_windows_around_arrivals_hold_the_fully_generated_steps(case, lookback, monkeypatch):
    """A static device's first chunk after a skip is read from windows computed in batches
    around its arrival times: every transfer sees the c(t) of the fully generated process,
    whether it starts early in its window, late in it, or after it (generated as before).
    ``lookback`` 1 makes the blockage state before almost every window come from the
    scalar fallback instead of the vectorised search."""
    if lookback is not None:
        monkeypatch.setattr(arrival_windows, "BLOCKAGE_LOOKBACK_STEPS", lookback)
    config = _physical(WINDOW_CASES[case])
    rng = np.random.default_rng(11)
    for seed in range(3):
        arrivals = np.cumsum(rng.exponential(6.0, 70))  # 0.17 Hz: nearly every start skips
        full_source = PhysicalSource(config, np.random.default_rng(seed))
        skip_source = PhysicalSource(config, np.random.default_rng(seed))
        full = PiecewiseCapacity(full_source)
        skipping = PiecewiseCapacity(skip_source, skip_after_s=2.0, anchors_s=arrivals)
        landed, end = [], 0.0
        accelerator = skip_source.arrival_windows
        assert accelerator is not None
        window_at = accelerator.window_at

        def counting(k1, window_at=window_at, landed=landed):
            found = window_at(k1)
            landed.append(found is not None)
            return found

        accelerator.window_at = counting
        for k, arrival in enumerate(arrivals):
            # One transfer at a time, as a device's uplink sends them; the last delay is past
            # the window (1 s from the arrival), so that transfer generates as before.
            start = max(arrival + [0.0073, 0.267, 0.74, 1.6][k % 4], end)
            bits = [4e4, 4e5, 3e6][k % 3]
            end = skipping.time_to_send(start, bits)
            assert end == pytest.approx(full.time_to_send(start, bits), rel=1e-12, abs=1e-9)
            steps = np.arange(math.ceil(start / 0.01), math.floor(end / 0.01)) * 0.01 + 0.005
            assert [skipping.rate_at(t) for t in steps] == [full.rate_at(t) for t in steps]
        # ~50 skips, three in four within their window.
        assert sum(landed) > 25 and len(landed) - sum(landed) > 5
        assert len(skipping.gaps) >= len(landed)


def test_gains_at_any_steps_equal_the_grid_gains():
    sos = SumOfSinusoids(2e9, np.random.default_rng(4))
    grid = sos.gains_on_grid(1000, 400, 0.0031)
    steps = np.array([[1000, 1031, 1032], [1399, 1064, 1200]])
    assert np.array_equal(sos.gains_at_steps(steps, 0.0031), grid[steps - 1000])


def test_a_skipped_gap_is_one_segment_and_no_transfer_starts_inside_it():
    config = _physical(PHYSICAL_CASES["static, sum of sinusoids, blockage"])
    source = PhysicalSource(config, np.random.default_rng(0))
    capacity = PiecewiseCapacity(source, skip_after_s=2.0)
    capacity.time_to_send(100.0, 1e5)
    (gap,) = capacity.gaps
    assert gap == (0.0, 100.0)
    assert capacity.edges[1] == 100.0 and capacity.generated(100.0, 100.1)
    assert not capacity.generated(50.0, 50.0)
    # bits_until is defined and non-decreasing across the gap (a placeholder fill).
    grid = np.linspace(0.0, 100.2, 500)
    assert np.all(np.diff([capacity.bits_until(t) for t in grid]) >= 0)
    with pytest.raises(RuntimeError, match="inside a skipped gap"):
        capacity.time_to_send(50.0, 1e5)


def test_ar1_skip_has_the_gauss_markov_law():
    """h after a skip of n steps: E|h|^2 = 1, E[h_n h_0*] = rho^n, and the steps after it
    continue the same AR(1) (correlation rho per step). 8 replications of 1500 gains."""
    rho = AR1Fading.step_correlation(5.0, 0.01)
    for lag in (20, 150):
        power, cross, after = [], [], []
        for rep in range(8):
            h0, hn, hn1 = [], [], []
            for k in range(1500):
                fading = AR1Fading(np.random.default_rng(100_000 * rep + 10 * lag + k))
                h0.append(fading.next(1, rho)[0])
                fading.skip(lag - 1, rho)
                hn1.append(fading.next(2, rho))
            pair = np.array(hn1)
            hn, h0 = pair[:, 0], np.array(h0)
            power.append(np.mean(np.abs(hn) ** 2))
            cross.append(np.mean(hn * np.conj(h0)).real)
            after.append(np.mean(pair[:, 1] * np.conj(hn)).real)
        assert_covers(power, 1.0)
        assert_covers(cross, rho**lag)
        assert_covers(after, rho)


def test_blockage_after_a_skip_follows_the_transient_law():
    """P(blocked at step n, blocked at step 0) = pi (pi + (1 - pi) (1 - p - r)^n) for the
    10 ms Gilbert-Elliott chain, and P(blocked at n) = pi; 8 replications of 600 devices."""
    clear_s, blocked_s, step = 0.5, 0.3, 0.01
    config = _physical(
        {
            "position_m": [100.0, 0.0],
            "los": "los",
            "shadowing": False,
            "fading": {"kind": "none"},
            "blockage": {"mean_clear_s": clear_s, "mean_blocked_s": blocked_s, "loss_db": 60.0},
        }
    )
    p, r = per_step_probabilities(clear_s, blocked_s, step)
    pi = stationary_bad(p, r)
    for lag in (15, 60):
        both, marginal = [], []
        for rep in range(8):
            first, later = [], []
            for k in range(600):
                source = PhysicalSource(config, np.random.default_rng(7919 * rep + 31 * lag + k))
                source.chunk_rates(1)  # step 0
                first.append(source._blocked)
                source.skip_to(0.01, (1 + lag) * step + 1e-6)  # state at step `lag`
                later.append(source._blocked)
            first, later = np.array(first), np.array(later)
            both.append(np.mean(first * later))
            marginal.append(np.mean(later))
        assert_covers(both, pi * (pi + (1 - pi) * (1 - p - r) ** lag))
        assert_covers(marginal, pi)


def test_blockage_occupancy_of_a_skipping_capacity_is_stationary():
    """Over the stretches a skipping capacity generates (each after a jump), the blocked
    fraction is the stationary pi = T_blocked / (T_clear + T_blocked) in continuous time."""
    config = _physical(
        {
            "position_m": [100.0, 0.0],
            "los": "los",
            "shadowing": False,
            "fading": {"kind": "none"},
            "blockage": {"mean_clear_s": 2.0, "mean_blocked_s": 0.5, "loss_db": 60.0},
        }
    )
    fractions = []
    for seed in range(8):
        capacity = PiecewiseCapacity(
            PhysicalSource(config, np.random.default_rng(seed)), skip_after_s=1.0
        )
        blocked = generated = 0.0
        for start in np.arange(1.0, 4000.0, 7.0):
            capacity.rate_at(start)
        edges, rates = capacity.edges, capacity.rates
        top = rates.max()
        for a, b, rate in zip(edges[:-1], edges[1:], rates, strict=True):
            if capacity.generated(a, b):
                generated += b - a
                blocked += (b - a) * (rate < top)
        fractions.append(blocked / generated)
    assert_covers(fractions, 0.5 / 2.5)


def _three_state_chain(rng, step_s=None) -> MarkovSource:
    jump = np.array([[0.0, 0.7, 0.3], [0.5, 0.0, 0.5], [0.9, 0.1, 0.0]])
    source = MarkovSource(
        np.array([1e6, 5e6, 2e7]), np.array([0.4, 0.25, 0.6]), jump, rng, initial=0, step_s=step_s
    )
    source.MIN_SKIPPED_JUMPS = 0.0  # skip even a short gap: its transient law is the test
    return source


@pytest.mark.parametrize("step_s", [None, 0.05])
def test_markov_skip_lands_on_the_transient_law(step_s):
    """State after a skip of t from state 0: row 0 of expm(Q t), or of P^(t/step) for the
    discrete-time chain; 8 replications of 800 chains."""
    elapsed = 0.35
    probe = _three_state_chain(np.random.default_rng(0), step_s)
    matrix = probe.generator_matrix()
    if step_s is None:
        expected = expm(matrix * elapsed)[0]
    else:
        expected = np.linalg.matrix_power(matrix, round(elapsed / step_s))[0]
    assert probe.transient_row(0, elapsed if step_s is None else round(elapsed / step_s)) == (
        pytest.approx(expected, abs=1e-12)
    )
    frequencies = []
    for rep in range(8):
        states = []
        for k in range(800):
            source = _three_state_chain(np.random.default_rng(1000 * rep + k), step_s)
            skip = source.skip_to(0.0, elapsed + 1e-9)
            assert skip is not None and skip.to_s == pytest.approx(elapsed)
            states.append(source._state)
        frequencies.append(np.bincount(states, minlength=3) / len(states))
    frequencies = np.array(frequencies)
    for j in range(3):
        assert_covers(frequencies[:, j], float(expected[j]))


def test_markov_occupancy_after_skips_is_stationary():
    """The time-average capacity over the stretches generated after jumps is the stationary
    mean (8 replications)."""
    means = []
    for seed in range(8):
        source = _three_state_chain(np.random.default_rng(seed))
        capacity = PiecewiseCapacity(source, skip_after_s=3.0)
        for start in np.arange(0.5, 3000.0, 9.0):
            capacity.time_to_send(start, 1e5)
        edges, rates = capacity.edges, capacity.rates
        kept = [
            (b - a, rate)
            for a, b, rate in zip(edges[:-1], edges[1:], rates, strict=True)
            if capacity.generated(a, b)
        ]
        durations, values = np.array(kept).T
        assert len(capacity.gaps) > 100
        means.append(float(np.dot(durations, values) / durations.sum()))
    assert_covers(means, _three_state_chain(np.random.default_rng(0)).long_run_mean_bps())


def test_non_positional_source_lands_on_the_anchor():
    """A Markov chain's skip lands on the arrival that caused the query, not on the query."""
    source = _three_state_chain(np.random.default_rng(3))
    capacity = PiecewiseCapacity(source, skip_after_s=2.0, anchors_s=np.array([5.0, 12.0]))
    capacity.time_to_send(0.1, 1e4)
    capacity.time_to_send(12.4, 1e4)
    assert capacity.gaps[-1][1] == 12.0


def test_series_skip_keeps_bits_until_exact():
    """Trace replay skips by index arithmetic and fills a gap with its exact mean."""
    rng = np.random.default_rng(5)
    durations, rates = rng.uniform(0.05, 0.5, 300), rng.uniform(0.0, 2e7, 300)
    for loop in (True, False):
        full = PiecewiseCapacity(SeriesSource(durations, rates, offset_s=13.7, loop=loop))
        skipping = PiecewiseCapacity(
            SeriesSource(durations, rates, offset_s=13.7, loop=loop), skip_after_s=1.0
        )
        for k, t in enumerate(np.sort(rng.uniform(0.0, 400.0, 60))):
            assert skipping.bits_until(t) == pytest.approx(full.bits_until(t), rel=1e-9)
            if k % 5 == 0:
                assert skipping.time_to_send(t, 1e6) == pytest.approx(
                    full.time_to_send(t, 1e6), rel=1e-12
                )
        assert len(skipping.gaps) >= (3 if loop else 1)  # an ended series is not skipped


def test_skipping_changes_no_record_of_a_run(monkeypatch):
    """The engine's skipping is exact for the physical uplink: the same records without it."""
    scenario = sim.load(SCENARIO, SPARSE)
    skipped = sim.run(scenario)
    monkeypatch.setattr(sim.engine, "DEFAULT_SKIP_AFTER_S", None)
    generated = sim.run(scenario)
    assert sum(len(c.gaps) for c in skipped.runs["offload"].capacity.values()) > 100
    assert not any(c.gaps for c in generated.runs["offload"].capacity.values())
    pd.testing.assert_frame_equal(skipped.requests, generated.requests, rtol=1e-9)


def test_strategies_see_the_same_channel_where_both_generated_it():
    """Common random numbers with sparse senders. Each strategy generates the capacity around
    its own transfers and skips the rest, so the generated stretches differ; wherever two
    strategies both generated it, c(t) is the same, and so is every transfer's integral."""
    scenario = sim.load(SCENARIO, [*SPARSE, "compare=[offload, bottlefit_c12, bottlefit_c6]"])
    results = sim.run(scenario)
    caps = {s: results.runs[s].capacity for s in results.strategies}
    req = results.requests
    compared = differing = 0
    for device, reference in caps["offload"].items():
        for strategy in ("bottlefit_c12", "bottlefit_c6"):
            other = caps[strategy][device]
            ends = (reference.edges[-1], other.edges[-1])
            grid = np.arange(0.005, min(ends), 0.01)
            both = [t for t in grid if reference.generated(t, t) and other.generated(t, t)]
            differing += len(grid) != len(both)
            assert [reference.rate_at(t) for t in both] == [other.rate_at(t) for t in both]
            compared += len(both)
            rows = req[(req["strategy"] == strategy) & (req["device"] == device)]
            for start, end in rows[["t_tx_start", "t_uplink_end"]].dropna().to_numpy():
                if np.isfinite(end) and reference.generated(start, end):
                    assert reference.bits_between(start, end) == pytest.approx(
                        other.bits_between(start, end), rel=1e-9
                    )
    assert compared > 10_000 and differing > 0


def test_step_power_gains_of_a_run_of_steps_equal_those_of_any_steps():
    """The grid path (a run of steps: the recurrence) and the arrival windows (any steps, any
    shape) read the same public function; both forms give the same gains bit for bit."""
    config = _physical(WINDOW_CASES["sum of sinusoids, LOS, no blockage"])
    source = PhysicalSource(config, np.random.default_rng(5))
    run = np.arange(700, 1100)
    scattered = np.array([[700, 1099, 850], [1000, 701, 777]])
    along = source.step_power_gains(run, True)
    assert np.array_equal(source.step_power_gains(scattered, True), along[scattered - 700])
