"""Power logs: tegrastats and meter parsers, energy integration, alignment with profiler phases."""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest

# The parsers, integration and alignment need no torch (calibration/power/ imports none);
# only the tests that run the profiler skip without it (here and in the `profiled` fixture).
from calibration.power import (
    PowerTrace,
    TegrastatsRecorder,
    align_phases,
    parse_line,
    parse_lines,
    parse_meter_csv,
    read_meter_csv,
    read_tegrastats,
    to_trace,
)
from sim.profiles.registry import load_profile_file

DATA = Path(__file__).parent / "data"
T0 = 1714557600.0  # the fixtures' first Unix time


def test_tegrastats_nano_jetpack4_stamped_by_the_recorder() -> None:
    trace = read_tegrastats(DATA / "tegrastats_nano_jp4_stamped.log")
    assert trace.source == "tegrastats rail POM_5V_IN"
    assert len(trace.times_s) == 20
    assert trace.times_s[0] == T0 and trace.times_s[-1] == pytest.approx(T0 + 1.9)
    assert trace.watts[0] == 1.815 and trace.watts[-1] == 6.412
    gpu = read_tegrastats(DATA / "tegrastats_nano_jp4_stamped.log", rail="POM_5V_GPU")
    assert gpu.watts[0] == 0.040


def test_tegrastats_line_fields_other_than_rails_are_ignored() -> None:
    line = (DATA / "tegrastats_nano_jp4_stamped.log").read_text().splitlines()[0]
    sample = parse_line(line)
    assert sample is not None
    assert sample.rails_mw == {
        "POM_5V_IN": 1815,
        "POM_5V_GPU": 40,
        "POM_5V_CPU": 361,
    }  # not RAM/SWAP/IRAM
    assert parse_line("RAM 1538/3956MB (lfb 211x4MB) SWAP 0/1978MB CPU [9%@1479]") is None


def test_tegrastats_orin_jetpack5_with_its_own_dates_and_mw_units() -> None:
    samples = parse_lines((DATA / "tegrastats_orin_jp5.log").read_text().splitlines())
    assert [s.rails_mw["VDD_IN"] for s in samples] == [4567, 4571, 9874, 9902]
    trace = to_trace(samples)
    assert trace.source == "tegrastats rail VDD_IN"
    expected = dt.datetime(
        2024, 4, 15, 10, 21, 33
    ).timestamp()  # local time, as tegrastats prints it
    assert trace.times_s[0] == expected and trace.times_s[1] - trace.times_s[0] == 1.0


def test_tegrastats_without_times_needs_start_and_interval() -> None:
    path = DATA / "tegrastats_xavier_bare.log"
    with pytest.raises(ValueError, match="no times"):
        read_tegrastats(path)
    trace = read_tegrastats(path, start_s=T0, interval_s=0.5)
    assert trace.times_s == (T0, T0 + 0.5, T0 + 1.0)
    assert trace.watts == (3.686, 3.690, 3.702)
    with pytest.raises(ValueError, match="rail 'POM_5V_IN' not in the log"):
        read_tegrastats(path, rail="POM_5V_IN", start_s=T0, interval_s=0.5)


def test_meter_csv_voltage_and_current() -> None:
    trace = read_meter_csv(DATA / "meter_va.csv")
    assert len(trace.times_s) == 40
    assert trace.watts[0] == pytest.approx(5.08 * 0.52)
    assert trace.watts[-1] == pytest.approx(5.02 * 1.27)


def test_meter_csv_iso_times_and_milliwatts_with_offset() -> None:
    trace = read_meter_csv(DATA / "meter_iso_mw.csv", t0_s=0.25)
    start = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC).timestamp()
    assert trace.times_s[0] == start + 0.25
    assert trace.watts == (2.65, 2.65, 6.4, 6.4)


def test_meter_csv_errors_name_the_problem() -> None:
    with pytest.raises(ValueError, match="time column"):
        parse_meter_csv(["watts\n", "1\n"])
    with pytest.raises(ValueError, match="power_w"):
        parse_meter_csv(["time_s,voltage_v\n", "1,5\n"])
    with pytest.raises(ValueError, match="row 3"):
        parse_meter_csv(["time_s,power_w\n", "1,5\n", "2,abc\n"])


