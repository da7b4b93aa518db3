"""Small-scale fading against closed forms: Rayleigh outage, Rician power, Jakes autocorrelation."""

from __future__ import annotations

import numpy as np
import pytest

from sim.channel.capacity import PiecewiseCapacity
from sim.channel.fading import (
    AR1Fading,
    SumOfSinusoids,
    average_fade_duration_s,
    complex_normal,
    jakes_autocorrelation,
    level_crossing_rate_hz,
    rayleigh_rate_outage,
    rician,
)
from sim.channel.pathloss import noise_power_dbm, uma_nlos_db
from sim.channel.physical import PhysicalSource, PhysicalUplink
from tests.channel.helpers import assert_covers

SEEDS = range(8)
BANDWIDTH_HZ = 1.0e6


def _rayleigh_link(distance_m: float, seed: int, kind: str = "ar1") -> PhysicalSource:
    config = PhysicalUplink.model_validate(
        {
            "kind": "physical",
            "scenario": "uma",
            "carrier_ghz": 2.0,
            "position_m": [distance_m, 0.0],
            "los": "nlos",
            "shadowing": False,
            "fading": {"kind": kind, "environment_doppler_hz": 10.0},
            "link": {
                "mapping": "shannon",
                "bandwidth_hz": BANDWIDTH_HZ,
                "overhead": 0.0,
                "tx_power_dbm": 23.0,
                "noise_figure_db": 5.0,
            },
            "step_s": 0.01,
            "chunk_s": 50.0,
        }
    )
    return PhysicalSource(config, np.random.default_rng(seed))


def _mean_snr_db(distance_m: float) -> float:
    """Link budget by hand: 23 dBm - PL_UMa,NLOS(d) - (-174 + 60 + 5) dBm."""
    return (
        23.0
        - float(uma_nlos_db(distance_m, 2.0, 25.0, 1.5))
        - float(noise_power_dbm(BANDWIDTH_HZ, 5.0))
    )


@pytest.mark.parametrize("distance_m", [250.0, 400.0, 550.0, 700.0, 850.0])  # ~19 to -2 dB
def test_rayleigh_rate_outage_matches_closed_form(distance_m):
    """P(rate < R) over time, physical NLOS link with Rayleigh (AR(1)) fading, 8 replications."""
    threshold_bps = 1.0e6
    snr_db = _mean_snr_db(distance_m)
    fractions = []
    for seed in SEEDS:
        capacity = PiecewiseCapacity(_rayleigh_link(distance_m, seed))
        edges, rates = capacity.segments_until(200.0)
        durations = np.diff(edges)
        fractions.append(durations[rates < threshold_bps].sum() / durations.sum())
    expected = float(rayleigh_rate_outage(threshold_bps, BANDWIDTH_HZ, snr_db))
    assert 0.005 < expected < 0.9  # the distances span a useful range of mean SNRs
    assert_covers(fractions, expected)


def test_sum_of_sinusoids_outage_close_to_rayleigh():
    """Finite M: the power tail deviates from Rayleigh by O(1/M); within 5 % at M = 32."""
    rng = np.random.default_rng(3)
    power = np.concatenate(
        [
            np.abs(SumOfSinusoids(2e9, rng, 32).gains_at_times(np.arange(500) * 0.02, 10.0)) ** 2
            for _ in range(400)
        ]
    )
    for threshold in (0.1, 0.5, 1.0):
        assert (power < threshold).mean() == pytest.approx(1 - np.exp(-threshold), rel=0.05)


@pytest.mark.parametrize("k_db", [0.0, 3.0, 9.0, 15.0])
def test_rician_mean_power_and_variance(k_db):
    """E|h|^2 = 1 and Var|h|^2 = (1 + 2K)/(1 + K)^2 for a Rician gain (replications)."""
    k = 10 ** (k_db / 10)
    means, variances = [], []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        scatter = complex_normal(rng, 20000)
        phase = rng.uniform(0, 2 * np.pi) + np.linspace(0, 400 * np.pi, 20000)
        power = np.abs(rician(scatter, k, phase)) ** 2
        means.append(power.mean())
        variances.append(power.var())
    assert_covers(means, 1.0)
    assert_covers(variances, (1 + 2 * k) / (1 + k) ** 2)


def test_sum_of_sinusoids_autocorrelation_is_j0():
    """Ensemble autocorrelation of the SoS gain equals J0(2 pi f_D tau) at several lags."""
    doppler, step = 20.0, 0.002
    lags = np.array([0, 5, 10, 20, 30, 45])  # f_D tau from 0 to 1.8
    per_seed = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        acc = np.zeros(lags.size)
        realisations = 60
        for _ in range(realisations):
            h = SumOfSinusoids(2e9, rng, 16).gains_at_times(np.arange(200) * step, doppler)
            acc += [np.mean(h[lag:] * np.conj(h[: h.size - lag])).real for lag in lags]
        per_seed.append(acc / realisations)
    per_seed = np.array(per_seed)
    expected = jakes_autocorrelation(doppler, lags * step)
    for j in range(lags.size):
        assert_covers(per_seed[:, j], float(expected[j]), slack=0.02)


def test_ar1_autocorrelation_is_j0_at_one_step_and_geometric_beyond():
    doppler, step = 10.0, 0.01
    rho = AR1Fading.step_correlation(doppler, step)
    assert rho == pytest.approx(float(jakes_autocorrelation(doppler, step)))
    lag1, lag3 = [], []
    for seed in SEEDS:
        h = AR1Fading(np.random.default_rng(seed)).next(40000, rho)
        lag1.append(np.mean(h[1:] * np.conj(h[:-1])).real / np.mean(np.abs(h) ** 2))
        lag3.append(np.mean(h[3:] * np.conj(h[:-3])).real / np.mean(np.abs(h) ** 2))
    assert_covers(lag1, rho)
    assert_covers(lag3, rho**3)


def test_level_crossing_and_fade_duration_match_table_b7():
    """channels.md §B.7: 10 dB fade margin, f_D = 5.6 Hz -> bad 24 ms, good 225 ms."""
    rho = np.sqrt(10 ** (-10 / 10))
    afd = average_fade_duration_s(5.6, rho)
    good = np.exp(-(rho**2)) / level_crossing_rate_hz(5.6, rho)
    assert afd == pytest.approx(0.024, abs=0.001)
    assert good == pytest.approx(0.225, abs=0.003)
