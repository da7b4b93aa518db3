"""The BottleFit reproduction notebook runs end to end at reduced size (BOTTLEFIT_SIZE=tiny),
and the table module it calls computes every figure from runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim.report import bottlefit_table as bt
from tests.conftest import REPO
from tests.notebook_runner import execute_notebook

NOTEBOOK = REPO / "notebooks" / "bottlefit_reproduction.ipynb"


def test_reproduction_notebook_runs_tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    execute_notebook(
        NOTEBOOK, {"BOTTLEFIT_SIZE": "tiny", "SIM_NOTEBOOK_OUT": str(tmp_path / "out")}, monkeypatch
    )
    out = tmp_path / "out"
    claims = (out / "claims.md").read_text()
    for claim in bt.ABSTRACT:
        assert claim.text in claims
    sweep = pd.read_csv(out / "sweep.csv")
    assert set(sweep["strategy"]) >= {"local", "offload", bt.BOTTLEFIT}
    for name in ("reductions.png", "winners_latency.png", "policy_erratic_choices.png"):
        assert (out / name).stat().st_size > 5_000, name
    assert (out / "policy_congested_policies.csv").is_file()


def test_claims_table_is_computed_from_the_runs():
    """Doubling BottleFit's latency in the sweep changes the simulator's column, not the abstract's."""
    frame = pd.DataFrame(
        [
            {
                "board": "jetson",
                "device": "d",
                "model": "densenet169",
                "radio": "wifi",
                "rate_bps": rate,
                "load": 0.0,
                "strategy": s,
                "latency_s": lat,
                "power_w": 2.0,
                "energy_j": 1.0,
            }
            for rate in (1e6, 10e6)
            for s, lat in (
                ("local", 1.0),
                ("offload", 0.5 if rate > 1e6 else 2.0),
                (bt.BOTTLEFIT, 0.4 if rate > 1e6 else 0.8),
            )
        ]
    )
    table = bt.claims_table(frame).set_index("claim")
    assert table.loc["latency vs local computing", "simulator"] == pytest.approx(0.6)
    assert table.loc["latency vs local computing", "abstract"] == 0.89
    assert "10 Mbit/s" in table.loc["latency vs local computing", "conditions"]
    assert table.loc["latency vs edge offloading", "simulator"] == pytest.approx(0.6)
    assert "1 Mbit/s" in table.loc["latency vs edge offloading", "conditions"]
    # The curve 60 % -> 20 % crosses the abstract's 55 % between the two rates.
    assert "Mbit/s" in table.loc["latency vs edge offloading", "reached_at"]
    slower = frame.assign(
        latency_s=frame["latency_s"].where(
            frame["strategy"] != bt.BOTTLEFIT, 2 * frame["latency_s"]
        )
    )
    assert bt.claims_table(slower).set_index("claim").loc[
        "latency vs local computing", "simulator"
    ] == pytest.approx(0.2)
    # Profile figures: the compression is the payload against the JPEG.
    assert table.loc["data compression vs the JPEG input", "simulator"] == pytest.approx(
        1 - 10_100 / 44_770, rel=0.05
    )
