"""``python -m sim sweep``: the table, the files, the plots, and one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from sim.cli import main
from tests.sweep.conftest import RATE_KEY, SCENARIO, subprocess_env


def sweep_args(out, *extra: str) -> list[str]:
    return [
        "sweep", str(SCENARIO), f"--grid={RATE_KEY}=2e6,20e6", "--replications=2",
        "--quiet", f"--out={out}", *extra,
    ]  # fmt: skip


def test_sweep_prints_the_table_and_writes_aggregate_and_plots(tmp_path, capsys):
    out = tmp_path / "out"
    metrics = "--metrics=latency_mean_s,energy_whole_board_per_inference_j"
    assert main(sweep_args(out, metrics, "--workers=0")) == 0
    printed = capsys.readouterr().out
    assert "2 points x 2 replications = 4 runs (0 stored, 4 to run on this process)" in printed
    assert "ran 4 runs" in printed
    rows = [line for line in printed.splitlines() if "±" in line]
    assert len(rows) == 2 * 3 and all("offload" in r or "local" in r or "bottle" in r for r in rows)
    aggregate = pd.read_csv(out / "aggregate.csv")
    assert set(aggregate["n"]) == {2} and RATE_KEY in aggregate.columns
    for metric in ("latency_mean_s", "energy_whole_board_per_inference_j"):
        assert (out / "plots" / f"{metric}_vs_{RATE_KEY}.png").stat().st_size > 5000
    # Again: nothing to run, the same table.
    assert main(sweep_args(out, metrics)) == 0
    again = capsys.readouterr().out
    assert "(4 stored, 0 to run)" in again
    assert [line for line in again.splitlines() if "±" in line] == rows


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([f"--grid={RATE_KEY}=-1"], "value out of range"),
        (["--grid=cells.enb.uplnk.rate_bps=1e6"], "did you mean 'uplink'"),
        (["--x=devices.pi.count"], "not a swept key"),
        (["--strategies=local,teleport"], "unknown strategy"),
        (["--random=devices.pi.count=integers:1:3"], "--random needs --samples"),
        (["--local-cluster", "--scheduler=tcp://127.0.0.1:9"], "not both"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_before_anything_runs(tmp_path, capsys, extra, message):
    out = tmp_path / "out"
    assert main(sweep_args(out, *extra)) == 2  # no --workers: it would fail before spawning
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not (out / "summary").exists()


def test_a_script_piped_to_python_can_use_worker_processes(tmp_path):
    # Spawned workers re-import the driver's __main__; '<stdin>' cannot be, and must not be.
    script = (
        "import sim\n"
        f"r = sim.sweep({str(SCENARIO)!r}, seeds=[4], workers=1, out={str(tmp_path / 'o')!r},"
        " progress=False)\n"
        "print('done', r.executed, r.table('run_info')['pid'].iloc[0] != __import__('os').getpid())\n"
    )
    finished = subprocess.run(
        [sys.executable, "-"], input=script, env=subprocess_env(), capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.strip() == "done 1 True"
