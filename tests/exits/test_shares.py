"""Exit shares and expected accuracy of the proxy (nested) model, against hand calculation."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import sim
from tests.exits.conftest import exit_scenario

# PORTEND EfficientNet-B0 table (../shared/reference/spinn.md §2), confidence c = 1 - T:
# {flops fraction: {c: (share, accuracy)}}, typed in again here as the oracle.
TABLE = {
    0.197: {0.8: (0.002, 0.789), 0.6: (0.012, 0.599), 0.4: (0.114, 0.337), 0.0: (1.0, 0.136)},
    0.295: {0.8: (0.027, 0.873), 0.6: (0.147, 0.633), 0.4: (0.528, 0.399), 0.0: (1.0, 0.279)},
    0.408: {0.8: (0.236, 0.858), 0.6: (0.565, 0.663), 0.4: (0.868, 0.535), 0.0: (1.0, 0.484)},
    0.631: {0.8: (0.457, 0.858), 0.6: (0.768, 0.715), 0.4: (0.958, 0.629), 0.0: (1.0, 0.608)},
    0.868: {0.8: (0.749, 0.834), 0.6: (0.927, 0.749), 0.4: (0.993, 0.716), 0.0: (1.0, 0.711)},
}
B0_TOP1 = 0.740
R152_TOP1 = 0.78312


def by_hand(fraction: float, c: float) -> tuple[float, float]:
    """(share, absolute accuracy) at a grid threshold, linear between the two nearest rows."""
    xs = sorted(TABLE)
    if fraction <= xs[0]:
        return TABLE[xs[0]][c]
    if fraction >= xs[-1]:
        return TABLE[xs[-1]][c]
    hi = next(x for x in xs if x >= fraction)
    lo = xs[xs.index(hi) - 1]
    w = (fraction - lo) / (hi - lo)
    (s0, a0), (s1, a1) = TABLE[lo][c], TABLE[hi][c]
    return s0 + w * (s1 - s0), a0 + w * (a1 - a0)


def hand_distribution(scenario, c: float, rule: str = "conserving"):
    model = scenario.groups[0].model
    fractions = [model.exits[n].flops_fraction for n in ("layer1", "layer2", "layer3")]
    cum, accs = 0.0, []
    shares = []
    for f in fractions:
        share, acc = by_hand(f, c)
        shares.append(max(cum, share) - cum)
        cum = max(cum, share)
        accs.append(min(1.0, acc * R152_TOP1 / B0_TOP1))
    shares.append(1.0 - cum)
    final = R152_TOP1
    if rule == "conserving":
        given = sum(s * max(a, R152_TOP1) for s, a in zip(shares[:-1], accs, strict=True))
        final = (R152_TOP1 - given) / shares[-1]
    return np.array(shares), np.array([*accs, final])


@pytest.mark.parametrize("c", [0.8, 0.6, 0.4])
@pytest.mark.parametrize("rule", ["conserving", "portend"])
def test_plan_shares_and_expected_accuracy_by_hand(c, rule):
    name = f"progressive_layer3_t{c:g}"
    scenario = exit_scenario(
        compare=[name], device_changes={"exits": {"kind": "proxy", "accuracy_rule": rule}}
    )
    plan = scenario.factory("board", name).plans[0]
    shares, accs = hand_distribution(scenario, c, rule)
    assert plan.exits.shares() == pytest.approx(shares.tolist(), abs=1e-12)
    assert plan.exits.accuracies(R152_TOP1) == pytest.approx(accs.tolist(), abs=1e-12)
    assert plan.accuracy == pytest.approx(float(shares @ accs), abs=1e-12)
    if rule == "conserving":
        # Exits only lose: top-1 minus what exits less accurate than the model give up.
        loss = sum(s * max(0.0, R152_TOP1 - a) for s, a in zip(shares[:-1], accs[:-1], strict=True))
        assert plan.accuracy == pytest.approx(R152_TOP1 - loss, abs=1e-12)
        assert plan.accuracy <= R152_TOP1 + 1e-12


def test_interpolated_threshold_is_linear():
    scenario = exit_scenario(compare=["progressive_layer3_t0.7"])
    plan = scenario.factory("board", "progressive_layer3_t0.7").plans[0]
    s8, _ = hand_distribution(scenario, 0.8)
    s6, _ = hand_distribution(scenario, 0.6)
    # Every exit's marginal share is linear in c and the running maximum keeps the order here.
    assert plan.exits.shares() == pytest.approx(((s8 + s6) / 2).tolist(), abs=1e-12)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_long_run_exit_shares_inside_binomial_interval(seed):
    """Split after layer3: all three exits on the device, the final on the server."""
    name = "progressive_layer3_t0.6"
    scenario = exit_scenario(compare=[name], duration_s=250.0)
    res = sim.run(scenario, seed=seed)
    req = res.requests
    n = len(req)
    assert n > 1500
    plan = scenario.factory("board", name).plans[0]
    shares = plan.exits.shares()
    counts = req["exit"].astype(str).value_counts()
    for name_k, p in zip(("layer1", "layer2", "layer3", "final"), shares, strict=True):
        k = int(counts.get(name_k, 0))
        assert stats.binomtest(k, n, p).pvalue > 1e-3, (name_k, k, n, p)
    # Mean per-request expected accuracy against the plan's expectation (CLT, 4 sigma).
    acc = req["accuracy"].to_numpy()
    assert abs(acc.mean() - plan.accuracy) < 4 * acc.std(ddof=1) / np.sqrt(n)
    # The device answered exactly the requests that left at device exits.
    on_device = req["exit"].astype(str).isin(["layer1", "layer2", "layer3"])
    assert (req["exit_on_device"] == on_device).all()
    assert (req.loc[on_device, "bytes_sent"] == 0).all()
    assert (req.loc[~on_device & (req["outcome"] != "failed"), "bytes_sent"] > 0).all()


def test_summary_exit_shares_and_on_time_accuracy():
    name = "progressive_layer3_t0.6"
    res = sim.run(exit_scenario(compare=[name, "split_layer3_uint8"], duration_s=60.0))
    summary = res.summary.set_index("strategy")
    req = res.requests
    mine = req[(req["strategy"] == name) & (req["t_arrival"] < 60.0)]
    assert summary.loc[name, "exit_share_device"] == pytest.approx(
        mine["exit_on_device"].mean(), abs=1e-12
    )
    assert np.isnan(summary.loc["split_layer3_uint8", "exit_share_device"])
    on_time = mine.loc[mine["outcome"] == "completed", "accuracy"].sum() / len(mine)
    assert summary.loc[name, "on_time_accuracy"] == pytest.approx(on_time, abs=1e-12)
    plan = res.scenario.factory("board", name).plans[0]
    assert summary.loc[name, "accuracy_expected"] == pytest.approx(plan.accuracy, abs=1e-12)
    assert summary.loc["split_layer3_uint8", "accuracy_expected"] == pytest.approx(0.78312)


def test_exit_table_intervals_and_shares():
    from sim.exits.summary import exit_table

    name = "progressive_layer3_t0.6"
    req = sim.run(exit_scenario(compare=[name, "local"], duration_s=30.0)).requests
    table = exit_table(req)
    assert set(table["strategy"]) == {name}  # local has no exits
    assert table["share"].sum() == pytest.approx(1.0)
    assert table["requests"].sum() == (req["strategy"] == name).sum()
    assert (table["share_low"] <= table["share"]).all() and (
        table["share"] <= table["share_high"]
    ).all()
    device = table.set_index("exit")["on_device"]
    assert {"layer3", "final"} <= set(device.index)
    for exit_name, on in device.items():
        assert on == (exit_name != "final"), exit_name
