"""The BottleFit reproduction (reproductions/bottlefit): the notebook runs end to end at the small
size, the command writes the same report, and the verdicts come from the runs and can go
against the paper."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from reproductions.bottlefit import claims as cl
from reproductions.bottlefit.data import ABSTRACT, BOTTLEFIT, OPERATING_POINTS, SIZES
from reproductions.bottlefit.runs import check_in_range, radio_model
from tests.conftest import REPO
from tests.notebook_runner import execute_notebook

NOTEBOOK = REPO / "notebooks" / "bottlefit_reproduction.ipynb"


@pytest.mark.slow
def test_reproduction_notebook_runs_small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    execute_notebook(
        NOTEBOOK,
        {"BOTTLEFIT_SIZE": "small", "SIM_NOTEBOOK_OUT": str(tmp_path / "out")},
        monkeypatch,
    )
    out = tmp_path / "out"
    text = (out / "claims.md").read_text()
    for claim in ABSTRACT:
        if not claim.is_input:
            assert claim.text in text, claim.text
    assert "## Inputs (not results of the runs)" in text
    assert "max over the sweep" not in text and "equals the abstract at" not in text
    verdicts = pd.read_csv(out / "verdicts.csv")
    assert set(verdicts["paper"].str.split(" ").str[0]) <= {
        "inside", "above", "below", "saturated", "no"
    }  # fmt: skip
    # Physical bounds: a reduction never exceeds 1; power vs local never exceeds 1 - idle/compute.
    assert (verdicts["ci_high"].dropna() <= 1.0).all()
    bounds = cl.power_bounds(cl.timings_table(list(SIZES["small"].models), ["jetson", "rpi"]))
    limit = bounds.set_index("device")["max_power_reduction_vs_local"]
    power = verdicts[verdicts["key"] == "power_local"]
    assert len(power) and (power["mean"] <= power["device"].map(limit) + 1e-9).all()
    runs = pd.read_csv(out / "runs.csv")
    assert set(runs["strategy"]) >= {"local", "offload", BOTTLEFIT, "autoencoder"}
    small = SIZES["small"]
    assert set(runs.loc[runs["kind"] == "points", "operating_point"]) == {
        p.name for p in small.points
    }
    for name in ("reductions.png", "winners_latency.png", "policy_erratic_choices.png"):
        assert (out / name).stat().st_size > 5_000, name
    assert (out / "policy_congested_policies.csv").is_file()
    # Sweeps were stored with run ids: the folder holds one store per sweep.
    stores = sorted(p.name for p in (out / "sweeps" / "small").iterdir())
    assert "jetson_lte_points" in stores and "rpi_wifi_curves" in stores


def test_operating_points_inside_the_radio_models_range():
    for point in OPERATING_POINTS:
        check_in_range(point)  # raises above the fitted range
        top = radio_model(point.radio).fitted_max_mbps
        assert top is None or point.rate_bps <= top * 1e6
    from reproductions.bottlefit.data import OperatingPoint

    with pytest.raises(ValueError, match="fitted range"):
        check_in_range(OperatingPoint("LTE 100 Mbit/s", "lte", 100e6, 0.0))


def fake_runs(bottlefit_latency: list[float]) -> pd.DataFrame:
    """One point, one board/model, len(bottlefit_latency) replications; local takes 1 s."""
    rows = []
    for rep, latency in enumerate(bottlefit_latency):
        for strategy, lat, power in (("local", 1.0, 7.2), (BOTTLEFIT, latency, 2.0)):
            rows.append(
                {
                    "kind": "points",
                    "board": "jetson",
                    "device": "jetson_nano",
                    "model": "densenet169",
                    "operating_point": "P",
                    "radio": "lte",
                    "rate_bps": 5e6,
                    "load": 0.5,
                    "replication": rep,
                    "strategy": strategy,
                    "finished": 30,
                    "latency_s": lat,
                    "power_w": power,
                    "energy_whole_board_j": 1.0,
                    "energy_above_idle_j": 0.5,
                    "accuracy": 0.75,
                    "saturated": False,
                }
            )
    return pd.DataFrame(rows)


def test_verdicts_follow_the_runs_and_can_go_against_the_paper():
    """Latency vs local: reductions 0.9, 0.88, 0.92 -> mean 0.90, t-interval
    0.90 ± 4.302653 * 0.02 / sqrt(3) = [0.8503, 0.9497]: the abstract's 0.89 is inside.
    Slower BottleFit (0.5 s): reduction 0.5 exactly, all replications equal: paper above."""
    table = cl.verdicts(cl.reduction_intervals(fake_runs([0.1, 0.12, 0.08])))
    row = table[table["key"] == "latency_local"].iloc[0]
    half = 4.302653 * 0.02 / math.sqrt(3)
    assert row["mean"] == pytest.approx(0.90)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.90 - half, 0.90 + half), rel=1e-5)
    assert row["paper"] == "inside"
    slow = cl.verdicts(cl.reduction_intervals(fake_runs([0.5, 0.5, 0.5])))
    row = slow[slow["key"] == "latency_local"].iloc[0]
    assert row["zero_variance"] and row["mean"] == pytest.approx(0.5)
    assert row["paper"] == "above"
    # Power vs local: 1 - 2 / 7.2 = 72.2 % in every replication; the abstract's 49 % is below.
    power = slow[slow["key"] == "power_local"].iloc[0]
    assert power["mean"] == pytest.approx(1 - 2 / 7.2) and power["paper"] == "below"
    summary = cl.verdict_summary(slow).set_index("claim")
    assert summary.loc["latency vs local computing", "paper_above"] == 1
    assert "(all 3 equal)" in cl.claims_markdown(slow, cl.verdict_summary(slow))


def test_saturated_runs_give_no_verdict():
    frame = fake_runs([0.1, 0.12, 0.08])
    frame.loc[(frame["strategy"] == "local") & (frame["replication"] == 1), "saturated"] = True
    table = cl.verdicts(cl.reduction_intervals(frame))
    assert table[table["key"] == "latency_local"].iloc[0]["paper"] == "saturated"


def test_inputs_and_timings_from_the_profiles():
    inputs = cl.inputs_table(["densenet169"]).set_index("figure")
    # 10,100 B bottleneck vs the 44,770 B JPEG (bottlefit_paper.md §2, §4): 77.4 %.
    assert inputs.loc["data compression vs the JPEG input", "profile"] == "77.4%"
    timings = cl.timings_table(["densenet169", "densenet201"], ["jetson", "rpi"])
    labels = set(timings["timings"].str.split(" ").str[0])
    assert labels <= {"measured", "published", "predicted"}
    bounds = cl.power_bounds(timings).set_index("device")
    # Jetson Nano: 1 - 1.1 W idle / 7.2 W compute (device profile, devices.md §3.1).
    assert bounds.loc["jetson_nano", "max_power_reduction_vs_local"] == pytest.approx(
        1 - bounds.loc["jetson_nano", "idle_w"] / bounds.loc["jetson_nano", "compute_w"]
    )
