"""The edge server alone (batch size 1) against queueing theory, with replications.

Background tenants are Poisson arrivals; the toy server's S(b) is flat at 10 ms and a
service-variability factor X (mean 1) makes it exponential (M/M/1), constant (M/D/1),
gamma with CV 0.5 (M/G/1, Pollaczek-Khinchine) or exponential with 3 workers (M/M/3).
Each case runs 8 seeded replications; the closed-form mean wait must lie inside the
99 % t-interval of the replication means.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

import sim
from sim import theory
from sim.rng import replication_seeds
from sim.scenario.load import build_scenario
from tests.conftest import PROFILES, REPO

SERVICE_S = 0.010
REPLICATIONS = 8
DURATION_S = 400.0
WARMUP_S = 20.0


def server_only(rate_hz: float, variability: dict, workers: int = 1) -> sim.Scenario:
    spec = {
        "name": "queue",
        "seed": 0,
        "duration_s": DURATION_S,
        "warmup_s": WARMUP_S,
        "drain_s": 50.0,
        "compare": ["offload"],
        "servers": [
            {
                "name": "srv",
                "node": "edge",
                "profile": str(PROFILES / "toy_server.yaml"),
                "workers": workers,
                "batching": {"max_batch": 1, "max_wait_s": 0.0},
                "service_variability": variability,
                "background": [{"part": "toy/full", "rate_hz": rate_hz}],
            }
        ],
        "outputs": {"per_batch": False},
    }
    return build_scenario(spec, REPO / "tests" / "queue.yaml")


def mean_waits(scenario: sim.Scenario) -> np.ndarray:
    waits = []
    for seed in replication_seeds(2024, REPLICATIONS):
        res = sim.run(scenario, seed=seed)
        bg = res.background
        bg = bg[(bg["t_arrival"] >= WARMUP_S) & (bg["t_arrival"] < DURATION_S)]
        assert (bg["outcome"] == "completed").all()
        waits.append(float((bg["t_service_start"] - bg["t_arrival"]).mean()))
    return np.array(waits)


def assert_in_ci(sample: np.ndarray, expected: float, level: float = 0.99) -> None:
    mean = sample.mean()
    half = (
        stats.t.ppf(0.5 + level / 2, sample.size - 1) * sample.std(ddof=1) / math.sqrt(sample.size)
    )
    assert abs(mean - expected) <= half, f"theory {expected:.6f} outside {mean:.6f} ± {half:.6f}"
    # And the interval is informative: narrower than 10 % of the value.
    assert half < 0.1 * expected


@pytest.mark.slow
def test_mm1_mean_wait():
    lam, mu = 70.0, 1.0 / SERVICE_S
    waits = mean_waits(server_only(lam, {"kind": "exponential"}))
    assert_in_ci(waits, theory.mm1_wait_s(lam, mu))


@pytest.mark.slow
def test_md1_mean_wait():
    lam, mu = 70.0, 1.0 / SERVICE_S
    waits = mean_waits(server_only(lam, {"kind": "deterministic"}))
    assert_in_ci(waits, theory.md1_wait_s(lam, mu))


@pytest.mark.slow
def test_mg1_pollaczek_khinchine():
    lam, cv = 70.0, 0.5
    second_moment = SERVICE_S**2 * (1 + cv**2)
    waits = mean_waits(server_only(lam, {"kind": "gamma", "cv": cv}))
    assert_in_ci(waits, theory.mg1_wait_s(lam, SERVICE_S, second_moment))


@pytest.mark.slow
def test_mmc_mean_wait():
    lam, mu, c = 250.0, 1.0 / SERVICE_S, 3
    waits = mean_waits(server_only(lam, {"kind": "exponential"}, workers=c))
    assert_in_ci(waits, theory.mmc_wait_s(lam, mu, c))


def test_closed_forms_by_hand():
    # M/M/1, lambda 70, mu 100: rho/(mu - lambda) = 0.7/30.
    assert theory.mm1_wait_s(70, 100) == pytest.approx(0.7 / 30)
    # M/D/1 waits half as long as M/M/1 at the same load.
    assert theory.md1_wait_s(70, 100) == pytest.approx(theory.mm1_wait_s(70, 100) / 2)
    # P-K with exponential service reduces to M/M/1.
    assert theory.mg1_wait_s(70, 0.01, 2 * 0.01**2) == pytest.approx(theory.mm1_wait_s(70, 100))
    # M/M/1 is M/M/c with c = 1; Erlang C for c = 2, a = 1: 1/3.
    assert theory.mmc_wait_s(70, 100, 1) == pytest.approx(theory.mm1_wait_s(70, 100))
    assert theory.erlang_c(1.0, 1.0, 2) == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        theory.mm1_wait_s(100, 100)
