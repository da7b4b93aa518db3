"""Never destroy a user's files (issue 13, "Data loss").

``--out`` replaces only a folder the tool wrote as a run's output; anything else
is refused with exit 2 and one line, before the run, and nothing is moved.
Scenario names are safe file names. A sweep folder holds one sweep, and a
resume recomputes any run whose files do not verify.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.cli import main
from sim.errors import SimInputError
from sim.output_target import MARKER
from sim.sweep.store import PART, SweepStore
from tests.conftest import REPO, toy_spec

SCENARIO = REPO / "scenarios" / "congested_lte.yaml"
FAST = [
    "--no-plots",
    "--quiet",
    "--set",
    "duration_s=2",
    "--set",
    "warmup_s=1",
    "--set",
    "devices.pi.count=2",
]


def run_cli(args, capsys):
    code = main(["run", str(SCENARIO), *args])
    captured = capsys.readouterr()
    return code, captured.err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() and not p.is_symlink() else b"")
        for p in folder.rglob("*")
    }


def assert_refused(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, (needle, err)


def test_a_users_folder_is_never_replaced(tmp_path, capsys):
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("years of work")
    before = snapshot(tmp_path)
    code, err = run_cli(["--out", str(thesis), *FAST], capsys)
    assert_refused(code, err, "not written by splitsim", "nothing was changed")
    assert snapshot(tmp_path) == before


def test_the_scenarios_folder_is_refused(tmp_path, capsys, monkeypatch):
    scenarios = tmp_path / "scenarios"
    scenarios.mkdir()
    (scenarios / "mine.yaml").write_text(SCENARIO.read_text())
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(["--out", "scenarios", *FAST], capsys)
    assert_refused(code, err, "scenarios")
    assert (scenarios / "mine.yaml").read_text() == SCENARIO.read_text()


@pytest.mark.parametrize(
    "target", ["file", ".", "/", "~", "..", "symlink", "dangling", "unwritable"]
)
def test_bad_out_targets_are_refused_and_nothing_moves(target, tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("keep")
    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    if target == "file":
        out = "keep.txt"
    elif target == "~":
        out = str(tmp_path / "home")
    elif target == "symlink":
        (work / "real").mkdir()
        os.symlink(work / "real", work / "link")
        out = "link"
    elif target == "dangling":
        os.symlink(work / "nowhere", work / "link")
        out = "link"
    elif target == "unwritable":
        if os.geteuid() == 0:
            out = "/proc/splitsim/out"  # root may write anywhere else
        else:
            locked = work / "locked"
            locked.mkdir()
            locked.chmod(stat.S_IRUSR | stat.S_IXUSR)
            out = str(locked / "out")
    else:
        out = target
    before = snapshot(tmp_path)
    code, err = run_cli(["--out", out, *FAST], capsys)
    assert_refused(code, err)
    assert snapshot(tmp_path) == before
    assert not [p for p in tmp_path.rglob(".*") if ".old-" in p.name or ".tmp-" in p.name]


def test_an_earlier_output_is_replaced_and_keeps_the_umask(tmp_path, capsys):
    out = tmp_path / "out"
    old = os.umask(0o022)
    try:
        code, err = run_cli(["--out", str(out), *FAST], capsys)
        assert code == 0, err
        assert stat.S_IMODE(out.stat().st_mode) == 0o755
        marker = json.loads((out / MARKER).read_text())
        assert marker["scenario"] == "congested_lte" and MARKER in marker["files"]
        assert "results_revision" in marker and len(marker["run_id"]) == 16
        first = (out / "summary.json").read_text()
        code, err = run_cli(["--out", str(out), *FAST, "--seed", "9"], capsys)
        assert code == 0, err
        assert (out / "summary.json").read_text() != first
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    finally:
        os.umask(old)


def test_an_output_folder_with_the_users_files_added_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli(["--out", str(out), *FAST], capsys)[0] == 0
    (out / "my_notes.txt").write_text("mine")
    code, err = run_cli(["--out", str(out), *FAST], capsys)
    assert_refused(code, err, "did not write", "my_notes.txt")
    assert (out / "my_notes.txt").read_text() == "mine"


def test_an_empty_folder_is_used(tmp_path, capsys):
    out = tmp_path / "empty"
    out.mkdir()
    code, err = run_cli(["--out", str(out), *FAST], capsys)
    assert code == 0, err
    assert (out / "summary.json").is_file()


def test_results_write_from_python_is_guarded_too(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "data.csv").write_text("1,2")
    results = sim.run(sim.loads(json.dumps(toy_spec())))
    with pytest.raises(SimInputError, match="not written by splitsim"):
        results.write(mine)
    assert (mine / "data.csv").read_text() == "1,2"


@pytest.mark.parametrize("name", [".", "..", "a" * 300, "-rf", "a/b", ""])
def test_scenario_names_are_safe_file_names(name, capsys):
    code = main(["validate", str(SCENARIO), "--set", f"name={json.dumps(name)}"])
    err = capsys.readouterr().err
    assert code == 2 and "key 'name'" in err and err.count("\n") == 1, err


# ---------------------------------------------------------------- sweeps


def small(**changes):
    spec = toy_spec(**changes)
    return sim.loads(json.dumps(spec))


def test_a_different_sweep_into_a_stored_sweep_folder_is_refused(tmp_path):
    out = tmp_path / "sweep"
    grid = {"cells.0.uplink.rate_bps": [1e6, 2e6]}
    sim.sweep(small(), grid=grid, out=out, workers=0, progress=False)
    before = snapshot(out)
    with pytest.raises(SimInputError, match="holds another sweep"):
        sim.sweep(small(duration_s=5.0), grid=grid, out=out, workers=0, progress=False)
    with pytest.raises(SimInputError, match="holds another sweep"):
        sim.sweep(
            small(), grid={"cells.0.uplink.rate_bps": [3e6]}, out=out, workers=0, progress=False
        )
    assert snapshot(out) == before
    summary = pd.read_parquet(out / "summary")
    assert summary["run_id"].nunique() == 2


def test_extending_a_sweep_in_place_is_allowed(tmp_path):
    out = tmp_path / "sweep"
    sim.sweep(small(), grid={"cells.0.uplink.rate_bps": [1e6]}, out=out, workers=0, progress=False)
    result = sim.sweep(
        small(), grid={"cells.0.uplink.rate_bps": [1e6, 2e6]}, out=out, workers=0, progress=False
    )
    assert result.executed == 1 and result.skipped == 1


@pytest.mark.parametrize("damage", ["empty", "truncated", "flipped", "no_manifest"])
def test_resume_recomputes_a_run_whose_files_do_not_verify(damage, tmp_path):
    out = tmp_path / "sweep"
    grid = {"cells.0.uplink.rate_bps": [1e6, 2e6]}
    first = sim.sweep(small(), grid=grid, out=out, workers=0, progress=False)
    victim = first.runs["run_id"].iloc[0]
    good = pd.read_parquet(out / "summary" / f"run_id={victim}" / PART)
    part = out / "requests" / f"run_id={victim}" / PART
    data = part.read_bytes()
    if damage == "empty":
        part.write_bytes(b"")
    elif damage == "truncated":
        part.write_bytes(data[: len(data) // 2])
    elif damage == "flipped":
        middle = len(data) // 2
        part.write_bytes(data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :])
    else:
        (out / "_runs" / f"{victim}.json").unlink()
    assert victim not in SweepStore(out).completed()
    again = sim.sweep(small(), grid=grid, out=out, workers=0, progress=False)
    assert again.executed == 1 and again.skipped == 1
    assert part.read_bytes() == data
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "summary" / f"run_id={victim}" / PART), good
    )
    third = sim.sweep(small(), grid=grid, out=out, workers=0, progress=False)
    assert third.executed == 0


def test_sweep_out_at_a_users_folder_or_file_is_refused(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "x.txt").write_text("x")
    with pytest.raises(SimInputError, match="other files"):
        sim.sweep(small(), out=mine, workers=0, progress=False)
    with pytest.raises(SimInputError, match="not a folder"):
        sim.sweep(small(), out=mine / "x.txt", workers=0, progress=False)
    assert sorted(p.name for p in mine.iterdir()) == ["x.txt"]


def test_an_output_with_plots_or_from_before_the_marker_is_replaced(tmp_path):
    results = sim.run(sim.loads(json.dumps(toy_spec())))
    out = results.write(tmp_path / "out", plots=True)
    assert any((out / "plots").iterdir())
    results.write(out, plots=True)  # plots/ is listed in the marker: replaced
    (out / MARKER).unlink()  # an output folder written before the marker existed
    results.write(out, plots=False)
    assert (out / MARKER).is_file() and not (out / "plots").exists()


def test_run_out_at_a_stored_sweep_is_refused(tmp_path, capsys):
    out = tmp_path / "sweep"
    sim.sweep(small(), out=out, workers=0, progress=False)
    before = snapshot(out)
    code, err = run_cli(["--out", str(out), *FAST], capsys)
    assert_refused(code, err, "not written by splitsim")
    assert snapshot(out) == before


def test_a_file_browsers_metadata_does_not_block_a_rerun(tmp_path):
    results = sim.run(sim.loads(json.dumps(toy_spec())))
    out = results.write(tmp_path / "out", plots=False)
    (out / ".DS_Store").write_bytes(b"\0")
    results.write(out, plots=False)
    assert not (out / ".DS_Store").exists()
