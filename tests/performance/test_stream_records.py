"""Records streamed to disk (outputs.stream_records) equal the in-memory ones, bit for bit.

Oracles: one stable argsort over every device's arrivals and the exit draws drawn all at
once per device (what the engine did before blocks), and the in-memory path's records,
summary, stages and requests.parquet for the same scenario and seed.
"""

from __future__ import annotations

import gc
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
import sim.record_stream as record_stream
from sim.engine import Run
from sim.record_stream import ArrivalBlocks
from tests.exits.conftest import exit_scenario

REPO = Path(__file__).resolve().parents[2]
CONGESTED = REPO / "scenarios" / "congested_lte.yaml"
# A shared fading cell with HARQ and short transfer timeouts (failed transfers), a device
# queue limit (drops), a small server queue under background load (server drops) and a
# drain too short for the last requests (failed / unfinished).
RICH = [
    "duration_s=8",
    "warmup_s=1",
    "drain_s=0.2",
    "cells.enb.transfer_timeout_s=0.25",
    "servers.gpu0.queue_capacity=4",
]


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of ~64 rows and chunks of 100 rows: many of each in a small run."""
    monkeypatch.setattr(record_stream, "BLOCK_ROWS", 64)
    monkeypatch.setattr(record_stream, "CHUNK_ROWS", 100)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def written_files_equal(plain, streamed, tmp_path, names) -> None:
    """Both results written (no plots): each named Parquet file reads back equal."""
    quiet(plain.write, tmp_path / "plain", plots=False)
    quiet(streamed.write, tmp_path / "streamed", plots=False)
    for name in names:
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "streamed" / f"{name}.parquet"),
            pd.read_parquet(tmp_path / "plain" / f"{name}.parquet"),
            check_exact=True,
        )


def both(scenario_path, overrides, strategies=None):
    plain = quiet(sim.run, sim.load(scenario_path, overrides), strategies)
    streamed = quiet(
        sim.run, sim.load(scenario_path, [*overrides, "outputs.stream_records=true"]), strategies
    )
    return plain, streamed


# ---------------------------------------------------------------- arrival blocks


@pytest.mark.parametrize("block_rows", [1, 16, 64, 1000, 1 << 16])
def test_blocks_are_one_stable_sort_of_all_arrivals(block_rows):
    rng = np.random.default_rng(5)
    arrivals = [np.sort(rng.uniform(0, 50, size=rng.integers(0, 400))) for _ in range(7)]
    arrivals.append(np.arange(0.0, 50.0, 0.25))  # ties with the next device, exactly
    arrivals.append(np.arange(0.0, 50.0, 0.5))
    arrivals.append(np.zeros(0))
    seeds = list(range(len(arrivals)))
    streams = [np.random.default_rng(s) if s % 3 else None for s in seeds]
    blocks = list(ArrivalBlocks(arrivals, streams, block_rows=block_rows))
    # Oracle: the engine's former merge (one stable argsort of the concatenation) and
    # sim.exits.draws.exit_draws' draws (each device's uniforms drawn at once).
    counts = [a.size for a in arrivals]
    order = np.argsort(np.concatenate(arrivals), kind="stable")
    uniforms = [
        np.random.default_rng(s).random(c) if s % 3 else np.zeros(c)
        for s, c in zip(seeds, counts, strict=True)
    ]
    sequence = np.concatenate([np.arange(c) for c in counts])
    assert [b.start for b in blocks] == list(np.cumsum([0] + [b.times.size for b in blocks])[:-1])
    assert np.array_equal(
        np.concatenate([b.times for b in blocks]), np.concatenate(arrivals)[order]
    )
    owners = np.repeat(np.arange(len(arrivals)), counts)[order]
    assert np.array_equal(np.concatenate([b.devices for b in blocks]), owners)
    assert np.array_equal(
        np.concatenate([b.exit_uniform for b in blocks]), np.concatenate(uniforms)[order]
    )
    assert np.array_equal(np.concatenate([b.exit_sequence for b in blocks]), sequence[order])
    if block_rows <= 64:
        assert len(blocks) > 5


# ---------------------------------------------------------------- records, summary, files


def test_streamed_records_equal_in_memory_records(small_blocks, tmp_path):
    plain, streamed = both(CONGESTED, RICH)
    outcomes = set()
    reasons = set()
    for name, run in plain.runs.items():
        other = streamed.runs[name]
        assert other.streamed and not run.streamed
        assert other.n_requests == run.n_requests > 500
        pd.testing.assert_frame_equal(other.requests, run.requests, check_exact=True)
        outcomes |= set(run.requests["outcome"].astype(str))
        reasons |= set(run.requests["reason"].astype(str))
    # the scenario exercises every terminal outcome and reason
    assert outcomes == {"completed", "completed_late", "dropped", "failed"}
    assert {"device_queue_full", "server_queue_full", "transfer_failed", "unfinished"} <= reasons
    pd.testing.assert_frame_equal(streamed.summary, plain.summary, check_exact=True)
    pd.testing.assert_frame_equal(streamed.stages, plain.stages, check_exact=True)
    written_files_equal(plain, streamed, tmp_path, ("requests", "summary"))


def test_streamed_progressive_plans_equal_in_memory(small_blocks, tmp_path):
    scenario = exit_scenario(tmp_path, duration_s=40.0)
    streamed_scenario = exit_scenario(tmp_path, duration_s=40.0, outputs={"stream_records": True})
    plain = quiet(sim.run, scenario)
    streamed = quiet(sim.run, streamed_scenario)
    progressive = 0
    for name, run in plain.runs.items():
        pd.testing.assert_frame_equal(streamed.runs[name].requests, run.requests, check_exact=True)
        progressive += int((run.requests["exit"].astype(str) != "").sum())
    assert progressive > 100
    pd.testing.assert_frame_equal(streamed.summary, plain.summary, check_exact=True)
    written_files_equal(plain, streamed, tmp_path, ("requests",))


# ---------------------------------------------------------------- interruption and cleanup


def stop_at(t_s: float):
    def progress(now_s: float) -> None:
        if now_s >= t_s:
            raise KeyboardInterrupt

    return progress


def test_an_interrupted_streamed_run_keeps_what_it_simulated(small_blocks, tmp_path):
    plain = sim.load(CONGESTED, RICH)
    streamed = sim.load(CONGESTED, [*RICH, "outputs.stream_records=true"])
    cut_plain = quiet(Run(plain, "offload", 3).run, stop_at(4.0))
    cut_streamed = quiet(Run(streamed, "offload", 3).run, stop_at(4.0))
    assert cut_streamed.interrupted and cut_streamed.streamed
    assert 0 < cut_streamed.n_requests == cut_plain.n_requests
    pd.testing.assert_frame_equal(cut_streamed.requests, cut_plain.requests, check_exact=True)


def spill_folders() -> set[str]:
    return {p for p in os.listdir(tempfile.gettempdir()) if p.startswith("splitsim-records-")}


def test_interrupted_writing_leaves_no_output_and_no_spill(small_blocks, tmp_path, monkeypatch):
    before = spill_folders()
    results = quiet(
        sim.run, sim.load(CONGESTED, [*RICH, "outputs.stream_records=true"]), ["offload"]
    )
    assert len(spill_folders() - before) == 1  # the run's records, on disk
    original = record_stream.RecordStore.frames
    written = {"chunks": 0}

    def frames_then_ctrl_c(self, rows=None):
        for frame in original(self, rows):
            written["chunks"] += 1
            if written["chunks"] == 3:
                raise KeyboardInterrupt  # Ctrl-C while requests.parquet is half written
            yield frame

    monkeypatch.setattr(record_stream.RecordStore, "frames", frames_then_ctrl_c)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        quiet(results.write, out, plots=False)
    assert not out.exists()
    assert os.listdir(tmp_path) == []  # no hidden temporary folder either
    del results
    gc.collect()
    assert spill_folders() - before == set()  # the spill folder goes with its results


def test_a_failing_streamed_run_leaves_no_spill(small_blocks, monkeypatch):
    before = spill_folders()
    scenario = sim.load(CONGESTED, [*RICH, "outputs.stream_records=true"])

    def boom(*args, **kwargs):
        raise RuntimeError("a bug in the middle of the run")

    engine = Run(scenario, "offload", 3)
    monkeypatch.setattr(engine, "_admit", boom)
    with pytest.raises(RuntimeError):
        engine.run()
    del engine
    gc.collect()
    assert spill_folders() - before == set()


def test_streamed_summary_of_an_empty_window_equals_in_memory(tmp_path):
    from tests.conftest import toy_scenario

    plain = quiet(sim.run, toy_scenario(warmup_s=5.0))
    streamed = quiet(sim.run, toy_scenario(warmup_s=5.0, outputs={"stream_records": True}))
    assert streamed.runs["bottlefit_c2"].streamed and streamed.runs["bottlefit_c2"].n_requests == 3
    pd.testing.assert_frame_equal(streamed.summary, plain.summary, check_exact=True)
    pd.testing.assert_frame_equal(streamed.stages, plain.stages, check_exact=True)
    assert int(streamed.summary["requests"].iloc[0]) == 0
    quiet(streamed.write, tmp_path / "out", plots=True)
    assert not (tmp_path / "out" / "plots").exists()
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "out" / "requests.parquet"), plain.requests, check_exact=True
    )


def test_streamed_summary_with_tied_arrivals_equals_in_memory(small_blocks):
    # Every camera's frames at the same instants: ties across devices (the latency
    # interval's argsort is then not the identity, and blocks cut between tied rows).
    ties = [
        *RICH,
        "devices.pi.workload={kind: periodic, fps: 5, jitter_s: 0.0, random_phase: false}",
    ]
    plain, streamed = both(CONGESTED, ties, ["offload", "bottlefit_c12"])
    arrivals = plain.requests["t_arrival"].to_numpy()
    assert (np.diff(arrivals[plain.requests["strategy"] == "offload"]) == 0).sum() > 100
    for name, run in plain.runs.items():
        pd.testing.assert_frame_equal(streamed.runs[name].requests, run.requests, check_exact=True)
    pd.testing.assert_frame_equal(streamed.summary, plain.summary, check_exact=True)
    pd.testing.assert_frame_equal(streamed.stages, plain.stages, check_exact=True)


def test_the_size_guard_counts_what_a_streamed_run_keeps_in_memory():
    from sim.errors import SimInputError

    # 60 M requests (devices and background tenant): ~22 GiB of records, ~2.7 GiB streamed
    big = ["duration_s=200000", "compare=[offload]", "max_requests=100000000"]
    with pytest.raises(SimInputError, match="GiB of records"):
        sim.load(CONGESTED, big)
    assert sim.load(CONGESTED, [*big, "outputs.stream_records=true"]).spec.outputs.stream_records
    with pytest.raises(SimInputError, match="memory with records on disk"):
        sim.load(
            CONGESTED,
            [*big, "duration_s=4000000", "outputs.stream_records=true", "max_requests=1000000000"],
        )
