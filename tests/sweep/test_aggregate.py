"""Confidence intervals against cases computed by hand; bounded proportions; crossovers with
intervals from the replications; the plot's clipped bands."""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sim.stats import IntervalWiderThanEffect
from sim.sweep.aggregate import aggregate, crossovers, format_table, t_interval, wide
from sim.sweep.plot import plot_metric

# Student-t quantiles from a printed table (e.g. NIST/SEMATECH e-Handbook, Table 1.3.6.7.2).
T_975_DF4 = 2.776445
T_975_DF1 = 12.706205
T_95_DF2 = 2.919986
T_975_DF2 = 4.302653


def test_t_interval_by_hand_five_values():
    # 1..5: mean 3, s^2 = (4+1+0+1+4)/4 = 2.5, half = t(0.975, 4) * sqrt(2.5) / sqrt(5).
    ci = t_interval([1.0, 2.0, 3.0, 4.0, 5.0])
    half = T_975_DF4 * math.sqrt(2.5) / math.sqrt(5)  # = 1.963243...
    assert ci["n"] == 5 and ci["mean"] == 3.0
    assert ci["std"] == pytest.approx(math.sqrt(2.5), rel=1e-12)
    assert ci["half_width"] == pytest.approx(half, rel=1e-6)
    assert ci["half_width"] == pytest.approx(1.963243, rel=1e-6)
    assert (ci["ci_low"], ci["ci_high"]) == pytest.approx((3 - half, 3 + half), rel=1e-6)


def test_t_interval_by_hand_two_values_and_other_levels():
    # 0.2, 0.4: mean 0.3, s = 0.1 * sqrt(2), half = t(0.975, 1) * s / sqrt(2) = 1.2706205.
    ci = t_interval([0.2, 0.4])
    assert ci["mean"] == pytest.approx(0.3)
    assert ci["half_width"] == pytest.approx(T_975_DF1 * 0.1, rel=1e-6)
    # 90 % interval of 10, 12, 14: s = 2, half = t(0.95, 2) * 2 / sqrt(3) = 3.3717...
    ci90 = t_interval([10, 12, 14], level=0.90)
    assert ci90["half_width"] == pytest.approx(T_95_DF2 * 2 / math.sqrt(3), rel=1e-6)


def test_t_interval_edge_cases():
    one = t_interval([4.2])
    assert one["n"] == 1 and one["mean"] == 4.2 and math.isnan(one["half_width"])
    with_nan = t_interval([1.0, math.nan, 3.0])
    assert with_nan["n"] == 2 and with_nan["mean"] == 2.0
    constant = t_interval([7.0, 7.0, 7.0])
    assert constant["half_width"] == 0.0 and constant["zero_variance"]
    empty = t_interval([math.nan])
    assert empty["n"] == 0 and math.isnan(empty["mean"])


def summary_by_hand() -> pd.DataFrame:
    """Two points x two strategies x three replications, values chosen for easy arithmetic."""
    rows = []
    for point, rate in enumerate([1e6, 1e7]):
        for rep in range(3):
            for strategy, base in (("split", 1.0), ("local", 5.0)):
                rows.append(
                    {
                        "run_id": f"r{point}{rep}",
                        "point": point,
                        "replication": rep,
                        "seed": 100 + rep,
                        "point_label": f"rate={rate:g}",
                        "rate": rate,
                        "strategy": strategy,
                        "latency_mean_s": base + point + rep,  # base+point + {0, 1, 2}
                        "energy_j": 2.0 if strategy == "local" else [1.0, 2.0, 6.0][rep],
                        "latency_mean_ci95_s": 0.01,
                    }
                )
    return pd.DataFrame(rows)


