"""Deterministic arrivals, constant link, fixed compute: every timestamp by hand."""

from __future__ import annotations

import pytest

import sim
from tests.conftest import toy_scenario

# Hand computation (toy profiles): encoder 0.02 s; payload 1000 B = 8000 bit at 1 Mbit/s
# = 8 ms; propagation 1 ms; path 2 ms + 8000 bit / 1 Gbit/s; service 8 ms (batch 1);
# back: path 2 ms + 128 bit / 1 Gbit/s, propagation 1 ms, 128 bit / 1 Mbit/s downlink.
ENC, TX, PROP, LAT, SVC = 0.02, 0.008, 0.001, 0.002, 0.008
UP_WIRE = 8000 / 1e9
BACK = LAT + 128 / 1e9 + PROP + 128 / 1e6


def expected(arrival, head_start, uplink_start, server_free):
    head_end = head_start + ENC
    up_end = uplink_start + TX
    server_arrival = up_end + PROP + LAT + UP_WIRE
    service_start = max(server_arrival, server_free)
    service_end = service_start + SVC
    return {
        "t_arrival": arrival,
        "t_head_start": head_start,
        "t_head_end": head_end,
        "t_uplink_start": uplink_start,
        "t_tx_start": uplink_start,
        "t_uplink_end": up_end,
        "t_server_arrival": server_arrival,
        "t_service_start": service_start,
        "t_service_end": service_end,
        "t_done": service_end + BACK,
    }


def test_every_timestamp_of_three_requests():
    res = sim.run(toy_scenario())
    req = res.requests.sort_values("t_arrival").reset_index(drop=True)
    assert list(req["outcome"]) == ["completed"] * 3
    r0 = expected(0.0, 0.0, 0.02, 0.0)
    # Second request arrives while the processor is busy (FIFO) and then waits for the radio.
    r1 = expected(0.01, 0.02, 0.04, r0["t_service_end"])
    r2 = expected(1.0, 1.0, 1.02, r1["t_service_end"])
    for i, exp in enumerate((r0, r1, r2)):
        for column, value in exp.items():
            assert req.loc[i, column] == pytest.approx(value, abs=1e-12), (i, column)
    assert list(req["batch_size"]) == [1, 1, 1]
    assert list(req["bytes_sent"]) == [1000.0] * 3
    # Compute energy above the board's idle: (5 W - 1 W idle) x 20 ms per request; no radio
    # energy with radio 'none'.
    assert req["e_compute_j"].tolist() == pytest.approx([0.08] * 3)
    assert req["e_radio_j"].tolist() == pytest.approx([0.0] * 3)


def test_local_and_offload_timestamps():
    res = sim.run(toy_scenario(compare=["local", "offload"]))
    local = res.requests[res.requests["strategy"] == "local"].sort_values("t_arrival")
    # Whole model on the device: 0.1 + 0.2 + 0.05 s, FIFO.
    assert local["t_done"].tolist() == pytest.approx([0.35, 0.70, 1.35])
    assert local["outcome"].tolist() == ["completed", "completed_late", "completed"]
    off = res.requests[res.requests["strategy"] == "offload"].sort_values("t_arrival").reset_index()
    # 5000 B JPEG = 40 ms at 1 Mbit/s; server JPEG decode 1 ms; full model 10 ms.
    up_end = 0.040
    arrive = up_end + PROP + LAT + 40000 / 1e9 + 0.001
    assert off.loc[0, "t_uplink_end"] == pytest.approx(up_end)
    assert off.loc[0, "t_server_arrival"] == pytest.approx(arrive)
    assert off.loc[0, "t_done"] == pytest.approx(arrive + 0.010 + BACK)
    # The second JPEG waits for the first on the radio (FIFO).
    assert off.loc[1, "t_uplink_start"] == pytest.approx(up_end)
    assert off.loc[1, "t_uplink_end"] == pytest.approx(0.080)
