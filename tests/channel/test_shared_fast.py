"""The shared cell's fast PF walk (sim/channel/_kernels.py) against the numpy walk.

The two compute the same model from the same inputs: the closed-form shares equal
the Gauss-Legendre ones to 1e-12 (both are exact for these polynomials), the
written-out cases of the closed form equal its general loop bit for bit, and a
cell or a whole scenario run gives the same outcomes with either walk, times and
energies equal to rounding (1e-9 relative).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
import simpy

import sim
from sim.channel import _kernels, _kernels_shares, shared
from sim.channel.capacity import ConstantCapacity, PiecewiseCapacity
from sim.channel.quantile_scheduler import pf_shares
from sim.channel.ratelaw import fading_rate_law
from sim.channel.shared import SharedCell
from sim.channel.sources import SeriesSource

SCENARIOS = __import__("pathlib").Path(__file__).resolve().parents[2] / "scenarios"
STEP_S = 1e-3
LEVELS_BPS = np.array([0.0, 1.5e6, 4e6, 9e6, 16e6, 25e6, 35e6])  # a quantised rate mapping


def _random_pieces(rng: np.random.Generator, users: int, pieces: int):
    """Rates and quantile atoms of ``users`` on ``pieces``: some cannot send, some have no
    law ([0, 1]), atoms from wide to very narrow, some sharing an upper end."""
    lower = rng.uniform(0.0, 0.95, (users, pieces))
    width = rng.uniform(0.0, 1.0, (users, pieces)) * rng.choice([1.0, 1e-2, 1e-4], (users, pieces))
    upper = np.minimum(lower + np.maximum(width, 1e-7), 1.0)
    lower = np.minimum(lower, upper - 1e-7)
    upper[1::3] = np.where(rng.random(pieces) < 0.3, upper[0], upper[1::3])
    lower = np.minimum(lower, upper - 1e-7)
    no_law = rng.random((users, pieces)) < 0.1
    lower[no_law], upper[no_law] = 0.0, 1.0
    rates = np.where(rng.random((users, pieces)) < 0.1, 0.0, rng.uniform(1e6, 3e7, (users, pieces)))
    return rates, lower, upper


def _exact_shares(rates: list[float], lower: list[float], upper: list[float]) -> list[Fraction]:
    """P(U_i is the largest) in rational arithmetic: each u-interval between upper ends,
    prod_{j != i} (u - lo_j) / w_j expanded in u and integrated term by term."""
    sending = [i for i, rate in enumerate(rates) if rate > 0.0]
    lo = [Fraction(x) for x in lower]
    hi = [Fraction(x) for x in upper]
    top = max([lo[i] for i in sending], default=Fraction(0))
    contenders = [i for i in sending if hi[i] > top]
    shares = [Fraction(0)] * len(rates)
    ends = sorted({top, *(hi[i] for i in contenders)})
    for a, b in itertools.pairwise(ends):
        alive = [i for i in contenders if hi[i] >= b]
        for i in alive:
            poly = [Fraction(1)]  # coefficients in u, lowest degree first
            for j in alive:
                if j != i:
                    width = hi[j] - lo[j]
                    poly = [
                        (poly[m] if m < len(poly) else 0) * -lo[j] / width
                        + (poly[m - 1] / width if m else 0)
                        for m in range(len(poly) + 1)
                    ]
            integral = sum(c * (b ** (m + 1) - a ** (m + 1)) / (m + 1) for m, c in enumerate(poly))
            shares[i] += integral / (hi[i] - lo[i])
    total = sum(shares)
    return [share / total for share in shares] if total else shares


@pytest.mark.parametrize("users", [1, 2, 3, 5, 12, 16])
def test_closed_form_shares_are_exact(users):
    """Against rational arithmetic: relative 1e-13 on every share (measured <= 6e-16)."""
    rng = np.random.default_rng(users)
    rates, lower, upper = _random_pieces(rng, users, 100)
    for j in range(rates.shape[1]):
        column = rates[:, j].tolist(), lower[:, j].tolist(), upper[:, j].tolist()
        got = _kernels_shares.piece_shares(*column)
        exact = [float(share) for share in _exact_shares(*column)]
        np.testing.assert_allclose(got, exact, rtol=1e-13, atol=0.0)


@pytest.mark.parametrize("users", [1, 2, 3, 5, 12, 16])
def test_closed_form_shares_equal_the_quadrature(users):
    """Against pf_shares (the numpy walk's Gauss-Legendre quadrature): 1e-11 on each share,
    i.e. relative to the piece's air time (sum 1). That is the quadrature's own rounding
    (against rational arithmetic it errs by up to 6e-12 with 16 users, 1e-13 with 5,
    up to 3e-10 relative on small shares), where the closed form is exact to 1e-16."""
    rng = np.random.default_rng(users)
    rates, lower, upper = _random_pieces(rng, users, 400)
    reference = pf_shares(rates, lower, upper)
    for j in range(rates.shape[1]):
        got = _kernels_shares.piece_shares(
            rates[:, j].tolist(), lower[:, j].tolist(), upper[:, j].tolist()
        )
        np.testing.assert_allclose(got, reference[:, j], rtol=0.0, atol=1e-11)
        assert sum(got) == pytest.approx(float(rates[:, j].any()), abs=1e-15)


def test_written_out_cases_are_the_general_loop_bit_for_bit():
    """Up to MANY - 1 contenders; from MANY on, numpy's quadrature equals it to 1e-13."""
    rng = np.random.default_rng(7)
    for _ in range(4000):
        k = int(rng.integers(2, 8))
        lo = rng.uniform(0.0, 0.5, k)
        hi = lo + rng.uniform(1e-5, 0.5, k)
        if rng.random() < 0.3:
            hi[1] = hi[0]  # an interval of length 0
        top = float(lo.max())
        if not (hi > top).all():
            continue
        fast = _kernels_shares.contender_shares(lo.tolist(), hi.tolist(), top)
        plain = _kernels_shares.contender_shares(lo.tolist(), hi.tolist(), top, written_out=False)
        if k < _kernels_shares.MANY:
            assert fast == plain
        else:  # numpy, by a quadrature exact for the degree: the same to rounding
            np.testing.assert_allclose(fast, plain, rtol=1e-13)
        if k == 2:
            total = math.fsum(plain)
            pair = _kernels_shares.two_shares(lo[0], hi[0], lo[1], hi[1], top)
            assert pair == (plain[0] / total, plain[1] / total)


class _Series(SeriesSource):
    """A finite per-step rate series as a capacity source, with a rate law (or none),
    generated 200 steps at a time."""

    def __init__(self, rates_bps: np.ndarray, law) -> None:
        super().__init__(np.full(rates_bps.size, STEP_S), rates_bps, loop=False)
        self._law = law
        self._next = 0

    def next_chunk(self) -> tuple[np.ndarray, np.ndarray]:
        first, self._next = self._next, self._next + 200
        return self.durations[first : self._next], self.rates[first : self._next]

    def rate_law(self):
        return self._law


def _cell_case(seed: int):
    """Capacities (fading with laws, one without a law, one constant, one that ends, one
    blocked for a while) and (start [s], bits, deadline [s]) of the transfers."""
    rng = np.random.default_rng(seed)

    def rates_of(budget_db, gain, _loss_db):
        level = np.clip(np.floor((budget_db + 10.0 * np.log10(gain) + 5.0) / 4.0), 0, 6)
        return LEVELS_BPS[level.astype(int)]

    def build():
        capacities = []
        for k in range(7):
            snr = rng_snr[k]
            rates = rates_of(snr, rng_power[k], None)
            if k == 4:
                rates[300:700] = 0.0  # blocked: nobody can send when alone
            if k == 5:
                rates = rates[:900]  # the process ends: rate 0 after it
            law = None if k == 6 else fading_rate_law(snr, None, rates_of)
            capacities.append(PiecewiseCapacity(_Series(rates, law)))
        capacities.append(ConstantCapacity(6e6))
        return capacities

    rng_snr = rng.uniform(0.0, 25.0, 7)
    rng_power = rng.exponential(size=(7, 20000))
    transfers = []
    for _ in range(100):
        start = float(rng.uniform(0.0, 2.0))
        bits = float(rng.uniform(2e4, 4e5))
        link = int(rng.integers(0, 8))
        patience = rng.choice([0.05, 0.3] if link == 5 else [0.05, 0.3, math.inf])
        transfers.append((start, bits, start + float(patience), link))
    return build, transfers


def _run_cell(build, transfers, withdraw_at: float | None = None):
    """{key: (end [s], ok, bits sent)} of the transfers on one PF cell, in key order."""
    env = simpy.Environment()
    cell = SharedCell(env, "cell", "proportional_fair")
    capacities = build()
    ended = {}
    busy_until = {}
    for key, (start, bits, deadline, link) in enumerate(transfers):
        # One transfer at a time per capacity, as a link sends them.
        begin = max(start, busy_until.get(link, 0.0))
        busy_until[link] = begin + 0.3
        deadline += begin - start

        def go(_event, key=key, link=link, bits=bits, deadline=deadline):
            cell.start(
                key, capacities[link], bits, deadline, lambda *r, key=key: ended.setdefault(key, r)
            )

        env.timeout(begin).callbacks.append(go)
    withdrawn = {}
    if withdraw_at is not None:

        def take(_event):
            for key in sorted(cell.active)[:2]:
                withdrawn[key] = cell.withdraw(key)

        env.timeout(withdraw_at).callbacks.append(take)
    env.run()
    return ended, withdrawn, cell


@pytest.mark.parametrize("seed", range(3))
def test_fast_walk_equals_numpy_walk_on_a_cell(seed, monkeypatch):
    build, transfers = _cell_case(seed)
    monkeypatch.setattr(_kernels, "TRIM_SEGMENTS", 8)  # trim the tracks often
    results = {}
    for fast in (False, True):
        monkeypatch.setattr(shared, "FAST_WALK", fast)
        results[fast] = _run_cell(build, transfers, withdraw_at=0.7)
    (plain, plain_out, plain_cell), (fast, fast_out, fast_cell) = results[False], results[True]
    assert plain_cell.walks == fast_cell.walks > 50
    assert any(track.base > 0 for track in fast_cell._walker.tracks.values())  # trimmed
    assert sorted(plain) == sorted(fast) and len(plain) + len(plain_out) == len(transfers)
    assert sorted(plain_out) == sorted(fast_out)
    assert fast_out == pytest.approx(plain_out, rel=1e-9)
    oks = [ok for _, ok, _ in plain.values()]
    assert any(oks) and not all(oks)  # both kinds of ending are covered
    for key, (end, ok, sent) in plain.items():
        assert fast[key][1] == ok
        assert fast[key][0] == pytest.approx(end, rel=1e-12, abs=1e-12)
        assert fast[key][2] == pytest.approx(sent, rel=1e-9, abs=1e-6)


def _requests(fast: bool, monkeypatch) -> pd.DataFrame:
    monkeypatch.setattr(shared, "FAST_WALK", fast)
    scenario = sim.load(SCENARIOS / "congested_lte.yaml", ["duration_s=3", "warmup_s=0.5"])
    return sim.run(scenario, ["offload"]).requests


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_scenario_run_is_the_same_with_either_walk(monkeypatch):
    plain = _requests(False, monkeypatch)
    fast = _requests(True, monkeypatch)
    assert list(plain.columns) == list(fast.columns) and len(plain) == len(fast) > 300
    for column in plain.columns:
        if plain[column].dtype.kind == "f":
            np.testing.assert_allclose(fast[column], plain[column], rtol=1e-9, atol=1e-12)
        else:
            pd.testing.assert_series_equal(fast[column], plain[column])


@pytest.mark.parametrize("scheduler", ["round_robin", "proportional_fair"])
def test_a_small_transfer_late_in_a_run_ends(scheduler):
    """Late in a run a few bits take less than the clock's resolution: 128 bits at
    30 Mbit/s after ~250 s left 1.4e-6 bits (> the 1e-6 tolerance) that no time step
    could send, and the cell re-armed its timer at the same instant for ever (found
    with a downlink cell at 256.6 s). It ends at its computed finish instead."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        env = simpy.Environment()
        cell = SharedCell(env, "cell", scheduler)
        start = float(rng.uniform(50.0, 5000.0))
        env.run(until=start)
        ended = []
        cell.start(1, ConstantCapacity(30e6), 128.0, math.inf, lambda *r, e=ended: e.append(r))
        events = 0
        while env.peek() < math.inf and events < 100:
            env.step()
            events += 1
        assert ended and ended[0][1] and events <= 2
        assert ended[0][0] == pytest.approx(start + 128.0 / 30e6, rel=0.0, abs=1e-12)
