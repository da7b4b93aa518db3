"""Summary and stage tables of streamed runs, read back from disk a few columns at a time.

The figures are :func:`sim.metrics.summarize`'s and :func:`sim.metrics.stage_breakdown`'s,
computed with the same pandas and numpy operations on the same arrays (the
records of the measurement window, in row order), so they equal the in-memory
ones bit for bit (tests/performance/test_stream_records.py). What is held at
once is a few columns of the window's rows, never the whole table: each pass
over the records keeps ~8-24 bytes per request (exact percentiles and the
batch-means interval need every latency).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from sim.exits.summary import exit_figures
from sim.metrics import (
    STAGES,
    _energy_figures,
    _miss_interval,
    batch_means_ci,
    finished,
    latency_s,
)

FINISHED = ("completed", "completed_late")


def _gather(store, columns: Iterable[str], window: tuple[float, float], keep=None) -> pd.DataFrame:
    """The in-window rows of ``columns`` (categories kept), one pass over the records;
    ``keep(chunk)``: a further row mask."""
    columns = list(columns)
    parts: list[pd.DataFrame] = []
    start_s, end_s = window
    for chunk in store.frames():
        arrival = chunk["t_arrival"].to_numpy()
        mask = (arrival >= start_s) & (arrival < end_s)
        if keep is not None:
            mask &= keep(chunk)
        parts.append(chunk.loc[mask, columns].reset_index(drop=True))
        del chunk
    if not parts:
        return pd.DataFrame({name: [] for name in columns})
    frame = pd.concat(parts, ignore_index=True)
    for name in columns:  # concat keeps equal categoricals; make sure of it
        if isinstance(parts[0][name].dtype, pd.CategoricalDtype):
            frame[name] = frame[name].astype(parts[0][name].dtype)
    return frame


def _done(chunk: pd.DataFrame):
    return chunk["outcome"].isin(FINISHED).to_numpy()


def _strategy_row(run, devices: pd.DataFrame, servers: pd.DataFrame, batches: pd.DataFrame) -> dict:
    """One strategy's summary row, as :func:`sim.metrics.summarize` computes it."""
    store = run.records
    strategy = run.strategy
    warmup_s, duration_s = run.window.start_s, run.window.end_s
    window = max(duration_s - warmup_s, 1e-12)
    span = (warmup_s, duration_s)
    req = _gather(store, ["t_arrival", "t_done", "outcome"], span)
    done = finished(req)
    lat = latency_s(done).to_numpy()
    order = np.argsort(done["t_arrival"].to_numpy())
    mean_lat, half = batch_means_ci(lat[order])
    del order
    n = len(req)
    outcome_counts = req["outcome"].value_counts()
    on_time = int(outcome_counts.get("completed", 0))
    miss = _miss_interval(req)
    inferences = len(done)
    percentiles = {
        f"latency_p{q}_s": float(np.percentile(lat, q)) if lat.size else math.nan
        for q in (50, 95, 99)
    }
    del req, done, lat
    dev = devices[devices["strategy"] == strategy]
    srv = servers[servers["strategy"] == strategy]
    bat = (
        batches[
            (batches["strategy"] == strategy)
            & (batches["t_start"] >= warmup_s)
            & (batches["t_start"] < duration_s)
        ]
        if len(batches)
        else batches
    )
    energy_columns = _gather(store, ["e_compute_j", "e_radio_j"], span)
    energy = _energy_figures(energy_columns, dev, window, inferences)
    del energy_columns
    sent = _gather(store, ["bytes_sent"], span)["bytes_sent"]
    uplink_bytes = float(sent.mean()) if n else math.nan
    del sent
    exits = _gather(store, ["outcome", "accuracy", "plan_accuracy", "exit", "exit_on_device"], span)
    done_accuracy = finished(exits)["accuracy"]
    accuracy = float(done_accuracy.mean()) if len(done_accuracy) else math.nan
    exit_columns = exit_figures(exits)
    on_time_accuracy = (
        float(exits.loc[exits["outcome"] == "completed", "accuracy"].sum() / n) if n else math.nan
    )
    del exits, done_accuracy
    return {
        "strategy": strategy,
        "requests": n,
        "completed": on_time,
        "completed_late": int(outcome_counts.get("completed_late", 0)),
        "dropped": int(outcome_counts.get("dropped", 0)),
        "failed": int(outcome_counts.get("failed", 0)),
        "throughput_rps": inferences / window,
        "latency_mean_s": mean_lat,
        "latency_mean_ci95_s": half,
        **percentiles,
        "deadline_miss_rate": 1.0 - on_time / n if n else math.nan,
        **miss,
        **energy,
        "accuracy": accuracy,
        **exit_columns,
        "on_time_accuracy": on_time_accuracy,
        "server_utilisation": float(
            (srv["utilisation"] * srv["workers"]).sum() / max(srv["workers"].sum(), 1)
        )
        if len(srv)
        else math.nan,
        "mean_batch_size": float(bat["size"].mean()) if len(bat) else math.nan,
        "uplink_bytes_per_request": uplink_bytes,
    }


