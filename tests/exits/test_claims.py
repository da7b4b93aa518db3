"""The early-exit claims table on hand-made points (the reproduction's arithmetic)."""

from __future__ import annotations

import pandas as pd
import pytest

from reproductions.early_exits.claims import background_rate_hz, claims_table, markdown, tidy


def _points():
    rows = []
    for rate in (1e6, 5e6):
        for strategy, acc, on_time, lat, energy in (
            ("local", 0.78312, 0.78312, 0.2, 1.8),
            ("offload", 0.78312, 0.0 if rate == 1e6 else 0.78312, 0.4, 1.3),
            ("bottlefit_c12", 0.77712, 0.77712, 0.05, 1.1),
            ("ae_c12", 0.75812, 0.75812, 0.1, 1.4),
            ("spinn", 0.74312 if rate == 1e6 else 0.78312, 0.70, 0.1, 1.2),
        ):
            rows.append(
                {
                    "board": "jetson",
                    "model": "resnet152",
                    "deadline_s": 0.5,
                    "rate_bps": rate,
                    "load_hz": 0.0,
                    "strategy": strategy,
                    "accuracy": acc,
                    "accuracy_expected": acc,
                    "on_time_accuracy": on_time,
                    "latency_mean_s": lat,
                    "deadline_miss_rate": 0.0,
                    "energy_whole_board_per_inference_j": energy,
                    "server_utilisation": 0.1,
                    "exit_share_device": 0.5,
                }
            )
    return pd.DataFrame(rows)


def test_claims_by_hand():
    rows = claims_table(_points())
    text = markdown(rows)
    first = rows[0]
    assert "SPINN-style (proxy figures from PORTEND" in first.simulator
    assert "up to 4.0 points" in first.simulator  # 0.78312 - 0.74312
    assert "1 Mbit/s" in first.conditions
    implied = next(r for r in rows if r.claim.startswith("BottleFit is more accurate"))
    assert "at 100 % of the grid points" in implied.simulator  # 0.777 >= 0.70 at both
    assert "lower mean latency at 100 %" in implied.simulator
    assert "less whole-board energy per inference at 100 %" in implied.simulator
    gain = next(r for r in rows if "+20.7" in r.claim)
    # Better of local/offload on time: 0.78312 at both rates; SPINN 0.70: -8.3 points.
    assert "up to -8.3 points" in gain.simulator
    assert text.count("\n") == len(rows) + 2
    # The simulator's figures never call themselves SPINN's.
    for row in rows:
        assert "SPINN" not in row.simulator.replace("SPINN-style", "").replace("SPINN's", "")


def test_background_rate_and_tidy():
    assert background_rate_hz("[]") == 0.0
    assert background_rate_hz('[{"part": "resnet152/full", "rate_hz": 50}]') == 50.0
    summary = pd.DataFrame(
        {
            "devices.0.model": ["resnet152"] * 2,
            "cells.0.uplink.rate_bps": [1e6] * 2,
            "servers.0.background": ["[]"] * 2,
            "strategy": ["spinn"] * 2,
            "accuracy": [0.7, 0.8],
            "accuracy_expected": [0.75, 0.75],
            "on_time_accuracy": [0.6, 0.8],
        }
    )
    points = tidy({"rpi": summary})
    assert len(points) == 1
    assert points.loc[0, "on_time_accuracy"] == pytest.approx(0.7)
    assert points.loc[0, "board"] == "rpi" and points.loc[0, "load_hz"] == 0.0