def test_energy_of_a_constant_power_segment() -> None:
    times = [100.0 + 0.1 * i for i in range(101)]
    trace = PowerTrace.from_samples(times, [5.0] * len(times))
    assert trace.energy_j(101.05, 103.55) == pytest.approx(5.0 * 2.5, rel=1e-12)
    assert trace.mean_w(100.0, 110.0) == pytest.approx(5.0)
    assert trace.samples_in(101.05, 103.55) == 25


def test_energy_interpolates_between_samples() -> None:
    trace = PowerTrace.from_samples([0.0, 1.0, 2.0], [2.0, 4.0, 4.0])
    assert trace.energy_j(0.0, 1.0) == pytest.approx(3.0)  # ramp 2 -> 4 W over 1 s
    # P(0.5) = 3 W, P(1) = 4 W, P(1.5) = 4 W: 0.5 s * 3.5 W + 0.5 s * 4 W
    assert trace.energy_j(0.5, 1.5) == pytest.approx(3.75)
    with pytest.raises(ValueError, match="outside"):
        trace.energy_j(-0.1, 1.0)


def test_align_phases_idle_compute_and_energy_per_image() -> None:
    trace = read_tegrastats(DATA / "tegrastats_nano_jp4_stamped.log")
    phases = [
        {"name": "idle", "t_start": T0, "t_end": T0 + 0.9, "calls": 0, "batch": 1},
        {"name": "full", "t_start": T0 + 1.0, "t_end": T0 + 1.9, "calls": 10, "batch": 1},
        {"name": "server/full/b2", "t_start": T0 + 1.0, "t_end": T0 + 1.9, "calls": 5, "batch": 2},
        {"name": "too_short", "t_start": T0 + 1.01, "t_end": T0 + 1.02, "calls": 1, "batch": 1},
    ]
    idle_w, rows = align_phases(trace, phases)
    assert idle_w == pytest.approx(1.815)
    by_name = {r.name: r for r in rows}
    assert "too_short" not in by_name  # fewer than two samples inside
    full = by_name["full"]
    assert full.mean_w == pytest.approx(6.412)
    assert full.energy_j == pytest.approx(6.412 * 0.9)
    assert full.energy_per_image_j == pytest.approx(6.412 * 0.9 / 10)
    assert full.marginal_per_image_j == pytest.approx((6.412 - 1.815) * 0.9 / 10)
    assert by_name["server/full/b2"].energy_per_image_j == pytest.approx(6.412 * 0.9 / 10)
    with pytest.raises(ValueError, match="not inside the power trace"):
        align_phases(
            trace, [{"name": "late", "t_start": T0 + 5, "t_end": T0 + 6, "calls": 1}], idle_w=1.0
        )


def test_recorder_stamps_lines_of_a_tegrastats_stand_in(tmp_path: Path) -> None:
    source = DATA / "tegrastats_nano_jp4_stamped.log"
    program = (
        "import sys, time\n"
        f"for line in open({str(source)!r}):\n"
        "    print(line.split(' ', 1)[1], end='', flush=True)\n"
        "    time.sleep(0.005)\n"
    )
    log = tmp_path / "tegrastats.log"
    with TegrastatsRecorder(log, command=[sys.executable, "-c", program]) as recorder:
        deadline = time.monotonic() + 10.0
        while recorder.lines < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert recorder.lines == 20
    samples = parse_lines(log.read_text().splitlines())
    assert all(s.t_s is not None for s in samples)
    assert [s.t_s for s in samples] == sorted(s.t_s for s in samples)


def _meter_csv_for(raw: dict[str, Any], path: Path, idle_w: float, busy_w: float) -> None:
    """A meter log at 200 Hz: idle power during the idle phase, busy power afterwards."""
    phases = raw["phases"]
    idle_end = phases[0]["t_end"]
    t, end = phases[0]["t_start"] - 0.05, phases[-1]["t_end"] + 0.05
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["time_s", "power_w"])
        while t <= end:
            writer.writerow([f"{t:.4f}", idle_w if t <= idle_end + 0.002 else busy_w])
            t += 0.005


