"""A sweep through a real Dask scheduler and two workers on loopback equals the local executor.

The cluster is what a user starts by hand: ``dask scheduler`` and two
``dask worker`` processes, each in its own process group, all stopped at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main
from tests.sweep.conftest import RATE_KEY, SCENARIO, SMALL, small_scenario, subprocess_env

distributed = pytest.importorskip("distributed")

DASK = shutil.which("dask") or str(Path(sys.executable).parent / "dask")
GRID = {RATE_KEY: [2e6, 20e6]}
REPLICATIONS = 2


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as handle:
        return subprocess.Popen(
            args,
            stdout=handle,
            stderr=subprocess.STDOUT,
            env=subprocess_env(),
            start_new_session=True,  # its own process group: stopped as a whole
        )


def _stop(process: subprocess.Popen) -> None:
    for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory) -> Iterator[str]:
    """Address of a scheduler on 127.0.0.1 with two single-threaded workers."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    processes = [
        _start(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)],
            folder / "scheduler.log",
        )
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file() and time.monotonic() < deadline:
            if processes[0].poll() is not None:
                pytest.fail((folder / "scheduler.log").read_text())
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        for i in range(2):
            processes.append(
                _start(
                    [DASK, "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                     "--no-nanny", "--no-dashboard", "--memory-limit", "0",
                     "--local-directory", str(folder / f"w{i}")],
                    folder / f"worker{i}.log",
                )
            )  # fmt: skip
        with distributed.Client(address, timeout=30) as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for process in reversed(processes):
            _stop(process)


def test_dask_cluster_gives_the_local_executors_results(dask_cluster, tmp_path):
    on_dask = sim.sweep(
        small_scenario(),
        grid=GRID,
        replications=REPLICATIONS,
        scheduler=dask_cluster,
        out=tmp_path / "dask",
        progress=False,
    )
    local = sim.sweep(
        small_scenario(),
        grid=GRID,
        replications=REPLICATIONS,
        workers=0,
        out=tmp_path / "local",
        progress=False,
    )
    assert on_dask.executed == local.executed == 4 and "Dask cluster" in on_dask.executor
    assert list(on_dask.runs["run_id"]) == list(local.runs["run_id"])
    pd.testing.assert_frame_equal(on_dask.summary, local.summary)
    pd.testing.assert_frame_equal(on_dask.table("requests"), local.table("requests"))
    pd.testing.assert_frame_equal(on_dask.aggregate(), local.aggregate())
    # The runs really ran on the two workers, not here.
    pids = set(on_dask.table("run_info")["pid"])
    assert os.getpid() not in pids and 1 <= len(pids) <= 2


def test_cli_on_the_dask_cluster_resumes_a_local_sweep(dask_cluster, tmp_path, capsys):
    out = tmp_path / "out"
    base = [
        "sweep", str(SCENARIO), *(f"--set={s}" for s in SMALL), "--replications=2",
        "--quiet", "--no-plots", f"--out={out}",
    ]  # fmt: skip
    # One point locally, then the whole sweep on the cluster: only the new point runs there.
    assert main([*base, f"--grid={RATE_KEY}=2e6", "--workers=0"]) == 0
    assert main([*base, f"--grid={RATE_KEY}=2e6,20e6", f"--scheduler={dask_cluster}"]) == 0
    printed = capsys.readouterr().out
    assert "(2 stored, 2 to run on the Dask cluster at tcp://127.0.0.1:" in printed
    assert "± " in printed
    result = sim.sweep.load_sweep(out)
    assert result.complete and len(result.summary) == 4 * 3
    assert len(set(result.table("run_info")["pid"])) >= 2  # this process and a worker


def test_local_cluster_when_asked(tmp_path):
    first = sim.sweep(
        small_scenario(), seeds=[5], local_cluster=True, workers=1, out=tmp_path / "a",
        progress=False,
    )  # fmt: skip
    assert "LocalCluster of 1 worker" in first.executor and first.complete
    local = sim.sweep(small_scenario(), seeds=[5], workers=0, out=tmp_path / "b", progress=False)
    pd.testing.assert_frame_equal(first.summary, local.summary)


def test_unreachable_scheduler_is_one_line_of_bad_input():
    from sim.sweep.executors import DaskExecutor

    with pytest.raises(sim.SimInputError, match="cannot reach a Dask scheduler"):
        DaskExecutor("tcp://127.0.0.1:9", connect_timeout_s=1)
