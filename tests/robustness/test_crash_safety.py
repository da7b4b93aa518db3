"""Crash-safe outputs and determinism across processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO

SCENARIO = REPO / "scenarios" / "congested_lte.yaml"


def _run_cli(args, **kwargs):
    env = {**os.environ, "PYTHONHASHSEED": str(kwargs.pop("hashseed", 0))}
    return subprocess.run(
        [sys.executable, "-m", "sim", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        **kwargs,
    )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process [s] (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_records_are_byte_identical_across_processes(tmp_path):
    args = [
        "run",
        str(SCENARIO),
        "--no-plots",
        "--set",
        "duration_s=6",
        "--set",
        "warmup_s=1",
        "--set",
        "devices.pi.count=5",
    ]
    a = _run_cli([*args, "--out", str(tmp_path / "a")], hashseed=1)
    b = _run_cli([*args, "--out", str(tmp_path / "b")], hashseed=12345)
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    for name in ("requests.parquet", "devices.parquet", "batches.parquet", "background.parquet"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.slow
def test_ctrl_c_leaves_no_folder_or_a_complete_interrupted_one(tmp_path):
    out = tmp_path / "run"
    env = {**os.environ}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            str(SCENARIO),
            "--out",
            str(out),
            "--no-plots",
            "--set",
            "duration_s=3000",
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # Wait until the child has used 3 s of CPU (imports and loading take ~1.5 s), so the
    # signal lands inside the simulation even on a loaded machine.
    deadline = time.monotonic() + 120
    while _cpu_seconds(proc.pid) < 3.0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert not leftovers
    if out.exists():
        meta = json.loads((out / "summary.json").read_text())
        assert meta["status"] == "interrupted"
        assert 0 < meta["simulated_time_s"] < 3000
        for name in meta["files"]:
            assert (out / name).is_file()
