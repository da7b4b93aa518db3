"""The profile, trace and hinge-fit memos: never stale, and planning with them equals without.

The memos (sim/file_memo.py, used by sim/profiles/registry.py ``load_profile_file`` and
sim/channel/trace_memo.py ``read_trace_memo``; sim/profiles/service.py ``fit_hinge``)
make planning a sweep point ~40x cheaper; these tests check they change nothing but the
time: an edited profile or trace file is seen at once (even with its old size and
modification time), a memoised fit is the plain fit, and a sweep planned with warm memos
has the same run ids, resolved scenarios and pickled tasks as one planned with none.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest

import sim.channel.config
import sim.exits.table as exit_table
import sim.plans
import sim.policies.channel_means
import sim.policies.context as context
import sim.profiles.registry as registry
import sim.profiles.service as service
from sim.channel.trace_memo import TRACES, read_trace_memo
from sim.channel.traces import read_trace
from sim.exits.table import EXIT_TABLES, load_table, shipped_tables
from sim.file_memo import ContentMemo
from sim.policies.context import clear_settings_memo, memo_on_settings
from sim.profiles.registry import clear_profile_cache, load_profile_file_uncached
from sim.profiles.service import fit_hinge, fit_hinge_uncached
from sim.scenario.load import build_scenario, load
from sim.sweep.identity import resolved_content
from sim.sweep.plan import plan_sweep, point_scenario
from sim.sweep.runner import merge_spec
from tests.conftest import PROFILES, REPO, toy_spec

CONGESTED = REPO / "scenarios" / "congested_lte.yaml"
GRID = {"servers.0.background.0.rate_hz": [100.0, 200.0, 300.0]}


def _toy_with_server_file(tmp_path: Path) -> tuple[dict, Path]:
    server = tmp_path / "server.yaml"
    shutil.copy(PROFILES / "toy_server.yaml", server)
    spec = toy_spec()
    spec["servers"][0]["profile"] = str(server)
    return spec, server


def _edit_keeping_size_and_mtime(path: Path, old: str, new: str) -> None:
    assert len(old) == len(new)
    stat = path.stat()
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size and path.stat().st_mtime_ns == stat.st_mtime_ns


def test_an_edited_profile_is_seen_even_with_the_same_size_and_mtime(tmp_path):
    spec, server = _toy_with_server_file(tmp_path)
    before = build_scenario(spec, tmp_path / "toy.yaml")
    assert before.servers["srv"].idle_w.value == 50.0
    again = build_scenario(spec, tmp_path / "toy.yaml")
    assert again.servers["srv"] is before.servers["srv"]  # the memo answered
    _edit_keeping_size_and_mtime(server, "value: 50.0", "value: 75.0")
    after = build_scenario(spec, tmp_path / "toy.yaml")
    assert after.servers["srv"].idle_w.value == 75.0
    assert after.servers["srv"] == load_profile_file_uncached("server", server)


def test_an_edited_measured_curve_is_refitted(tmp_path):
    spec, server = _toy_with_server_file(tmp_path)
    fast = build_scenario(spec, tmp_path / "toy.yaml")
    _edit_keeping_size_and_mtime(server, "{1: 0.008, 8: 0.008}", "{1: 0.008, 8: 0.080}")
    slow = build_scenario(spec, tmp_path / "toy.yaml")
    key = ("srv", "toy/bottlefit_c2")
    assert fast.service_models[key].service_s(8) == pytest.approx(0.008, rel=0.02)
    assert slow.service_models[key].service_s(8) == fit_hinge_uncached([1, 8], [0.008, 0.080])(8)
    assert slow.service_models[key].service_s(8) > 0.05


def test_a_profile_that_fails_is_not_memoised(tmp_path):
    spec, server = _toy_with_server_file(tmp_path)
    good = server.read_text()
    server.write_text(good.replace("idle_w:", "idle_watts:"))
    with pytest.raises(sim.SimInputError, match="idle_watts"):
        build_scenario(spec, tmp_path / "toy.yaml")
    server.write_text(good)
    assert build_scenario(spec, tmp_path / "toy.yaml").servers["srv"].idle_w.value == 50.0


def test_the_profile_memo_is_bounded_and_clearable(tmp_path, monkeypatch):
    monkeypatch.setattr(registry.PROFILES, "max_entries", 3)
    clear_profile_cache()
    for value in range(6):
        path = tmp_path / f"server{value}.yaml"
        path.write_text((PROFILES / "toy_server.yaml").read_text().replace("50.0", f"5{value}.0"))
        assert registry.load_profile_file("server", path).idle_w.value == float(f"5{value}.0")
    assert len(registry.PROFILES) == 3
    clear_profile_cache()
    assert not registry.PROFILES and service._fit_hinge_memo.cache_info().currsize == 0


@pytest.mark.parametrize(
    ("batches", "seconds"),
    [
        ([1], [0.004]),
        ([1, 8], [0.010, 0.010]),
        ([1, 2, 4, 8, 16, 32], [0.0061, 0.0062, 0.0060, 0.0071, 0.0118, 0.0231]),
        ([32, 1, 4], [0.02, 0.003, 0.004]),  # unsorted input
        (np.array([1, 4, 16]), np.array([0.002, 0.0021, 0.006])),
    ],
)
def test_a_memoised_fit_is_the_plain_fit(batches, seconds):
    service.clear_fit_cache()
    plain = fit_hinge_uncached(batches, seconds)
    assert fit_hinge(batches, seconds) == plain  # filled by this call
    assert fit_hinge(list(batches), list(seconds)) == plain  # answered by the memo
    assert service._fit_hinge_memo.cache_info().hits >= 1


def test_odd_shapes_take_the_plain_path():
    with pytest.raises(IndexError):  # as the plain fit raises
        fit_hinge([1, 2, 4], [0.1, 0.2])
    with pytest.raises(IndexError):
        fit_hinge_uncached([1, 2, 4], [0.1, 0.2])


TRACE_DRIVEN = REPO / "scenarios" / "lte_trace_replay.yaml"


ADAPTIVE_NR = REPO / "scenarios" / "policy_nr_jetson.yaml"
"""Adaptive policies on a physical 5G channel: their cost model draws the mean uplink."""
EARLY_EXITS = REPO / "scenarios" / "early_exit_rpi.yaml"
"""SPINN-style candidates: a few hundred exit curves per point, from a proxy exit table."""


def _plan(path: Path = CONGESTED, grid: dict | None = None):
    scenario = load(path, ["duration_s=5", "warmup_s=1"])
    spec = merge_spec(None, grid=grid or GRID, replications=2)
    return scenario, plan_sweep(scenario, spec)


def _planned(plan, scenario) -> tuple:
    """What planning decides: the runs, their tasks, and each point's resolved content.

    A task's pickled scenario is compared by what it unpickles to: a memoised trace's
    arrays are read-only, which pickle protocol 5 writes as bytes instead of a bytearray
    (same values; a worker's unpickled arrays are read-only either way)."""
    contents = [resolved_content(point_scenario(scenario, p)) for p in plan.points]
    tasks = [
        (
            t.run_id,
            t.scenario_key,
            t.raw,
            t.seed,
            t.strategies,
            t.records,
            resolved_content(pickle.loads(t.scenario_blob)),
        )
        for t in plan.tasks.values()
    ]
    return plan.runs, tasks, contents, plan.manifest()["runs"]


@pytest.mark.parametrize(
    ("path", "grid"),
    [
        (CONGESTED, GRID),
        (TRACE_DRIVEN, {"duration_s": [5.0, 6.0, 7.0]}),
        (ADAPTIVE_NR, {"cells.gnb.uplink.link.tx_power_dbm": [17.0, 20.0, 23.0]}),
        (EARLY_EXITS, {"duration_s": [5.0, 6.0, 7.0]}),
    ],
    ids=["congested_lte", "lte_trace_replay", "policy_nr_jetson", "early_exit_rpi"],
)
def test_a_sweep_planned_with_memos_equals_one_planned_without(monkeypatch, path, grid):
    if path == TRACE_DRIVEN and not (REPO.parent / "shared" / "traces").is_dir():
        pytest.skip("public traces not available at ../shared/traces beside the checkout")
    _plan(path, grid)
    _plan(path, grid)  # every memo warm
    scenario_warm, plan_warm = _plan(path, grid)
    with_memos = _planned(plan_warm, scenario_warm)

    clear_profile_cache()
    TRACES.clear()
    clear_settings_memo()
    EXIT_TABLES.clear()
    exit_table._curve_at.cache_clear()
    monkeypatch.setattr(
        sim.policies.channel_means, "memo_on_settings", lambda _w, _s, compute: compute()
    )
    monkeypatch.setattr(exit_table, "_load", exit_table._read_table)
    monkeypatch.setattr(exit_table, "_curve_at", exit_table._curve_at.__wrapped__)
    monkeypatch.setattr(registry, "load_profile_file", load_profile_file_uncached)
    monkeypatch.setattr(sim.plans, "fit_hinge", fit_hinge_uncached)
    monkeypatch.setattr(sim.channel.config, "read_trace_memo", read_trace)
    scenario_plain, plan_plain = _plan(path, grid)
    without = _planned(plan_plain, scenario_plain)
    assert len(registry.PROFILES) == len(TRACES) == len(context._BY_SETTINGS) == 0
    assert len(EXIT_TABLES) == 0
    assert service._fit_hinge_memo.cache_info().currsize == 0
    monkeypatch.undo()

    assert len(plan_plain.runs) == 6
    assert with_memos[0] == without[0]  # run ids, points, replications, seeds
    assert with_memos[1] == without[1]  # tasks and their pickled scenarios
    assert with_memos[2] == without[2]  # resolved profiles, traces, fits, service models
    assert with_memos[3] == without[3]


def test_planning_parses_each_profile_once(monkeypatch):
    clear_profile_cache()
    parsed: list[tuple[str, Path]] = []

    def counting(kind, path):
        parsed.append((kind, Path(path)))
        return load_profile_file_uncached(kind, path)

    monkeypatch.setattr(registry, "load_profile_file_uncached", counting)
    _plan()
    assert len(parsed) == len(set(parsed)) == 3  # model, device, server: once each


def test_an_edited_trace_is_seen_and_shared_arrays_are_read_only(tmp_path):
    trace_file = tmp_path / "up.txt"
    trace_file.write_text("1.0 5.0\n2.0 6.0\n3.0 7.0\n")
    spec = toy_spec()
    spec["cells"][0]["uplink"] = {"kind": "trace", "path": str(trace_file), "format": "time_mbps"}
    first = build_scenario(spec, tmp_path / "toy.yaml").traces["ap"]
    again = build_scenario(spec, tmp_path / "toy.yaml").traces["ap"]
    assert again is first  # the memo answered
    with pytest.raises(ValueError, match="read-only"):
        first.rates_bps[0] = 1.0
    _edit_keeping_size_and_mtime(trace_file, "2.0 6.0", "2.0 9.0")
    edited = build_scenario(spec, tmp_path / "toy.yaml").traces["ap"]
    assert edited.rates_bps.tolist() == [5.0e6, 9.0e6, 7.0e6]
    plain = read_trace(trace_file, "time_mbps")
    assert np.array_equal(edited.rates_bps, plain.rates_bps)
    assert np.array_equal(edited.durations_s, plain.durations_s)


def test_trace_options_are_part_of_the_key(shared_traces):
    path = shared_traces / "mahimahi_cellular" / "ATT-LTE-driving-2016.up"
    TRACES.clear()
    coarse = read_trace_memo(path, "mahimahi", bin_s=1.0)
    fine = read_trace_memo(path, "mahimahi", bin_s=0.1)
    assert len(TRACES) == 2 and len(fine.rates_bps) > len(coarse.rates_bps)
    for trace, bin_s in ((coarse, 1.0), (fine, 0.1)):
        plain = read_trace(path, "mahimahi", bin_s=bin_s)
        assert np.array_equal(trace.rates_bps, plain.rates_bps)
        assert np.array_equal(trace.durations_s, plain.durations_s)
    assert read_trace_memo(path, "mahimahi", bin_s=1.0) is coarse


def test_content_memo_skips_unreadable_files_and_failed_computations(tmp_path):
    memo: ContentMemo[str] = ContentMemo(max_entries=2, max_bytes=10)
    assert memo.get(tmp_path / "missing", "x", lambda: "computed") == "computed"
    big = tmp_path / "big"
    big.write_text("x" * 11)
    assert memo.get(big, "x", lambda: "big") == "big" and len(memo) == 0
    small = tmp_path / "small"
    small.write_text("ab")
    with pytest.raises(RuntimeError):
        memo.get(small, "x", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
    assert len(memo) == 0
    assert memo.get(small, ["unhashable"], lambda: "plain") == "plain" and len(memo) == 0
    assert memo.get(small, "x", lambda: "ab") == "ab" and len(memo) == 1
    assert memo.get(small, "x", lambda: "not called") == "ab"


def test_settings_memo_keys_on_every_value():
    from sim.channel.config import ConstantUplink

    clear_settings_memo()
    calls: list[float] = []

    def figure(rate: float):
        def compute() -> float:
            calls.append(rate)
            return 2.0 * rate

        return compute

    slow, fast = (ConstantUplink(kind="constant", rate_bps=r) for r in (1e6, 2e6))
    assert memo_on_settings("x", slow, figure(1e6)) == 2e6
    assert memo_on_settings("x", slow, figure(1e6)) == 2e6  # answered
    assert memo_on_settings("x", fast, figure(2e6)) == 4e6  # another value, another figure
    assert memo_on_settings("y", slow, figure(1e6)) == 2e6  # another figure of the same
    assert calls == [1e6, 2e6, 1e6]
    clear_settings_memo()


def test_an_edited_exit_table_is_seen(tmp_path):
    """It was cached on its path alone: an edit went unseen for the life of the process."""
    table_file = tmp_path / "table.yaml"
    shutil.copy(exit_table.DATA_DIR / "portend_efficientnet_b0.yaml", table_file)
    before = load_table(str(table_file))
    assert load_table(str(table_file)) is before
    assert before.spec.final_accuracy == 0.740
    _edit_keeping_size_and_mtime(table_file, "final_accuracy: 0.740", "final_accuracy: 0.750")
    assert load_table(str(table_file)).spec.final_accuracy == 0.750


@pytest.mark.parametrize("name", shipped_tables())
def test_a_memoised_exit_curve_is_the_plain_curve(name):
    table = load_table(name)
    exits = tuple(
        (e.flops_fraction, tuple((c, tuple(v)) for c, v in e.points.items()))
        for e in table.spec.exits
    )
    for fraction in (0.0, 0.05, 0.3, 0.5, 0.77, 1.0):
        memoised, again = table.curve_at(fraction), table.curve_at(fraction)
        plain = exit_table._curve_at.__wrapped__(exits, fraction)
        assert again is memoised
        for field in ("thresholds", "shares", "accuracies"):
            assert np.array_equal(getattr(memoised, field), getattr(plain, field))
            assert not getattr(memoised, field).flags.writeable
