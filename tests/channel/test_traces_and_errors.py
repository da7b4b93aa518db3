"""Trace loaders for every shipped format, and one clear error line for bad input."""

from __future__ import annotations

import pytest

import sim
from sim.channel.traces import (
    load_csv,
    load_fivegophers,
    load_irish_5g,
    load_mahimahi,
    load_time_mbps,
)
from sim.errors import SimInputError
from tests.conftest import toy_spec


def test_mahimahi_time_mbps_irish_and_fivegophers_load(shared_traces):
    up = load_mahimahi(shared_traces / "mahimahi_cellular" / "ATT-LTE-driving.up", 1.0)
    assert up.mean_bps / 1e6 == pytest.approx(0.83, abs=0.01)  # README: 0.83 Mbit/s
    norway = load_time_mbps(next((shared_traces / "hsdpa_norway_riiser2013" / "cooked").glob("*")))
    assert norway.duration_s > 60 and norway.rates_bps.min() >= 0
    static = sorted((shared_traces / "irish_5g_raca2020" / "Download" / "Static").glob("*.csv"))
    irish = [load_irish_5g(p) for p in static]
    total = sum(t.duration_s for t in irish)
    mean = sum(t.mean_bps * t.duration_s for t in irish) / total
    assert total / 3600 == pytest.approx(4.8, abs=0.1)  # README: 4.8 h, mean 71.7 Mbit/s
    assert mean / 1e6 == pytest.approx(71.7, rel=0.02)
    mobility = shared_traces / "fivegophers_narayanan2020" / "All-Carriers" / "03-User-Mobility"
    walk = load_fivegophers(mobility / "walking-trace.csv")
    assert walk.mean_bps / 1e6 == pytest.approx(333, rel=0.01)  # README: 333 Mbit/s
    car = load_fivegophers(mobility / "car-driving-trace-1.csv", "Verizon_throughput_mbps")
    assert car.duration_s == 120 and car.mean_bps / 1e6 == pytest.approx(275, rel=0.01)
    runs = (
        shared_traces / "fivegophers_narayanan2020" / "All-Carriers" / "01-Throughput" / "data.csv"
    )
    one = load_fivegophers(runs, select={"carrier": "VERIZON", "run_num": 81})
    assert 55 <= one.duration_s <= 61
    with pytest.raises(SimInputError, match="several runs: pick one with 'select'"):
        load_fivegophers(runs)
    with pytest.raises(
        SimInputError, match=r"no rows with carrier = AT&T .*; allowed: SPRINT, TMOBILE, VERIZON"
    ):
        load_fivegophers(runs, select={"carrier": "AT&T"})


def test_irish_format_by_hand(tmp_path):
    path = tmp_path / "irish.csv"
    path.write_text(
        "Timestamp,Speed,DL_bitrate,UL_bitrate\n"
        "2020.01.01_10.00.00,0,1000,1\n"
        "2020.01.01_10.00.00,0,3000,1\n"  # two rows in one second: averaged
        "2020.01.01_10.00.01,0,-,1\n"  # missing: filled from the previous second
        "2020.01.01_10.00.03,0,500,1\n"  # a gap of one second: forward-filled
    )
    trace = load_irish_5g(path)
    assert trace.rates_bps.tolist() == [2e6, 2e6, 2e6, 0.5e6]
    assert trace.durations_s.tolist() == [1.0] * 4


@pytest.mark.parametrize(
    ("text", "loader", "message"),
    [
        ("", load_time_mbps, "trace has no data rows"),
        ("0.5 1.0\n1.0 -2\n", load_time_mbps, ":2: trace has a negative throughput (got -2.0)"),
        ("0.5 1.0\n0.4 2\n", load_time_mbps, ":2: trace time is not strictly increasing"),
        ("0.5 1.0\n1.0 nan\n", load_time_mbps, ":2: trace has a NaN or infinite value"),
        ("10\n20\n5\n", lambda p: load_mahimahi(p, 0.1), ":3: timestamps go backwards"),
        ("10\nabc\n", lambda p: load_mahimahi(p, 0.1), ":2: expected one integer millisecond"),
        (
            "time_s,throughput\n0,1\n1,x\n",
            lambda p: load_csv(p, time_column="time_s", rate_column="throughput", rate_unit="Mbps"),
            ":3: trace has a NaN or infinite value",
        ),
        (
            "Timestamp,DL_bitrate\n2020.01.01_10.00.05,5\n2020.01.01_10.00.01,5\n",
            load_irish_5g,
            ":3: trace time is not strictly increasing",
        ),
        ("Timestamp,DL_bitrate\nyesterday,5\n", load_irish_5g, ":2: bad Timestamp"),
        ("seq_num,throughput_mbps\n0,5\n1,-1\n", load_fivegophers, ":3: trace has a negative"),
    ],
)
def test_broken_traces_name_file_and_line(tmp_path, text, loader, message):
    path = tmp_path / "broken.trace"
    path.write_text(text)
    with pytest.raises(SimInputError) as info:
        loader(path)
    line = str(info.value)
    assert "\n" not in line and str(path) in line and message in line


def _load(tmp_path, **changes):
    return sim.loads(__import__("yaml").safe_dump(toy_spec(**changes)), base_dir=tmp_path)