def streamed_summary(results) -> pd.DataFrame:
    """:func:`sim.metrics.summarize` of ``results`` whose records were streamed to disk."""
    rows = [
        _strategy_row(run, results.devices, results.servers, results.batches)
        for run in results.runs.values()
    ]
    return pd.DataFrame(rows)


def streamed_stages(results) -> pd.DataFrame:
    """:func:`sim.metrics.stage_breakdown` of the window's requests of a streamed run."""
    rows = []
    for run in results.runs.values():
        span = (run.window.start_s, run.window.end_s)
        row: dict = {"strategy": run.strategy}
        for stage, a, b in STAGES:
            part = _gather(run.records, [a, b], span, keep=_done)
            if not len(part):
                break  # no finished request: no row (stage_breakdown groups finished ones)
            row[stage] = float((part[b] - part[a]).fillna(0.0).clip(lower=0).mean())
        else:
            rows.append(row)
    return pd.DataFrame(rows)


def _results_categories(results) -> dict[str, pd.CategoricalDtype]:
    """Each categorical column's categories as :attr:`Results.requests` has them: a run's
    own where every run has the same, else the sorted union (what concatenating the runs'
    frames and converting back to categories gives; a run's categories all occur in it,
    except fixed lists, which are the same in every run)."""
    empty = [run.records.builder.frame(run.records.columns(0, 0)) for run in results.runs.values()]
    dtypes = {}
    for name in empty[0].columns:
        if not isinstance(empty[0][name].dtype, pd.CategoricalDtype):
            continue
        lists = [list(frame[name].cat.categories) for frame in empty]
        same = all(labels == lists[0] for labels in lists)
        dtypes[name] = pd.CategoricalDtype(lists[0] if same else sorted(set().union(*lists)))
    return dtypes


def write_streamed_records(
    results, folder, csv: bool, on_chunk: Callable[[], None] | None = None
) -> list[str]:
    """``requests.parquet`` (and ``requests.csv``) of streamed ``results`` in ``folder``,
    one Parquet row group per chunk of records, strategies one after another; it reads
    back equal to the in-memory path's file (same rows, values and categories)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dtypes = _results_categories(results)
    path = folder / "requests.parquet"
    writer = None
    header = True
    try:
        for run in results.runs.values():
            frames = run.records.frames() if run.records.n else [run.records.frame()]
            for chunk in frames:
                for name, dtype in dtypes.items():
                    chunk[name] = chunk[name].astype(dtype)
                table = pa.Table.from_pandas(chunk, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(path, table.schema)
                writer.write_table(table)
                if csv:
                    chunk.to_csv(folder / "requests.csv", index=False, mode="a", header=header)
                    header = False
                if on_chunk is not None:
                    on_chunk()
    finally:
        if writer is not None:
            writer.close()
    return ["requests.parquet", *(["requests.csv"] if csv else [])]
