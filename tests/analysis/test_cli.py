"""``python -m sim sensitivity`` and ``python -m sim optimize``: outputs, resume, bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from tests.conftest import REPO, toy_spec

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.fixture
def toy_file(tmp_path: Path) -> Path:
    spec = toy_spec()
    spec["compare"] = ["local", "bottlefit_c2"]
    path = tmp_path / "toy.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_sensitivity_command(toy_file: Path, tmp_path: Path, capsys):
    out = tmp_path / "sens"
    argv = [
        "sensitivity", str(toy_file),
        "--param", "cells.ap.uplink.rate_bps=2e5:2e6:log",
        "--param", "devices.dev.deadline_s=0.05:0.5",
        "--method", "morris", "--samples", "4",
        "--metric", "latency_mean,deadline_miss_rate",
        "--workers", "0", "--out", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "latency_mean_s [bottlefit_c2]" in printed and "mu_star" in printed
    for name in ("indices.csv", "points.csv", "plots/morris_deadline_miss_rate.png"):
        assert (out / name).is_file(), name
    # Again: every run is stored, nothing runs, the same indices come out.
    before = (out / "indices.csv").read_text()
    assert main(argv) == 0
    assert (out / "indices.csv").read_text() == before


def test_optimize_command_writes_a_valid_best_scenario(toy_file: Path, tmp_path: Path, capsys):
    out = tmp_path / "opt"
    argv = [
        "optimize", str(toy_file),
        "--param", "cells.ap.uplink.rate_bps=2e5:2e6:log",
        "--param", "servers.srv.batching.max_batch=1:4:int",
        "--objective", "latency_mean", "--constraint", "deadline_miss_rate<=0.5",
        "--trials", "5", "--replications", "2", "--workers", "0", "--out", str(out),
    ]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "best configuration" in printed
    assert (out / "study.db").is_file() and (out / "trials.csv").is_file()
    assert main(["validate", str(out / "best.yaml")]) == 0
    # The strategy was searched over (the scenario compares two).
    best = yaml.safe_load((out / "best.yaml").read_text())
    assert len(best["compare"]) == 1 and best["name"] == "toy_best"


BAD = [
    (["--param", "cells.ap.uplink.rate_bps=2e6:2e5"], "LOW must be less than HIGH"),
    (["--param", "cells.ap.uplink.rate_bps=0:2e6:log"], "log range needs LOW > 0"),
    (["--param", "cells.ap.uplnk.rate_bps=1:2"], "unknown key"),
    (["--param", "cells.ap.uplink.rate_bps=1:2", "--metric", "latency"], "unknown metric"),
]


@pytest.mark.parametrize(("args", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_input_is_one_line_and_exit_2_before_any_run(toy_file, tmp_path, capsys, args, message):
    out = tmp_path / "never"
    assert main(["sensitivity", str(toy_file), *args, "--workers", "0", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--objective", "latency_mean", "--constraint", "deadline_miss_rate<0.05"],
            "METRIC<=BOUND",
        ),
        (["--objective", "energy"], "unknown metric"),
        (["--storage", "postgresql://nobody@127.0.0.1:1/none"], "cannot open the study storage"),
    ],
)
def test_optimize_bad_input(toy_file, tmp_path, capsys, args, message):
    argv = ["optimize", str(toy_file), "--param", "cells.ap.uplink.rate_bps=1e5:1e6"]
    assert main([*argv, *args, "--workers", "0", "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_study_shared_by_two_processes(toy_file: Path, tmp_path: Path):
    """Two drivers on one SQLite study: together they complete the trials asked, each trial
    once (Optuna's storage hands out trial numbers)."""
    storage = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [
        sys.executable, "-m", "sim", "optimize", str(toy_file),
        "--param", "cells.ap.uplink.rate_bps=2e5:2e6:log", "--strategy", "bottlefit_c2",
        "--objective", "latency_mean", "--trials", "6", "--replications", "1",
        "--workers", "0", "--storage", storage, "--study", "shared", "--no-plots", "--quiet",
    ]  # fmt: skip
    procs = [
        subprocess.Popen([*command, "--out", str(tmp_path / f"d{i}")], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(2)
    ]  # fmt: skip
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    import optuna

    study = optuna.load_study(study_name="shared", storage=storage)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert 6 <= len(complete) <= 7  # each driver stops once 6 are complete (one may be in flight)
    assert len({t.number for t in complete}) == len(complete)