def test_aggregate_tidy_table_by_hand():
    agg = aggregate(summary_by_hand(), ["rate"])
    assert list(agg.columns) == [
        "point", "rate", "strategy", "metric", "n", "mean", "std", "half_width",
        "ci_low", "ci_high", "zero_variance", "method", "level",
    ]  # fmt: skip
    # 2 points x 2 strategies x 2 metrics (the within-run CI column is not a metric).
    assert len(agg) == 8 and set(agg["metric"]) == {"latency_mean_s", "energy_j"}
    assert list(agg["strategy"].iloc[:4]) == ["split", "split", "local", "local"]
    row = agg[
        (agg["rate"] == 1e7) & (agg["strategy"] == "split") & (agg["metric"] == "latency_mean_s")
    ]
    # 2, 3, 4: mean 3, s = 1, half = t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051 = 2.484138.
    assert row["mean"].item() == 3.0 and row["n"].item() == 3
    assert row["half_width"].item() == pytest.approx(2.484138, rel=1e-6)
    energy = agg[(agg["point"] == 0) & (agg["strategy"] == "split") & (agg["metric"] == "energy_j")]
    # 1, 2, 6: mean 3, s^2 = (4 + 1 + 9) / 2 = 7.
    assert energy["mean"].item() == 3.0
    assert energy["std"].item() == pytest.approx(math.sqrt(7))
    local = agg[(agg["strategy"] == "local") & (agg["metric"] == "energy_j")]
    assert (local["half_width"] == 0).all() and local["zero_variance"].all()
    assert not row["zero_variance"].item() and row["method"].item() == "t"


def test_wide_and_text_table():
    agg = aggregate(summary_by_hand(), ["rate"], ["latency_mean_s"])
    table = wide(agg, ["rate"])
    assert list(table.columns) == [
        "point",
        "rate",
        "strategy",
        "latency_mean_s",
        "latency_mean_s_ci",
        "latency_mean_s_low",
        "latency_mean_s_high",
    ]
    assert len(table) == 4
    text = format_table(agg, ["rate"])
    assert "±" in text and "local" in text and len(text.splitlines()) == 5
    energy = format_table(aggregate(summary_by_hand(), ["rate"], ["energy_j"]), ["rate"])
    assert "2 (all 3 equal)" in energy and "e-1" not in energy


def test_crossovers_by_hand():
    # a: 1 -> 3 over x 0 -> 1, b: flat 2: they cross at x = 0.5, value 2.
    agg = pd.DataFrame(
        {
            "point": [0, 0, 1, 1],
            "x": [0.0, 0.0, 1.0, 1.0],
            "strategy": ["a", "b", "a", "b"],
            "metric": "m",
            "mean": [1.0, 2.0, 3.0, 2.0],
        }
    )
    found = crossovers(agg, "m", "x")
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["below"], row["above"]) == ("a", "b")
    assert row["x"] == pytest.approx(0.5) and row["value"] == pytest.approx(2.0)
    # In log10(x) between 1 and 100 the midpoint is 10.
    logged = agg.assign(x=[1.0, 1.0, 100.0, 100.0])
    assert crossovers(logged, "m", "x", logx=True)["x"].item() == pytest.approx(10.0)
    assert crossovers(agg.assign(mean=[1.0, 2.0, 1.5, 2.0]), "m", "x").empty


def test_plot_one_line_and_one_band_per_strategy():
    agg = aggregate(summary_by_hand(), ["rate"])
    fig = plot_metric(agg, "latency_mean_s", "rate")
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["split", "local"]
    assert len(ax.collections) == 2  # the CI bands
    assert ax.get_xscale() == "linear"
    plt.close(fig)
    fig = plot_metric(agg, "latency_mean_s", "rate", logx=True)
    assert fig.axes[0].get_xscale() == "log"
    plt.close(fig)


def test_plot_facets_when_another_parameter_varies():
    summary = pd.concat(
        [summary_by_hand().assign(load=load, point=summary_by_hand()["point"] + 2 * i)
         for i, load in enumerate([10, 20])]
    )  # fmt: skip
    agg = aggregate(summary, ["rate", "load"])
    fig = plot_metric(agg, "energy_j", "rate")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2 and visible[1].get_title() == "load=20"
    plt.close(fig)
    fig = plot_metric(agg, "energy_j", "rate", where={"load": 10})
    assert len(fig.axes) == 1
    plt.close(fig)
    with pytest.raises(KeyError):
        plot_metric(agg, "nope", "rate")


def miss_summary() -> pd.DataFrame:
    """One point, one strategy, three replications of 100 requests: 0, 60 and 96 misses."""
    return pd.DataFrame(
        {
            "point": 0,
            "replication": [0, 1, 2],
            "rate": 1e6,
            "strategy": "split",
            "requests": 100,
            "completed": [100, 40, 4],
            "completed_late": [0, 50, 90],
            "dropped": [0, 10, 6],
            "deadline_miss_rate": [0.0, 0.6, 0.96],
            "accuracy": [0.75, 0.75, 0.75],
            "latency_mean_s": [0.1, 0.2, 0.3],
        }
    )