def test_align_command_writes_measured_power_into_the_profiles(
    profiled: dict[str, Any], tmp_path: Path
) -> None:
    import shutil

    from calibration.power_profile import main

    out = tmp_path / "out"
    shutil.copytree(profiled["out"], out)
    raw_path = out / "raw" / "test_cpu__densenet169__bottlefit_c3.json"
    raw = json.loads(raw_path.read_text())
    meter = tmp_path / "meter.csv"
    _meter_csv_for(raw, meter, idle_w=2.5, busy_w=6.0)
    assert main(["align", "--raw", str(raw_path), "--meter-csv", str(meter)]) == 0
    device = load_profile_file("device", out / "devices" / "test_cpu.yaml")
    assert device.power.idle_w.provenance == "measured"
    assert device.power.idle_w.value == pytest.approx(2.5, abs=0.05)
    assert device.power.compute_w.value == pytest.approx(6.0, abs=1e-6)
    assert device.models["densenet169"].compute_w.value == pytest.approx(6.0, abs=1e-6)
    server = load_profile_file("server", out / "servers" / "test_cpu.yaml")
    assert server.parts["densenet169/full"].power_w[1] == pytest.approx(6.0, abs=1e-6)
    saved = json.loads(raw_path.read_text())["power"]
    full = next(p for p in saved["phases"] if p["name"] == "full")
    assert full["energy_per_image_j"] == pytest.approx(6.0 * full["duration_s"] / full["calls"])


def test_run_command_records_a_tegrastats_stand_in_while_profiling(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    from calibration.power_profile import main

    source = DATA / "tegrastats_nano_jp4_stamped.log"
    script = (
        tmp_path / "fake_tegrastats.py"
    )  # prints the fixture's lines (without stamps) every 10 ms
    script.write_text(
        "import itertools, time\n"
        f"lines = [l.split(' ', 1)[1] for l in open({str(source)!r})]\n"
        "for line in itertools.cycle(lines):\n"
        "    print(line, end='', flush=True)\n"
        "    time.sleep(0.01)\n"
    )
    out = tmp_path / "run"
    argv = [
        "run",
        "--idle-s",
        "0.2",
        "--min-phase-s",
        "0.1",
        "--tegrastats-command",
        f"{sys.executable} {script}",
        "--",
        "--model",
        "mobilenet_v2",
        "--device",
        "cpu",
        "--name",
        "nano_test",
        "--no-blocks",
        "--batch-sizes",
        "1",
        "--warmup",
        "0",
        "--repeats",
        "1",
        "--sweep-repeats",
        "1",
        "--no-progress",
        "--out",
        str(out),
    ]
    assert main(argv) == 0
    device = load_profile_file("device", out / "devices" / "nano_test.yaml")
    assert device.power.idle_w.provenance == "measured"
    assert 1.8 <= device.power.idle_w.value <= 6.5
    assert 1.8 <= device.models["mobilenet_v2"].compute_w.value <= 6.5
    assert (out / "raw" / "nano_test__mobilenet_v2__blocks.tegrastats.log").exists()


def test_align_labels_an_idle_power_typed_by_hand_as_given(
    profiled: dict[str, Any], tmp_path: Path
) -> None:
    import shutil

    from calibration.power_profile import main

    out = tmp_path / "out"
    shutil.copytree(profiled["out"], out)
    raw_path = out / "raw" / "test_cpu__densenet169__bottlefit_c3.json"
    meter = tmp_path / "meter.csv"
    _meter_csv_for(json.loads(raw_path.read_text()), meter, idle_w=2.5, busy_w=6.0)
    assert (
        main(["align", "--raw", str(raw_path), "--meter-csv", str(meter), "--idle-w", "2.7"]) == 0
    )
    device = load_profile_file("device", out / "devices" / "test_cpu.yaml")
    assert device.power.idle_w.provenance == "given" and device.power.idle_w.value == pytest.approx(
        2.7
    )
    assert device.power.compute_w.provenance == "measured"
