"""The end of a non-looping trace (issue 17): a transfer still in progress at the trace's
end fails there with the bytes it had sent, and later transfers fail at once, on dedicated
links and in shared cells. Before, a dedicated link reported 0 bytes and t = inf for the
transfer and every later one; a shared cell never ended the transfer at all.

Hand-made trace (time_mbps: each rate covers the interval ending at its time):
1 Mbit/s on [0, 1) s, 0.5 Mbit/s on [1, 2) s, then the trace ends (loop: false).
The toy 'offload' strategy sends a 5000-byte JPEG (40 000 bit) as soon as a request
arrives (no device compute), over radio 'none' (no promotion delay).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sim
from sim.channel.capacity import PiecewiseCapacity
from sim.channel.sources import SeriesSource
from sim.collect import TIME_COLUMNS as COLLECTED_TIME_COLUMNS
from sim.scenario.load import build_scenario
from tests.conftest import toy_spec

TIME_COLUMNS = list(COLLECTED_TIME_COLUMNS)  # every time column a request records


def tiny_trace(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.time_mbps"
    path.write_text("1 1\n2 0.5\n")
    return path


def run(tmp_path, times_s, *, sharing="dedicated", count=1, uplink=None, **cell):
    spec = toy_spec(compare=["offload"])
    spec["devices"][0]["workload"] = {"kind": "timestamps", "times_s": list(times_s)}
    spec["devices"][0]["count"] = count
    spec["cells"][0]["uplink"] = uplink or {
        "kind": "trace",
        "path": str(tiny_trace(tmp_path)),
        "format": "time_mbps",
        "loop": False,
        "random_offset": False,
    }
    spec["cells"][0]["sharing"] = sharing
    spec["cells"][0].update(cell)
    requests = sim.run(build_scenario(spec, tmp_path / "scenario.yaml")).requests
    # No t = inf anywhere in the records (stages never reached are NaN).
    assert not np.isinf(requests[TIME_COLUMNS].to_numpy(float)).any()
    return requests.sort_values(["t_arrival", "device"]).reset_index(drop=True)


def check(requests, expected):
    """expected: (t_uplink_start, t_uplink_end, bytes_sent, outcome) per request."""
    got = requests[["t_uplink_start", "t_uplink_end", "bytes_sent"]].to_numpy(float)
    assert got == pytest.approx(np.array([e[:3] for e in expected], dtype=float), abs=1e-9)
    for (_, _, _, outcome), (_, row) in zip(expected, requests.iterrows(), strict=True):
        assert row["outcome"] == outcome
        assert row["reason"] == ("transfer_failed" if outcome == "failed" else "")


# By hand, one device:
# t = 0.00: 40 000 bit at 1 Mbit/s -> ends 0.04, completed.
# t = 0.98: 20 000 bit by 1.00, 20 000 bit at 0.5 Mbit/s -> ends 1.04, completed.
# t = 1.95: 0.05 s x 0.5 Mbit/s = 25 000 bit = 3125 B sent when the trace ends at 2.0: fails.
# t = 1.96: waits for the radio (FIFO) until 2.0, then fails at once, 0 B.
# t = 3.00: after the end: fails at once, 0 B.
ONE_DEVICE = [
    (0.00, 0.04, 5000.0, "completed"),
    (0.98, 1.04, 5000.0, "completed"),
    (1.95, 2.00, 3125.0, "failed"),
    (2.00, 2.00, 0.0, "failed"),
    (3.00, 3.00, 0.0, "failed"),
]
TIMES = [0.0, 0.98, 1.95, 1.96, 3.0]


@pytest.mark.parametrize("sharing", ["dedicated", "shared"])
def test_one_device_by_hand(tmp_path, sharing):
    check(run(tmp_path, TIMES, sharing=sharing), ONE_DEVICE)


def test_one_process_for_the_whole_cell(tmp_path):
    check(run(tmp_path, TIMES, channel_per_device=False), ONE_DEVICE)


def test_an_inline_series_without_loop_ends_at_its_period(tmp_path):
    series = {
        "kind": "series",
        "times_s": [0.0, 1.0],
        "rates_bps": [1.0e6, 0.5e6],
        "period_s": 2.0,
        "loop": False,
    }
    check(run(tmp_path, TIMES, uplink=series), ONE_DEVICE)


def test_two_devices_sharing_the_cell_at_the_end(tmp_path):
    # Both send at 1.9 s; round robin gives each half of 0.5 Mbit/s for 0.1 s:
    # 25 000 bit = 3125 B each when the trace ends at 2.0.
    requests = run(tmp_path, [0.0, 1.9], sharing="shared", count=2)
    # t = 0: both at once, each at 0.5 Mbit/s -> 40 000 bit ends at 0.08.
    check(
        requests,
        [
            (0.0, 0.08, 5000.0, "completed"),
            (0.0, 0.08, 5000.0, "completed"),
            (1.9, 2.0, 3125.0, "failed"),
            (1.9, 2.0, 3125.0, "failed"),
        ],
    )


@pytest.mark.parametrize("sharing", ["dedicated", "shared"])
def test_a_timeout_before_the_end_still_applies(tmp_path, sharing):
    # 20 ms limit: 0.02 s x 0.5 Mbit/s = 10 000 bit = 1250 B by 1.97 s.
    requests = run(tmp_path, [1.95], sharing=sharing, transfer_timeout_s=0.02)
    check(requests, [(1.95, 1.97, 1250.0, "failed")])


@pytest.mark.parametrize("sharing", ["dedicated", "shared"])
def test_no_retry_after_the_end(tmp_path, sharing):
    # Attempts of 20 ms, 10 ms back-off: [1.95, 1.97] fails, the retry [1.98, 2.00] ends
    # with the trace (10 000 bit = 1250 B in that attempt); a retry would start after the
    # end, so there is none and the request fails at 2.0.
    retry = {"max_retries": 5, "backoff_s": 0.01, "attempt_timeout_s": 0.02}
    requests = run(tmp_path, [1.95], sharing=sharing, retry=retry)
    check(requests, [(1.95, 2.0, 1250.0, "failed")])


def test_a_looping_trace_goes_on(tmp_path):
    # The same requests with loop: true: the trace repeats from 2.0 s (1 Mbit/s again).
    loop = {
        "kind": "trace",
        "path": str(tiny_trace(tmp_path)),
        "format": "time_mbps",
        "loop": True,
        "random_offset": False,
    }
    # 1.95: 25 000 bit by 2.0, 15 000 at 1 Mbit/s -> 2.015; 1.96 waits, 40 000 -> 2.055;
    # 3.0 is 1.0 s into the second pass: 40 000 bit at 0.5 Mbit/s -> 3.08.
    check(
        run(tmp_path, [1.95, 1.96, 3.0], uplink=loop),
        [
            (1.95, 2.015, 5000.0, "completed"),
            (2.015, 2.055, 5000.0, "completed"),
            (3.0, 3.08, 5000.0, "completed"),
        ],
    )


@pytest.mark.parametrize(
    ("offset_s", "loop", "end_s"),
    [
        (0.0, False, 2.0),
        (0.5, False, 1.5),
        (1.999, False, 0.001),
        (2.5, False, 0.0),
        (0.5, True, np.inf),
    ],
)
def test_the_end_moves_with_the_offset(offset_s, loop, end_s):
    # A device replaying from offset o reaches the trace's end after (duration - o) s.
    source = SeriesSource(
        np.array([1.0, 1.0]), np.array([1e6, 0.5e6]), offset_s=offset_s, loop=loop
    )
    capacity = PiecewiseCapacity(source)
    assert capacity.end_s == pytest.approx(end_s, abs=1e-12)
    if not loop:
        # Nothing is carried after the end, and everything before it is.
        expected_bits = sum(
            rate * max(0.0, min(b, 2.0) - max(a, offset_s))
            for (a, b), rate in (((0.0, 1.0), 1e6), ((1.0, 2.0), 0.5e6))
        )
        assert capacity.bits_until(end_s + 10.0) == pytest.approx(expected_bits)
        assert capacity.rate_at(end_s + 1e-9) == 0.0


@pytest.mark.parametrize("sharing", ["dedicated", "shared"])
def test_a_downlink_trace_that_ends_fails_the_results_after_it(tmp_path, sharing):
    """The downlink ends like the uplink: a result still being received when a non-looping
    downlink trace ends fails there (transfer_failed), later ones fail at once; no t = inf.
    Uplink: a fast constant link; downlink: the tiny trace (1 Mbit/s to 1 s, 0.5 to 2 s);
    results of 5000 B (40 000 bit: 40 ms at 1 Mbit/s)."""
    downlink = {
        "kind": "trace",
        "path": str(tiny_trace(tmp_path)),
        "format": "time_mbps",
        "loop": False,
        "random_offset": False,
    }
    spec = toy_spec(compare=["offload"])
    spec["devices"][0]["workload"] = {"kind": "timestamps", "times_s": [0.0, 3.0, 4.0]}
    spec["devices"][0]["result_bytes"] = 5000
    spec["cells"][0]["uplink"] = {"kind": "constant", "rate_bps": 1e9}
    spec["cells"][0]["downlink"] = downlink
    spec["cells"][0].pop("downlink_bps", None)
    spec["cells"][0]["sharing"] = sharing
    requests = sim.run(build_scenario(spec, tmp_path / "scenario.yaml")).requests
    requests = requests.sort_values("t_arrival").reset_index(drop=True)
    assert not np.isinf(requests[TIME_COLUMNS].to_numpy(float)).any()
    first, *later = requests.itertuples()
    assert first.outcome in ("completed", "completed_late")
    # Its result took 40 ms at 1 Mbit/s after the service ended (plus the wired path).
    assert first.t_done - first.t_service_end >= 0.04 - 1e-9
    for row in later:  # results ready after the trace's end at 2 s
        assert row.t_service_end > 2.0
        assert row.outcome == "failed" and row.reason == "transfer_failed"
        assert row.t_done == pytest.approx(row.t_service_end, abs=0.01)  # at once (+ path)
