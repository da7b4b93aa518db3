"""Progressive split inference in the engine: the two limits of the threshold, and CRN."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.errors import SimInputError
from tests.exits.conftest import exit_scenario

SAME = [
    "device",
    "outcome",
    "reason",
    "server",
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
    "batch_size",
    "server_queue_len",
    "payload_bytes",
    "bytes_sent",
    "e_compute_j",
    "e_radio_j",
    "accuracy",
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_threshold_one_is_the_plain_split_record_for_record(seed):
    res = sim.run(exit_scenario(), seed=seed)
    req = res.requests
    plain = req[req["strategy"] == "split_layer2_uint8"].reset_index(drop=True)
    prog = req[req["strategy"] == "progressive_layer2_t1"].reset_index(drop=True)
    assert len(plain) == len(prog) > 50
    assert (plain["batch_size"] > 1).any()  # batches mix requests and background jobs
    for column in SAME:
        a, b = plain[column].to_numpy(), prog[column].to_numpy()
        if a.dtype.kind == "f":
            assert np.array_equal(a, b, equal_nan=True), column
        else:
            assert [str(v) for v in plain[column]] == [str(v) for v in prog[column]], column
    assert set(prog["exit"].astype(str)) == {"final"}
    assert set(plain["exit"].astype(str)) == {""}
    assert not prog["exit_on_device"].any()
    # The background tenants see the same server too.
    bg = res.background
    assert np.array_equal(
        bg[bg["strategy"] == "split_layer2_uint8"]["t_service_end"].to_numpy(),
        bg[bg["strategy"] == "progressive_layer2_t1"]["t_service_end"].to_numpy(),
        equal_nan=True,
    )


def test_threshold_zero_exits_at_the_first_exit_on_the_device():
    scenario = exit_scenario(compare=["progressive_layer2_t0"])
    res = sim.run(scenario)
    req = res.requests
    assert len(req) > 50
    assert (req["exit"].astype(str) == "layer1").all()
    assert req["exit_on_device"].all()
    assert (req["bytes_sent"] == 0).all()
    assert (req["e_radio_j"] == 0).all()
    assert req["t_uplink_start"].isna().all() and req["t_server_arrival"].isna().all()
    assert (req["t_done"] == req["t_head_end"]).all()
    # Device time by hand: stem + layer1 from the Jetson Nano profile, plus the head from its
    # cost model (overhead + 256,000 MACs / throughput).
    device = scenario.groups[0].device
    blocks = device.models["resnet152"].blocks_s
    cost = device.cost_model
    head = cost.overhead_per_block_s + 256 * 1000 / cost.macs_per_s
    alone = req[req["t_head_start"] == req["t_arrival"]]
    assert len(alone) > 10
    assert (alone["t_head_end"] - alone["t_head_start"]).to_numpy() == pytest.approx(
        blocks["stem"] + blocks["layer1"] + head, rel=1e-12
    )
    # Radio never used: no promotion, transfer or tail energy on any device over the run.
    for column in ("e_radio_promotion_j", "e_radio_tx_j", "e_radio_tail_j"):
        assert (res.devices[column] == 0.0).all(), column


def test_common_random_numbers_across_thresholds():
    """A lower threshold never sends a request deeper than a higher one (same draw, nested)."""
    scenario = exit_scenario(compare=["progressive_layer3_t0.8", "progressive_layer3_t0.5"])
    req = sim.run(scenario).requests
    order = {"layer1": 0, "layer2": 1, "layer3": 2, "final": 3}
    high = req[req["strategy"] == "progressive_layer3_t0.8"]["exit"].astype(str).map(order)
    low = req[req["strategy"] == "progressive_layer3_t0.5"]["exit"].astype(str).map(order)
    assert len(high) == len(low) > 50
    assert (low.to_numpy() <= high.to_numpy()).all()
    assert (low.to_numpy() < high.to_numpy()).any()


def test_server_exit_ends_early_in_its_batch():
    """Split after layer1: a sample leaving at the server's layer3 exit is answered after the
    share of the tail's MACs up to layer3; a batch whose samples all left there ends then."""
    scenario = exit_scenario(
        compare=["progressive_layer1_t0.5"],
        servers=[
            {
                "name": "gpu0",
                "node": "edge",
                "profile": "h100_eager_pytorch",
                "batching": {"max_batch": 1, "max_wait_s": 0.0},
            }
        ],
    )
    res = sim.run(scenario)
    req = res.requests
    model = scenario.groups[0].model
    macs = {b.name: b.macs for b in model.blocks}
    tail = macs["layer2"] + macs["layer3"] + macs["layer4"] + macs["classifier"]
    service = scenario.service_models[("gpu0", "resnet152/tail_after_layer1")].service_s(1)
    served = req[req["t_service_start"].notna()]
    at3 = served[served["exit"].astype(str) == "layer3"]
    final = served[served["exit"].astype(str) == "final"]
    at2 = served[served["exit"].astype(str) == "layer2"]
    assert len(at3) > 5 and len(final) > 0
    s = (at3["t_service_end"] - at3["t_service_start"]).to_numpy()
    assert s == pytest.approx(service * (macs["layer2"] + macs["layer3"]) / tail, rel=1e-9)
    s = (final["t_service_end"] - final["t_service_start"]).to_numpy()
    assert s == pytest.approx(service, rel=1e-9)
    if len(at2):
        s = (at2["t_service_end"] - at2["t_service_start"]).to_numpy()
        assert s == pytest.approx(service * macs["layer2"] / tail, rel=1e-9)
    batches = res.batches
    assert (batches["t_end"] - batches["t_start"]).max() == pytest.approx(service, rel=1e-9)


def test_bad_progressive_names_and_models():
    with pytest.raises(SimInputError, match="bad progressive plan"):
        exit_scenario(compare=["progressive_layer9_t0.8"])
    with pytest.raises(SimInputError, match="bad progressive plan"):
        exit_scenario(compare=["progressive_layer2_t1.5"])
    with pytest.raises(SimInputError, match="has no early exits"):
        exit_scenario(compare=["progressive_layer2_t0.8"], device_changes={"model": "resnet50"})
    with pytest.raises(SimInputError, match="unknown exit table"):
        exit_scenario(
            compare=["progressive_layer2_t0.8"],
            device_changes={"exits": {"kind": "proxy", "table": "spinn_figures"}},
        )
