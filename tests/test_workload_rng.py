"""Arrival processes against their theory; named random streams."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.rng import RandomStreams, replication_seeds, stream
from sim.workload import OnOff, Periodic, Poisson, Timestamps, arrival_times


def ci_contains(samples: np.ndarray, expected: float, level: float = 0.99) -> bool:
    half = (
        stats.t.ppf(0.5 + level / 2, samples.size - 1)
        * samples.std(ddof=1)
        / math.sqrt(samples.size)
    )
    return abs(samples.mean() - expected) <= half


def test_poisson_counts_and_gaps():
    config = Poisson(kind="poisson", rate_hz=20.0)
    counts, gaps_cv = [], []
    for seed in range(30):
        times = arrival_times(config, 50.0, stream(seed, "w"))
        counts.append(times.size)
        gaps = np.diff(times)
        gaps_cv.append(gaps.std() / gaps.mean())
    counts = np.array(counts, dtype=float)
    assert ci_contains(counts, 1000.0)
    # Poisson: variance of the count equals its mean (dispersion index 1).
    assert 0.5 < counts.var(ddof=1) / counts.mean() < 1.8
    assert ci_contains(np.array(gaps_cv), 1.0)  # exponential gaps have CV 1


def test_mmpp_mean_rate():
    config = OnOff(kind="on_off", on_rate_hz=50.0, off_rate_hz=2.0, mean_on_s=1.0, mean_off_s=3.0)
    rates = np.array([arrival_times(config, 200.0, stream(s, "w")).size / 200.0 for s in range(20)])
    assert ci_contains(rates, config.mean_rate_hz)  # (50*1 + 2*3)/4 = 14 /s
    assert config.mean_rate_hz == pytest.approx(14.0)
    # Bursty: counts in 1 s windows are over-dispersed relative to Poisson.
    times = arrival_times(config, 400.0, stream(0, "w"))
    per_second = np.bincount(times.astype(int), minlength=400)
    assert per_second.var() / per_second.mean() > 3


def test_periodic_with_and_without_jitter():
    exact = arrival_times(
        Periodic(kind="periodic", fps=10, random_phase=False), 2.0, stream(1, "w")
    )
    np.testing.assert_allclose(exact, np.arange(20) / 10)
    jittered = arrival_times(
        Periodic(kind="periodic", fps=10, jitter_s=0.001), 100.0, stream(1, "w")
    )
    assert np.all(np.diff(jittered) >= 0)
    gaps = np.diff(jittered)
    assert gaps.mean() == pytest.approx(0.1, rel=1e-3)
    assert 0.0005 < gaps.std() < 0.003  # sqrt(2) x 1 ms


def test_timestamps_are_cut_at_horizon():
    config = Timestamps(kind="timestamps", times_s=[0.0, 1.0, 2.0, 9.0])
    assert arrival_times(config, 5.0, stream(0, "w")).tolist() == [0.0, 1.0, 2.0]


def test_named_streams_are_stable_and_independent():
    a = stream(42, "arrivals/pi/0").random(3)
    b = stream(42, "arrivals/pi/0").random(3)
    c = stream(42, "arrivals/pi/1").random(3)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    # Fixed across processes and Python versions: the name hash is BLAKE2b, not hash().
    assert stream(1, "x").integers(0, 2**31) == stream(1, "x").integers(0, 2**31)
    streams = RandomStreams(5)
    assert streams("a") is streams("a")
    seeds = replication_seeds(7, 4)
    assert len(set(seeds)) == 4 and seeds == replication_seeds(7, 4)


def test_counter_stream_equals_a_fresh_philox_at_that_counter():
    """CounterStream re-seats numpy's Philox state (buffer spent) instead of building a new
    generator per call; its draws must be a fresh ``Philox(key, counter)``'s, in any order."""
    from sim.rng import CounterStream

    key = np.array([2**63 + 12345, 678], dtype=np.uint64)
    stream = CounterStream(key)
    for family, start, count in [(3, 1000, 5), (0, 0, 1), (3, 2, 7), (1, 2**40, 3)]:
        counter = np.array([start, family, 0, 0], dtype=np.uint64)
        fresh = np.random.Generator(np.random.Philox(key=key, counter=counter))
        expected = fresh.random(CounterStream.LANES * count).reshape(count, CounterStream.LANES)
        assert np.array_equal(stream.uniforms(family, start, count), expected)