@pytest.mark.parametrize(
    ("uplink", "key", "words"),
    [
        ({"kind": "rayleighh"}, "cells.0.uplink", ["unknown kind", "physical", "gilbert_elliott"]),
        ({"kind": "constant", "rate_bps": -5}, "cells.0.uplink.rate_bps", ["got -5", "> 0"]),
        (
            {"kind": "markov", "rates_bps": [1e6, -1], "mean_sojourn_s": [1, 1]},
            "cells.0.uplink.rates_bps.1",
            ["got -1", ">= 0"],
        ),
        (
            {"kind": "physical", "scenario": "urban"},
            "cells.0.uplink.scenario",
            ["got 'urban'", "uma, umi, inh or rma"],
        ),
        (
            {"kind": "physical", "mobility": {"kind": "random_waypoint", "speed_mps": [1, 2]}},
            "cells.0.uplink.mobility.area_m",
            ["required key is missing"],
        ),
        (
            {"kind": "physical", "link": {"mapping": "lte_cqi", "bandwith_hz": 5e6}},
            "cells.0.uplink.link.bandwith_hz",
            ["unknown key (did you mean 'bandwidth_hz'?)"],
        ),
        (
            {"kind": "trace", "path": "missing.up", "format": "mahimahi"},
            "cells.0.uplink.path",
            ["trace file not found", "missing.up"],
        ),
    ],
)
def test_bad_channel_config_is_one_clear_line(tmp_path, uplink, key, words):
    with pytest.raises(SimInputError) as info:
        _load(tmp_path, cells__0__uplink=uplink)
    text = str(info.value)
    assert "\n" not in text and f"key '{key}'" in text, text
    for word in words:
        assert word in text, text


def test_broken_trace_in_scenario_names_trace_file_and_line(tmp_path):
    (tmp_path / "bad.up").write_text("5\n3\n")
    with pytest.raises(SimInputError) as info:
        _load(tmp_path, cells__0__uplink={"kind": "trace", "path": "bad.up", "format": "mahimahi"})
    assert f"{tmp_path / 'bad.up'}:2: timestamps go backwards" in str(info.value)


def test_bad_error_model_and_scheduler(tmp_path):
    with pytest.raises(SimInputError, match=r"key .cells.0.errors.p.*<= 1"):
        _load(tmp_path, cells__0__errors={"kind": "gilbert_elliott", "p": 2, "r": 0.1})
    with pytest.raises(SimInputError, match=r"key .cells.0.scheduler.*proportional_fair"):
        _load(tmp_path, cells__0__scheduler="max_cqi")
    assert _load(tmp_path).spec.cells[0].pf_mean_snr_db is None
    with pytest.raises(SimInputError, match=r"key .cells.0.pf_mean_snr_db.*removed"):
        _load(tmp_path, cells__0__pf_mean_snr_db=10.0)


# One small file per format, with its rates [bit/s] and durations [s] worked out by hand.
_ONE_FILE_PER_FORMAT = {
    "mahimahi": ("a.up", "0\n50\n120\n150\n", [2 * 12000 / 0.1, 2 * 12000 / 0.1]),
    "time_mbps": ("a.txt", "1.0 2.0\n2.0 4.0\n3.0 6.0\n", [2e6, 4e6, 6e6]),
    "csv": ("a.csv", "time_s,throughput,x\n0,1.5,0\n2,3,0\n4,1,0\n", [1.5e6, 3e6, 1e6]),
    "irish_5g": (
        "i.csv",
        "Timestamp,DL_bitrate,UL_bitrate\n2020.01.01_10.00.00,1000,1\n2020.01.01_10.00.01,3000,1\n",
        [1e6, 3e6],
    ),
    "fivegophers": ("g.csv", "seq_num,throughput_mbps\n0,5\n1,7\n", [5e6, 7e6]),
}


@pytest.mark.parametrize("fmt", sorted(_ONE_FILE_PER_FORMAT))
def test_scenario_and_fitter_read_a_file_identically(tmp_path, fmt):
    """A scenario's trace uplink and the channel fitter share one reader and its defaults."""
    from sim.channel.config import TraceUplink, resolve_trace
    from sim.channel.fit import load_trace

    name, text, rates_bps = _ONE_FILE_PER_FORMAT[fmt]
    (tmp_path / name).write_text(text)
    config = TraceUplink(kind="trace", path=name, format=fmt)
    scenario = resolve_trace(config, tmp_path, file=None, key="cells.0.uplink")
    for fitted in (load_trace(tmp_path / name, fmt), load_trace(tmp_path / name, "auto")):
        assert fitted.rates_bps.tolist() == scenario.rates_bps.tolist()
        assert fitted.durations_s.tolist() == scenario.durations_s.tolist()
    assert scenario.rates_bps.tolist() == pytest.approx(rates_bps)


def test_unknown_trace_format_is_one_clear_line(tmp_path):
    from sim.channel.fit import load_trace

    (tmp_path / "a.txt").write_text("1 2\n2 3\n")
    with pytest.raises(SimInputError, match="unknown trace format") as info:
        load_trace(tmp_path / "a.txt", "pcap")
    assert "auto, mahimahi, time_mbps, csv, irish_5g, fivegophers" in str(info.value)