def test_proportions_get_bounded_intervals():
    agg = aggregate(miss_summary(), ["rate"]).set_index("metric")
    assert set(agg.index) >= {"deadline_miss_rate", "drop_rate", "accuracy"}
    for metric in ("deadline_miss_rate", "drop_rate", "accuracy"):
        row = agg.loc[metric]
        assert row["method"] == "korn-graubard"
        assert 0.0 <= row["ci_low"] <= row["mean"] <= row["ci_high"] <= 1.0, metric
    # The t-interval of the same three miss rates leaves [0, 1] (the 0.52 ± 0.76).
    t = t_interval([0.0, 0.6, 0.96])
    assert t["ci_low"] < 0 and t["ci_high"] > 1
    assert agg.loc["drop_rate", "mean"] == pytest.approx(16 / 300)
    assert agg.loc["accuracy", "zero_variance"]  # 0.75 in every run
    assert agg.loc["latency_mean_s", "ci_low"] >= 0.0  # clipped to the physical range
    text = format_table(aggregate(miss_summary(), ["rate"]), ["rate"], ["deadline_miss_rate"])
    assert "[" in text  # a bounded interval prints its bounds, not ± half


def crossing_summary(offsets=(0.0, 0.1, -0.1)) -> pd.DataFrame:
    """a rises 1 -> 3 over x 0 -> 1, b is flat at 2 + offset per replication."""
    rows = []
    for rep, off in enumerate(offsets):
        for point, x in enumerate([0.0, 1.0]):
            rows.append(
                {"point": point, "replication": rep, "x": x, "strategy": "a", "m": 1.0 + 2 * x}
            )
            rows.append(
                {"point": point, "replication": rep, "x": x, "strategy": "b", "m": 2.0 + off}
            )
    return pd.DataFrame(rows)  # fmt: skip


def test_crossover_interval_from_replications():
    summary = crossing_summary()
    agg = aggregate(summary, ["x"], ["m"])
    found = crossovers(agg, "m", "x", summary=summary)
    row = found.iloc[0]
    # Per replication a meets b where 1 + 2x = 2 + off: x = 0.5, 0.55, 0.45.
    per_rep = np.array([0.5, 0.55, 0.45])
    half = T_975_DF2 * per_rep.std(ddof=1) / math.sqrt(3)
    assert row["x"] == pytest.approx(0.5)
    assert (row["x_low"], row["x_high"]) == pytest.approx((0.5 - half, 0.5 + half), rel=1e-6)
    assert row["replications"] == 3 and row["note"] == ""
    # Without the replications: the point, and a note saying why no interval.
    bare = crossovers(agg, "m", "x").iloc[0]
    assert math.isnan(bare["x_low"]) and "no interval" in bare["note"]
    # A replication whose curves do not cross: no interval, and it says so.
    odd = crossing_summary((0.0, 0.1, 1.5))
    with pytest.warns(IntervalWiderThanEffect):  # its spread also hides the crossing
        row = crossovers(aggregate(odd, ["x"], ["m"]), "m", "x", summary=odd).iloc[0]
    assert math.isnan(row["x_low"]) and "1 of 3 replications" in row["note"]


def test_crossover_warns_when_curves_are_within_their_intervals():
    summary = crossing_summary((0.0, 1.2, -1.2))  # b's spread dwarfs a - b at both ends
    agg = aggregate(summary, ["x"], ["m"])
    with pytest.warns(IntervalWiderThanEffect, match="not resolved"):
        row = crossovers(agg, "m", "x", summary=summary).iloc[0]
    assert "not resolved" in row["note"]


def test_plot_bands_clipped_to_unit_interval():
    # A made-up band reaching below 0 and above 1 for a rate metric: the plot clips it.
    rows = aggregate(miss_summary(), ["rate"], ["deadline_miss_rate"]).assign(
        ci_low=-0.5, ci_high=1.7, half_width=1.1
    )
    both = pd.concat([rows, rows.assign(rate=2e6, point=1)])
    fig = plot_metric(both, "deadline_miss_rate", "rate")
    band = fig.axes[0].collections[0]
    ys = np.concatenate([p.vertices[:, 1] for p in band.get_paths()])
    assert ys.min() >= 0.0 and ys.max() <= 1.0
    plt.close(fig)
