"""Little's law on a full scenario; terminal outcomes; determinism; common random numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import sim
from sim import theory
from sim.rng import replication_seeds
from tests.conftest import REPO

SCENARIO = REPO / "scenarios" / "congested_lte.yaml"
SMALL = ["devices.pi.count=8", "duration_s=40", "warmup_s=5"]


@pytest.mark.slow
def test_littles_law_on_full_scenario():
    """L (time-average number in system) = lambda W, within a 99 % CI over replications."""
    scenario = sim.load(SCENARIO, [*SMALL, "duration_s=120"])
    warmup, end = scenario.spec.warmup_s, scenario.spec.duration_s
    ratios = []
    for seed in replication_seeds(11, 6):
        res = sim.run(scenario, ["bottlefit_c12"], seed=seed)
        req = res.requests
        L = theory.time_average_in_system(
            req["t_arrival"].to_numpy(), req["t_done"].to_numpy(), warmup, end
        )
        inside = req[(req["t_arrival"] >= warmup) & (req["t_arrival"] < end)]
        lam = len(inside) / (end - warmup)
        W = float((inside["t_done"] - inside["t_arrival"]).mean())
        ratios.append(L / (lam * W))
    ratios = np.array(ratios)
    half = stats.t.ppf(0.995, ratios.size - 1) * ratios.std(ddof=1) / math.sqrt(ratios.size)
    assert abs(ratios.mean() - 1.0) <= max(half, 1e-3), (ratios.mean(), half)


def test_every_request_has_exactly_one_terminal_outcome():
    res = sim.run(sim.load(SCENARIO, SMALL))
    req = res.requests
    assert req["outcome"].notna().all()
    assert set(req["outcome"].unique()) <= {"completed", "completed_late", "dropped", "failed"}
    counts = req.groupby("strategy", observed=True)["outcome"].value_counts().unstack(fill_value=0)
    per_strategy = req.groupby("strategy", observed=True).size()
    assert (counts.sum(axis=1) == per_strategy).all()
    summary = res.summary.set_index("strategy")
    measured = summary[["completed", "completed_late", "dropped", "failed"]].sum(axis=1)
    assert (measured == summary["requests"]).all()
    # Timestamps never go backwards along a request's life.
    order = [
        "t_arrival",
        "t_head_start",
        "t_head_end",
        "t_uplink_start",
        "t_tx_start",
        "t_uplink_end",
        "t_server_arrival",
        "t_service_start",
        "t_service_end",
        "t_done",
    ]
    values = req[order].to_numpy()
    for i in range(len(order) - 1):
        later = values[:, i + 1 :]
        here = values[:, i : i + 1]
        ok = np.isnan(later) | np.isnan(here) | (later >= here - 1e-12)
        assert ok.all(), order[i]


def test_same_seed_gives_identical_records(tmp_path):
    scenario = sim.load(SCENARIO, SMALL)
    a = sim.run(scenario).requests
    b = sim.run(scenario).requests
    pd.testing.assert_frame_equal(a, b)
    a.to_parquet(tmp_path / "a.parquet")
    b.to_parquet(tmp_path / "b.parquet")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    c = sim.run(scenario, seed=scenario.spec.seed + 1).requests
    assert not np.array_equal(a["t_arrival"].to_numpy(), c["t_arrival"].to_numpy())


def test_strategies_share_arrivals_and_channel():
    scenario = sim.load(SCENARIO, SMALL)
    res = sim.run(scenario)
    req = res.requests
    arrivals = {
        s: req.loc[req["strategy"] == s, ["device", "t_arrival"]]
        .sort_values(["device", "t_arrival"])
        .to_numpy()
        for s in res.strategies
    }
    first = arrivals[res.strategies[0]]
    for strategy in res.strategies[1:]:
        np.testing.assert_array_equal(arrivals[strategy], first)
    # Same channel realisation: each device's capacity process agrees across strategies.
    # At 5 fps nothing is skipped, so even the absolute integrals agree; with sparse senders
    # each strategy skips different stretches and c(t) agrees where both generated it
    # (tests/channel/test_skip_ahead.py).
    grid = np.linspace(0, scenario.spec.duration_s, 997)
    caps = {s: res.runs[s].capacity for s in res.strategies}
    assert not any(c.gaps for run in caps.values() for c in run.values())
    for device in caps[res.strategies[0]]:
        ref = [caps[res.strategies[0]][device].bits_until(t) for t in grid]
        for strategy in res.strategies[1:]:
            assert [caps[strategy][device].bits_until(t) for t in grid] == ref


def test_adding_a_strategy_leaves_the_others_unchanged():
    base = sim.load(SCENARIO, [*SMALL, "compare=[local, bottlefit_c12]"])
    more = sim.load(SCENARIO, [*SMALL, "compare=[offload, local, bottlefit_c6, bottlefit_c12]"])
    a = sim.run(base).requests
    b = sim.run(more).requests
    for strategy in ("local", "bottlefit_c12"):
        left = a[a["strategy"] == strategy].drop(columns="strategy").reset_index(drop=True)
        right = b[b["strategy"] == strategy].drop(columns="strategy").reset_index(drop=True)
        for column in left.columns:
            if isinstance(left[column].dtype, pd.CategoricalDtype):
                left[column] = left[column].astype(str)
                right[column] = right[column].astype(str)
        pd.testing.assert_frame_equal(left, right)
