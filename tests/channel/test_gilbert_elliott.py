"""Gilbert-Elliott: stationary bad-state probability p/(p+r) and mean burst length 1/r."""

from __future__ import annotations

import numpy as np
import pytest

from sim.channel.capacity import PiecewiseCapacity
from sim.channel.config import GilbertElliottUplink, build_capacity
from sim.channel.gilbert import per_step_probabilities, run_lengths, sample_states
from sim.channel.sources import MarkovSource
from tests.channel.helpers import assert_covers

SEEDS = range(10)


@pytest.mark.parametrize(("p", "r"), [(0.03, 0.2), (0.005, 0.3), (0.2, 0.6)])
def test_discrete_ge_stationary_and_bursts(p, r):
    """channels.md §B.7 defaults and a fast chain: P(bad) = p/(p+r), bad runs 1/r, good 1/p."""
    bad_fraction, bad_burst, good_run = [], [], []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        states, _ = sample_states(200_000, p, r, rng)
        values, lengths = run_lengths(states)
        inner_values, inner = values[1:-1], lengths[1:-1]  # whole runs only
        bad_fraction.append(states.mean())
        bad_burst.append(inner[inner_values == 1].mean())
        good_run.append(inner[inner_values == 0].mean())
    assert_covers(bad_fraction, p / (p + r))
    assert_covers(bad_burst, 1 / r)
    assert_covers(good_run, 1 / p)


def test_discrete_ge_continues_across_calls():
    """Sampling in pieces has the same law as in one go (the run in progress carries over)."""
    p, r = 0.05, 0.25
    bursts = []
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        pieces, state = [], None
        for _ in range(400):
            piece, state = sample_states(500, p, r, rng, state)
            pieces.append(piece)
        values, lengths = run_lengths(np.concatenate(pieces))
        bursts.append(lengths[1:-1][values[1:-1] == 1].mean())
    assert_covers(bursts, 1 / r)


def test_continuous_ge_capacity_bad_fraction_and_outage_length():
    """The gilbert_elliott uplink kind: time fraction bad = T_bad/(T_good+T_bad), bad periods T_bad."""
    config = GilbertElliottUplink(
        kind="gilbert_elliott",
        good_rate_bps=20e6,
        bad_rate_bps=0.0,
        mean_good_s=3.3,
        mean_bad_s=0.5,
    )
    fractions, outages = [], []
    for seed in SEEDS:
        capacity = build_capacity(config, None, np.random.default_rng(seed), horizon_s=3000.0)
        edges, rates = capacity.segments_until(3000.0)
        durations = np.diff(edges)
        fractions.append(durations[rates == 0].sum() / durations.sum())
        outages.append(durations[rates == 0].mean())
    assert_covers(fractions, config.bad_fraction)
    assert_covers(outages, 0.5)
    assert config.bad_fraction == pytest.approx(0.5 / 3.8)


def test_discrete_time_markov_source_on_grid():
    """With step_s the chain jumps on the grid only and keeps its mean holding times."""
    source = MarkovSource(
        np.array([1e6, 0.0]),
        np.array([2.0, 0.5]),
        np.array([[0, 1.0], [1.0, 0]]),
        np.random.default_rng(1),
        step_s=0.1,
    )
    capacity = PiecewiseCapacity(source)
    edges, rates = capacity.segments_until(20000.0)
    steps = np.diff(edges) / 0.1
    assert np.allclose(steps, np.round(steps))
    assert np.diff(edges)[rates == 0].mean() == pytest.approx(0.5, rel=0.05)
    p, r = per_step_probabilities(2.0, 0.5, 0.1)
    assert p == pytest.approx(0.1 / 2.0, rel=0.03) and r == pytest.approx(0.1 / 0.5, rel=0.11)
