"""No crashes, hangs or orphans (issue 13): interrupts, empty windows, size guards, the
tracebacks the issue listed, and the Python API's argument checks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.engine import Run
from sim.errors import SimInputError
from sim.sweep import executors
from sim.sweep.store import SweepStore
from tests.conftest import REPO, toy_spec

SCENARIO = REPO / "scenarios" / "congested_lte.yaml"
SMALL = ["--set", "duration_s=2", "--set", "warmup_s=1", "--set", "devices.pi.count=2"]


def stop_at(t_s: float):
    def progress(now_s: float) -> None:
        if now_s >= t_s:
            raise KeyboardInterrupt

    return progress


@pytest.fixture
def interrupt_runs_at(monkeypatch):
    """Every engine run gets Ctrl-C at simulated time ``t`` (as a user pressing it)."""

    def install(t_s: float) -> list[int]:
        calls: list[int] = []
        original = Run.run

        def run(self, progress=None):
            calls.append(1)
            return original(self, stop_at(t_s))

        monkeypatch.setattr(Run, "run", run)
        return calls

    return install


def one_error_line(err: str) -> None:
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err


# ---------------------------------------------------------------- interrupts


def test_ctrl_c_before_the_warmup_ends(tmp_path, capsys, interrupt_runs_at):
    interrupt_runs_at(2.0)
    out = tmp_path / "out"
    code = main(
        [
            "run",
            str(SCENARIO),
            "--out",
            str(out),
            "--no-plots",
            "--quiet",
            "--no-preflight",
            "--set",
            "duration_s=20",
            "--set",
            "warmup_s=5",
        ]
    )
    captured = capsys.readouterr()
    assert code == 130, captured.err
    assert "Traceback" not in captured.err and "interrupted" in captured.err
    assert "no request arrived inside the measurement window" in captured.err
    meta = json.loads((out / "summary.json").read_text())
    assert meta["status"] == "interrupted" and meta["requests_in_window"] == 0
    assert meta["requests_simulated"] == int(
        captured.out.split(": ")[1].split()[0].replace(",", "")
    )
    assert "interrupted at 2.0 s of 20 s" in captured.out


def test_ctrl_c_in_an_inline_sweep_stops_the_sweep(tmp_path, capsys, interrupt_runs_at):
    calls = interrupt_runs_at(0.5)
    out = tmp_path / "sweep"
    code = main(
        [
            "sweep",
            str(SCENARIO),
            *SMALL,
            "--grid",
            "devices.pi.count=1,2,3",
            "--workers",
            "0",
            "--quiet",
            "--no-plots",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 130, err
    assert "interrupted: 0 of 3 runs stored" in err and "Traceback" not in err
    assert len(calls) == 1  # the sweep stopped at the first run, it did not go on
    assert SweepStore(out).completed() == set()


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc to find workers")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_sweep_driver_leaves_no_workers(tmp_path, how):
    driver = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "sweep",
            str(SCENARIO),
            "--set",
            "duration_s=600",
            "--set",
            "warmup_s=1",
            "--grid",
            "devices.pi.count=20,21",
            "--workers",
            "2",
            "--quiet",
            "--no-plots",
            "--out",
            str(tmp_path / "sweep"),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    workers: list[int] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and driver.poll() is None:
        # spawned workers are grandchildren too (resource tracker); any python child counts
        workers = [
            p
            for p in _children(driver.pid)
            if "sim" in Path(f"/proc/{p}/cmdline").read_text(errors="ignore")
            or "multiprocessing" in Path(f"/proc/{p}/cmdline").read_text(errors="ignore")
        ]
        if len(workers) >= 2:
            break
        time.sleep(0.5)
    assert len(workers) >= 2, "the workers never started"
    time.sleep(2.0)  # let them import and start simulating
    driver.send_signal(how)
    driver.communicate(timeout=60)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(_alive(p) for p in workers):
        time.sleep(0.2)
    left = [p for p in workers if _alive(p)]
    for pid in left:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left
    if how == signal.SIGTERM:
        assert driver.returncode == 130


# ---------------------------------------------------------------- nothing to measure


def test_no_request_in_the_window_still_writes_outputs_and_says_so(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(
        [
            "run",
            str(SCENARIO),
            "--out",
            str(out),
            "--quiet",
            "--no-preflight",
            "--set",
            "duration_s=10",
            "--set",
            "warmup_s=9",
            "--set",
            "servers.0.background=[]",
            "--set",
            "devices.0.workload={kind: timestamps, times_s: [1, 2]}",
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "no request arrived inside the measurement window [9 s, 10 s)" in captured.err
    meta = json.loads((out / "summary.json").read_text())
    assert meta["requests_in_window"] == 0 and meta["requests_simulated"] > 0
    assert "plots skipped: nothing to plot" in meta["notes"]
    assert (out / "requests.parquet").is_file()


# ---------------------------------------------------------------- size guards


@pytest.mark.parametrize(
    ("override", "needles"),
    [
        ("servers.0.workers=1000000000", ["servers.0.workers", "at most 100,000"]),
        ("cells.0.uplink.step_s=1e-7", ["cells.0.uplink.step_s", ">= 1e-05"]),
        ("devices.0.count=100000000", ["devices.0.count", "scenario too large", "GiB"]),
        ("duration_s=1e9", ["duration_s", "scenario too large"]),
        ("servers.0.background.0.rate_hz=1e9", ["servers.0.background.0.rate_hz", "too large"]),
    ],
)
def test_size_guards_refuse_before_allocating(override, needles, capsys):
    started = time.perf_counter()
    code = main(["validate", str(SCENARIO), "--set", override])
    err = capsys.readouterr().err
    assert code == 2
    one_error_line(err)
    assert err.startswith("error: --set: "), err  # blamed on the override, not a file line
    for needle in needles:
        assert needle in err, (needle, err)
    assert time.perf_counter() - started < 30


def _trace(tmp_path: Path, rows: str) -> list[str]:
    path = tmp_path / "trace.txt"
    path.write_text(rows)
    return ["--set", f"cells.0.uplink={{kind: trace, path: {path}, format: time_mbps}}"]


def test_a_trace_rate_of_1e305_is_refused(tmp_path, capsys):
    code = main(["validate", str(SCENARIO), *_trace(tmp_path, "0 1e305\n1 1e305\n2 5\n")])
    err = capsys.readouterr().err
    assert code == 2 and "above 1 Tbit/s" in err and "trace.txt" in err
    one_error_line(err)


def test_trace_steps_of_1e7_s_are_refused(tmp_path, capsys):
    rows = "".join(f"{i * 1e-7:.7f} 5.0\n" for i in range(2000))
    code = main(["validate", str(SCENARIO), *_trace(tmp_path, rows)])
    err = capsys.readouterr().err
    assert code == 2 and "shorter than any radio's scheduling interval" in err
    one_error_line(err)


def test_a_million_point_sweep_is_refused_at_once(tmp_path, capsys):
    values = ",".join(str(i) for i in range(1, 1001))
    started = time.perf_counter()
    code = main(
        [
            "sweep",
            str(SCENARIO),
            "--grid",
            f"devices.pi.count={values}",
            "--grid",
            f"devices.pi.deadline_s={values}",
            "--out",
            str(tmp_path / "s"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "1,000,000 points" in err and "max_points" in err and "min" in err
    one_error_line(err)
    assert time.perf_counter() - started < 20
    assert not (tmp_path / "s").exists()


def test_a_30_mb_yaml_list_is_refused_before_parsing(tmp_path, capsys):
    path = tmp_path / "big.yaml"
    with open(path, "w") as handle:
        handle.write(SCENARIO.read_text())
        handle.write("x_list: [" + "0.001, " * 4_300_000 + "0]\n")
    assert path.stat().st_size > 30e6
    started = time.perf_counter()
    code = main(["validate", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and "YAML text too large" in err and "trace file" in err
    one_error_line(err)
    assert time.perf_counter() - started < 5


# ---------------------------------------------------------------- former tracebacks


def test_negative_workers_is_an_input_error(tmp_path, capsys):
    code = main(["sweep", str(SCENARIO), *SMALL, "--workers", "-3", "--out", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and "--workers" in err
    one_error_line(err)
    with pytest.raises(SimInputError, match="workers"):
        sim.sweep(SCENARIO, overrides=SMALL[1::2], workers=-3, out=tmp_path / "t", progress=False)


def test_an_unknown_metric_is_refused_before_any_run(tmp_path, capsys):
    out = tmp_path / "s"
    code = main(["sweep", str(SCENARIO), *SMALL, "--grid", "devices.pi.count=1,2,3",
                 "--workers", "0", "--quiet", "--no-plots", "--metrics", "latency_mean_s,nosuch",
                 "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "--metrics" in err and "nosuch" in err and "latency_p95_s" in err
    one_error_line(err)
    assert not out.exists()


def test_a_metric_missing_from_the_summary_stops_the_sweep_after_one_run(tmp_path):
    from sim.sweep.executors import InlineExecutor
    from sim.sweep.plan import plan_sweep
    from sim.sweep.runner import execute_plan, merge_spec

    scenario = sim.loads(json.dumps(toy_spec()))
    plan = plan_sweep(scenario, merge_spec({"grid": {"cells.0.uplink.rate_bps": [1e6, 2e6]}}))
    store = SweepStore(tmp_path / "s")
    with pytest.raises(SimInputError, match="unknown metric"):
        execute_plan(plan, store, InlineExecutor(), progress=False, metrics=["not_a_column"])
    assert len(store.completed()) == 1  # stored, reused by the next try


def test_sweeping_compare_runs_each_points_strategies(tmp_path, capsys):
    code = main(
        [
            "sweep",
            str(SCENARIO),
            *SMALL,
            "--grid",
            "compare=[local],[offload]",
            "--workers",
            "0",
            "--quiet",
            "--no-plots",
            "--out",
            str(tmp_path / "s"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = sim.sweep.load_sweep(tmp_path / "s")
    assert sorted(result.summary["strategy"]) == ["local", "offload"]


# ---------------------------------------------------------------- Python API


@pytest.mark.parametrize(
    "call",
    [
        lambda s: sim.load(None),
        lambda s: sim.load(SCENARIO, "duration_s=5"),
        lambda s: sim.run(str(SCENARIO)),
        lambda s: sim.run(s, "bottlefit_c2"),
        lambda s: sim.run(s, ["nosuch"]),
        lambda s: sim.run(s, ["bottlefit_c2", "bottlefit_c2"]),
        lambda s: sim.run(s, seed="abc"),
        lambda s: s.with_overrides("duration_s=5"),
        lambda s: s.with_overrides([5]),
        lambda s: sim.loads(5),
        lambda s: sim.sweep(s, spec=5),
        lambda s: sim.sweep(s, grid=[1, 2]),
        lambda s: sim.sweep(s, strategies="local"),
        lambda s: sim.sweep(s, strategies=["bottlefit_c2", "bottlefit_c2"]),
        lambda s: sim.sweep(s, seed=1.5),
        lambda s: sim.sweep(s, out=5),
    ],
)
def test_the_python_api_checks_its_arguments(call, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scenario = sim.loads(json.dumps(toy_spec()))
    with pytest.raises(SimInputError) as exc:
        call(scenario)
    assert "\n" not in str(exc.value)
    assert not any(tmp_path.iterdir())


def test_inline_executor_turns_an_interrupted_run_into_ctrl_c(monkeypatch):
    def interrupted(task):
        raise executors.RunInterrupted("run x was interrupted")

    monkeypatch.setattr(executors, "execute_run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        list(executors.InlineExecutor().run([object()]))  # type: ignore[list-item]
