"""The command line: run, validate, profiles, and bad input (exit 2, one line, dotted key)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sim.cli import main
from tests.conftest import REPO

SCENARIO = REPO / "scenarios" / "congested_lte.yaml"
SHORT = ["--set", "duration_s=4", "--set", "warmup_s=1", "--set", "devices.pi.count=3"]


def test_run_writes_results_and_prints_summary(tmp_path, capsys):
    code = main(
        ["run", str(SCENARIO), "--out", str(tmp_path / "r"), "--seed", "3", "--no-plots", *SHORT]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "bottlefit_c12" in out and "p95 ms" in out
    meta = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert meta["seed"] == 3 and meta["status"] == "complete"
    assert (tmp_path / "r" / "requests.parquet").is_file()
    assert (tmp_path / "r" / "scenario.resolved.yaml").is_file()


def test_run_subset_of_strategies_and_csv(tmp_path, capsys):
    code = main(
        [
            "run",
            str(SCENARIO),
            "--out",
            str(tmp_path / "r"),
            "--strategies",
            "local",
            "--csv",
            "--no-plots",
            *SHORT,
        ]
    )
    assert code == 0
    assert (tmp_path / "r" / "requests.csv").is_file()
    assert "offload" not in capsys.readouterr().out


def test_validate_ok(capsys):
    assert main(["validate", str(SCENARIO)]) == 0
    assert "ok" in capsys.readouterr().out


def test_profiles_lists_and_shows(capsys):
    assert main(["profiles"]) == 0
    listing = capsys.readouterr().out
    assert "raspberry_pi4" in listing and "h100_eager_pytorch" in listing
    assert main(["profiles", "device", "raspberry_pi4"]) == 0
    assert "compute_w" in capsys.readouterr().out
    assert main(["profiles", "device", "raspbery_pi4"]) == 2
    assert "did you mean 'raspberry_pi4'" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--set", "duration_s=-5"], "duration_s"),
        (["--set", "devices.0.workload.fps=0"], "devices.0.workload.fps"),
        (["--set", "devices.pi.cuont=3"], "did you mean 'count'"),
        (["--set", "servers.0.batching.max_batch=two"], "servers.0.batching.max_batch"),
        (["--set", "compare=[local, bottlefit_c99]"], "compare.1.variant"),
        (["--set", "devices.0.device=raspberry_pi5"], "devices.0.device"),
        (["--set", "warmup_s=100"], "warmup_s"),
    ],
)
def test_bad_input_exits_2_with_dotted_key(args, needle, tmp_path, capsys):
    out = tmp_path / "never"
    code = main(["run", str(SCENARIO), "--out", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_missing_file_and_module_entry_point(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 2
    assert "nope.yaml" in proc.stderr and "not found" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_debug_shows_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nduration_s: [1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "--debug", "validate", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "validate", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert proc.returncode == 2 and "malformed YAML" in proc.stderr and "bad.yaml:" in proc.stderr


def test_the_simulators_warnings_print_as_one_line() -> None:
    """A sim warning reads ``warning: ...`` (no file:line or source echo); others keep Python's."""
    from sim.cli import _one_line_warning
    from sim.collect import RadioRangeWarning

    line = _one_line_warning(RadioRangeWarning("capped"), RadioRangeWarning, "/x/collect.py", 185)
    assert line == "warning: capped\n"
    other = _one_line_warning(UserWarning("w"), UserWarning, "/x/y.py", 3)
    assert "/x/y.py:3" in other
