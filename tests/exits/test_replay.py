"""The replay source reproduces a hand-made confidence file exactly, request by request."""

from __future__ import annotations

import pytest

import sim
from sim.errors import SimInputError
from tests.exits.conftest import exit_scenario

CSV = """layer1.confidence,layer2.confidence,layer3.confidence,layer1.correct,layer2.correct,layer3.correct,final.correct
0.90,0.95,0.99,1,1,1,1
0.10,0.70,0.99,0,0,1,1
0.20,0.30,0.80,0,1,0,1
0.05,0.10,0.20,0,0,0,0
0.60,0.20,0.90,0,1,1,1
"""
# Threshold 0.5, split after layer2 (layer1, layer2 on the device, layer3 on the server):
# sample 0 leaves at layer1 (0.90) correct; 1 at layer2 (0.70) wrong; 2 at layer3 (0.80)
# wrong; 3 reaches the final, wrong; 4 at layer1 (0.60) wrong.
BY_HAND = [("layer1", 1.0), ("layer2", 0.0), ("layer3", 0.0), ("final", 0.0), ("layer1", 0.0)]


def scenario(tmp_path, csv_text=CSV, order="sequential", compare=("progressive_layer2_t0.5",)):
    (tmp_path / "conf.csv").write_text(csv_text)
    return exit_scenario(
        tmp_path,
        device_changes={
            "count": 1,
            "workload": {"kind": "periodic", "fps": 2.0},
            "exits": {"kind": "replay", "file": "conf.csv", "order": order},
        },
        compare=list(compare),
        duration_s=6.0,
    )


def test_sequential_replay_is_exact(tmp_path):
    req = sim.run(scenario(tmp_path)).requests.sort_values("t_arrival").reset_index(drop=True)
    assert len(req) == 12
    for i, row in req.iterrows():
        exit_name, correct = BY_HAND[i % 5]
        assert row["exit"] == exit_name, i
        assert row["accuracy"] == correct, i
        assert row["exit_on_device"] == (exit_name in ("layer1", "layer2")), i
        assert (row["bytes_sent"] == 0) == row["exit_on_device"], i


def test_replay_shares_and_accuracies(tmp_path):
    sc = scenario(tmp_path)
    plan = sc.factory("board", "progressive_layer2_t0.5").plans[0]
    assert plan.exits.shares() == pytest.approx([0.4, 0.2, 0.2, 0.2])
    assert plan.exits.accuracies(0.78) == pytest.approx([0.5, 0.0, 0.0, 0.0])
    assert plan.accuracy == pytest.approx(0.2)
    # Threshold 0: everything leaves at layer1 (its correctness: 1, 0, 0, 0, 0).
    sc0 = scenario(tmp_path, compare=("progressive_layer2_t0",))
    plan0 = sc0.factory("board", "progressive_layer2_t0").plans[0]
    assert plan0.exits.shares() == pytest.approx([1.0, 0.0, 0.0, 0.0])
    assert plan0.accuracy == pytest.approx(0.2)


def test_random_order_draws_rows_uniformly(tmp_path):
    rows = "\n".join(f"{i / 100:.2f},0,0,1,0,0,0" for i in range(100))
    header = CSV.splitlines()[0]
    sc = scenario(tmp_path, csv_text=header + "\n" + rows + "\n", order="random")
    req = sim.run(sc, seed=3).requests
    # Rows with confidence >= 0.5 at layer1: half the file.
    share = (req["exit"] == "layer1").mean()
    assert 0.2 < share < 0.8
    assert set(req["exit"].astype(str)) <= {"layer1", "final"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("layer1.confidence,layer1.correct\n0.5,1\n", "lacks a column"),
        (CSV.replace("0.90,0.95", "1.90,0.95"), "outside"),
        (CSV.replace("0,0,0,0\n", "0,0,0,2\n"), "0 or 1"),
        (CSV.replace("0.10,0.70", "0.10,abc"), "not a number"),
        (CSV.splitlines()[0] + "\n", "no header or no samples"),
    ],
)
def test_bad_confidence_files(tmp_path, text, message):
    with pytest.raises(SimInputError, match=message):
        scenario(tmp_path, csv_text=text)
