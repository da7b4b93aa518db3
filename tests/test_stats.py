"""sim.stats against hand calculations, scipy's own binomial intervals, and seeded coverage runs."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats as sps

from sim.stats import (
    IntervalWiderThanEffect,
    batch_means_interval,
    batch_proportion_interval,
    clopper_pearson_interval,
    format_interval,
    paired_interval,
    position,
    proportion_interval,
    t_interval,
    warn_if_wider_than_effect,
    wilson_interval,
)

# Student-t and normal quantiles from printed tables (NIST/SEMATECH e-Handbook 1.3.6.7.1-2).
T_975_DF2 = 4.302653
T_975_DF4 = 2.776445
Z_975 = 1.959964


def test_t_interval_by_hand():
    ci = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    half = T_975_DF4 * math.sqrt(2.5) / math.sqrt(5)
    assert ci["mean"] == 3.0 and ci["n"] == 5 and not ci["zero_variance"]
    assert ci["half_width"] == pytest.approx(half, rel=1e-6)


def test_zero_variance_is_exact_and_flagged():
    # 0.1 + 0.2 three ways: round-off gives a std of ~1e-17 unless equal values are detected.
    values = [0.1 + 0.2, 0.3, 0.30000000000000004]
    assert np.std(values, ddof=1) > 0
    ci = t_interval(values)
    assert ci["zero_variance"] and ci["half_width"] == 0.0 and ci["std"] == 0.0
    assert format_interval(ci["mean"], ci["half_width"], n=3, zero_variance=True) == (
        "0.3 (all 3 equal)"
    )
    assert math.isnan(t_interval([2.0])["half_width"])


def test_t_interval_clipped_to_bounds():
    # 0.0, 0.0, 0.3: mean 0.1, s = sqrt(0.03), half = 4.302653 * 0.1732 / 1.732 = 0.4303.
    ci = t_interval([0.0, 0.0, 0.3], bounds=(0.0, 1.0))
    assert ci["half_width"] == pytest.approx(T_975_DF2 * math.sqrt(0.03) / math.sqrt(3), rel=1e-6)
    assert ci["ci_low"] == 0.0 and ci["clipped"]


def test_wilson_by_hand_and_scipy():
    # Wilson: (p + z^2/2n ± z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n), k = 7, n = 20.
    k, n, z = 7, 20, Z_975
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    low, high = wilson_interval(k, n)
    assert (low, high) == pytest.approx((centre - half, centre + half), rel=1e-5)
    ref = sps.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert (low, high) == pytest.approx((ref.low, ref.high), rel=1e-12)


def test_clopper_pearson_matches_scipy_and_beta_quantiles():
    for k, n in ((0, 30), (3, 30), (30, 30), (1, 1)):
        low, high = clopper_pearson_interval(k, n)
        ref = sps.binomtest(k, n).proportion_ci(0.95, method="exact")
        assert (low, high) == pytest.approx((ref.low, ref.high), abs=1e-12)
    # k = 0 of n: the upper bound solves (1 - p)^n = 0.025 by hand.
    assert clopper_pearson_interval(0, 30)[1] == pytest.approx(1 - 0.025 ** (1 / 30), rel=1e-9)


def test_proportion_interval_by_hand():
    """Korn-Graubard, three replications of 100 requests with 10, 20, 30 misses."""
    ci = proportion_interval([10, 20, 30], [100, 100, 100])
    pooled = 0.2
    variance = ((0.1 - 0.2) ** 2 + 0 + (0.3 - 0.2) ** 2) / (3 * 2)  # s^2 / R with equal n
    n_eff = min(300, pooled * (1 - pooled) / variance) * (Z_975 / T_975_DF2) ** 2
    x = pooled * n_eff
    low = sps.beta.ppf(0.025, x, n_eff - x + 1)
    high = sps.beta.ppf(0.975, x + 1, n_eff - x)
    assert ci["mean"] == pytest.approx(0.2)
    assert ci["n_eff"] == pytest.approx(n_eff, rel=1e-6)  # 48 * 0.2075 = 9.96 (table quantiles)
    assert (ci["ci_low"], ci["ci_high"]) == pytest.approx((low, high), rel=1e-5)
    assert 0.0 <= ci["ci_low"] < 0.2 < ci["ci_high"] <= 1.0


def test_proportion_interval_stays_in_unit_interval_where_t_does_not():
    """The issue's example: three miss rates around 0.52 with a t-interval of ± 0.76."""
    misses, n = [0, 60, 96], [100, 100, 100]
    t = t_interval(np.array(misses) / 100)
    assert t["ci_low"] < 0 and t["ci_high"] > 1
    kg = proportion_interval(misses, n)
    assert 0.0 <= kg["ci_low"] <= kg["mean"] <= kg["ci_high"] <= 1.0
    none = proportion_interval([0, 0, 0], [50, 50, 50])
    assert none["zero_variance"] and none["ci_low"] == 0.0 and 0 < none["ci_high"] < 0.2
    # One replication: Clopper-Pearson of its own trials.
    one = proportion_interval([7], [20])
    ref = sps.binomtest(7, 20).proportion_ci(0.95, method="exact")
    assert (one["ci_low"], one["ci_high"]) == pytest.approx((ref.low, ref.high), rel=1e-9)
    with pytest.raises(ValueError, match="successes"):
        proportion_interval([5], [4])


@pytest.mark.parametrize(
    ("p", "icc", "reps", "trials"),
    [(0.3, 0.05, 3, 100), (0.05, 0.02, 5, 100), (0.5, 0.2, 3, 50)],
)
def test_proportion_interval_coverage_by_simulation(p, icc, reps, trials):
    """Replications whose miss probability itself varies (beta-binomial, intra-class
    correlation ``icc``): the 95 % interval covers the true mean rate at least ~95 % of the
    time (seeded, 1500 trials; Monte Carlo s.e. about 0.006), and never leaves [0, 1]."""
    gen = np.random.default_rng(20261206)
    a, b = p * (1 - icc) / icc, (1 - p) * (1 - icc) / icc
    covered = 0
    trials_n = 1500
    for _ in range(trials_n):
        k = gen.binomial(trials, gen.beta(a, b, reps))
        ci = proportion_interval(k, np.full(reps, trials))
        assert 0.0 <= ci["ci_low"] <= ci["ci_high"] <= 1.0
        covered += ci["ci_low"] <= p <= ci["ci_high"]
    coverage = covered / trials_n
    assert 0.935 <= coverage <= 0.999, coverage


def test_t_interval_coverage_by_simulation():
    gen = np.random.default_rng(7)
    covered = sum(
        (ci := t_interval(gen.normal(3.0, 2.0, 4)))["ci_low"] <= 3.0 <= ci["ci_high"]
        for _ in range(3000)
    )
    assert abs(covered / 3000 - 0.95) < 0.015


def test_batch_intervals():
    values = np.arange(40, dtype=float)  # 10 batches of 4: means 1.5, 5.5, ..., 37.5
    mean, half = batch_means_interval(values, batches=10)
    means = np.arange(10) * 4 + 1.5
    assert mean == 19.5
    assert half == pytest.approx(2.262157 * means.std(ddof=1) / math.sqrt(10), rel=1e-6)
    assert math.isnan(batch_means_interval(values[:5], batches=10)[1])
    outcomes = np.zeros(100)
    outcomes[:50] = 1.0  # all misses in the first half: strongly correlated
    low, high = batch_proportion_interval(outcomes)
    wilson = wilson_interval(50, 100)
    assert low < wilson[0] and high > wilson[1]  # correlation widens it
    assert batch_proportion_interval(np.ones(5)) == pytest.approx(wilson_interval(5, 5))


def test_paired_interval_and_effect_warning():
    a, b = [1.0, 2.0, 3.0], [0.9, 1.9, 2.9]
    ci = paired_interval(a, b)
    assert ci["mean"] == pytest.approx(0.1) and ci["zero_variance"]
    with pytest.warns(IntervalWiderThanEffect, match="wider than the effect"):
        assert warn_if_wider_than_effect(0.01, 0.05, "latency")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_if_wider_than_effect(0.1, 0.05, "latency")
    assert position(0.5, 0.1, 0.4) == "above"
    assert position(0.05, 0.1, 0.4) == "below"
    assert position(0.2, 0.1, 0.4) == "inside"
    assert position(0.2, math.nan, math.nan) == "no interval"
