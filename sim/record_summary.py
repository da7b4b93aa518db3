"""Summary and stage tables of streamed runs, read back from disk a few columns at a time.

The figures are :func:`sim.metrics.summarize`'s and :func:`sim.metrics.stage_breakdown`'s,
computed with the same numpy and pandas operations on the same values in the same
order (the records of the measurement window, in row order; outcomes and exits as
their category codes), so they equal the in-memory ones bit for bit
(tests/performance/test_stream_records.py, which also catches a figure added to
``summarize`` and not here). Each pass over the records keeps one to three
columns of the window's requests, never the whole table: exact percentiles and
the batch-means interval need every latency.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd

from sim.collect import OUTCOMES
from sim.metrics import STAGES, _energy_figures, batch_means_ci, batches_in_window
from sim.stats import batch_proportion_interval

FINISHED = ("completed", "completed_late")


def _arrays(
    store, columns: Iterable[str | Callable], window: tuple[float, float], keep=None
) -> list[np.ndarray]:
    """The in-window rows of ``columns`` (categoricals as their codes; a callable: an array
    computed from each chunk), one pass over the records; ``keep(chunk)``: a further row
    mask. One column is concatenated at a time."""
    columns = list(columns)
    parts: list[list[np.ndarray]] = [[] for _ in columns]
    start_s, end_s = window
    for chunk in store.frames():
        arrival = chunk["t_arrival"].to_numpy()
        mask = (arrival >= start_s) & (arrival < end_s)
        if keep is not None:
            mask &= keep(chunk)
        for name, into in zip(columns, parts, strict=True):
            if callable(name):
                into.append(name(chunk)[mask])
                continue
            column = chunk[name]
            if isinstance(column.dtype, pd.CategoricalDtype):
                values = column.cat.codes.to_numpy()
            else:
                values = column.to_numpy()
            into.append(values[mask])
        del chunk
    out = []
    for into in parts:
        out.append(np.concatenate(into) if into else np.zeros(0))
        into.clear()
    return out


def _latency(chunk: pd.DataFrame) -> np.ndarray:
    return chunk["t_done"].to_numpy() - chunk["t_arrival"].to_numpy()


def _difference(later: str, earlier: str) -> Callable[[pd.DataFrame], np.ndarray]:
    return lambda chunk: chunk[later].to_numpy() - chunk[earlier].to_numpy()


def _nondecreasing(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] >= values[:-1]))


def _increasing(values: np.ndarray) -> bool:
    return bool(np.all(values[1:] > values[:-1]))


def _done(chunk: pd.DataFrame) -> np.ndarray:
    return chunk["outcome"].isin(FINISHED).to_numpy()


def _completed(chunk: pd.DataFrame) -> np.ndarray:
    return (chunk["outcome"] == "completed").to_numpy()


def _exit_figures(store, span: tuple[float, float], n: int) -> dict[str, float]:
    """:func:`sim.exits.summary.exit_figures` from the exit columns' codes."""
    empty = {
        "accuracy_expected": math.nan,
        "exit_share_device": math.nan,
        "exit_share_server_early": math.nan,
    }
    if not n:
        return empty
    (plan_accuracy,) = _arrays(store, ["plan_accuracy"], span, keep=_done)
    expected = float(pd.Series(plan_accuracy).mean()) if plan_accuracy.size else math.nan
    del plan_accuracy
    exit_code, on_device = _arrays(store, ["exit", "exit_on_device"], span)
    labels = store.builder.exit_labels  # "" (no exit) first
    progressive = exit_code != labels.index("")
    if not progressive.any():
        return {**empty, "accuracy_expected": expected}
    final = labels.index("final") if "final" in labels else -2
    server_early = int((progressive & ~on_device & (exit_code != final)).sum())
    return {
        "accuracy_expected": expected,
        "exit_share_device": int(on_device.sum()) / n,
        "exit_share_server_early": server_early / n,
    }


def _strategy_row(run, devices: pd.DataFrame, servers: pd.DataFrame, batches: pd.DataFrame) -> dict:
    """One strategy's summary row, as :func:`sim.metrics.summarize` computes it."""
    store = run.records
    strategy = run.strategy
    warmup_s, duration_s = run.window.start_s, run.window.end_s
    window = max(duration_s - warmup_s, 1e-12)
    span = (warmup_s, duration_s)
    arrival, outcome = _arrays(store, ["t_arrival", "outcome"], span)
    n = arrival.size
    counts = np.bincount(outcome, minlength=len(OUTCOMES)) if n else np.zeros(4, dtype=int)
    # _miss_interval: misses (not completed on time) in arrival order; rows are laid out in
    # arrival order, so its stable argsort is the identity (checked, else done)
    missed = (outcome != OUTCOMES.index("completed")).astype(float)
    if not _nondecreasing(arrival):
        missed = missed[np.argsort(arrival, kind="stable")]
    low, high = batch_proportion_interval(missed)
    del missed, arrival, outcome
    arrival_done, lat = _arrays(store, ["t_arrival", _latency], span, keep=_done)
    # summarize's argsort (not stable): the identity when arrivals are strictly increasing
    if not _increasing(arrival_done):
        order = np.argsort(arrival_done)
        del arrival_done
        mean_lat, half = batch_means_ci(lat[order])
        del order
    else:
        del arrival_done
        mean_lat, half = batch_means_ci(lat)
    percentiles = {
        f"latency_p{q}_s": float(np.percentile(lat, q)) if lat.size else math.nan
        for q in (50, 95, 99)
    }
    inferences = int(lat.size)
    del lat
    on_time = int(counts[OUTCOMES.index("completed")])
    dev = devices[devices["strategy"] == strategy]
    srv = servers[servers["strategy"] == strategy]
    bat = batches_in_window(batches, strategy, warmup_s, duration_s)
    # _energy_figures sums each column: summed here one column per pass (the same sum), and
    # handed over as one-value columns (a sum of one value is that value)
    sums = {}
    for name in ("e_compute_j", "e_radio_j"):
        (values,) = _arrays(store, [name], span)
        sums[name] = pd.Series([pd.Series(values).sum()])
        del values
    energy = _energy_figures(sums, dev, window, inferences)  # type: ignore[arg-type]
    (sent,) = _arrays(store, ["bytes_sent"], span)
    uplink_bytes = float(pd.Series(sent).mean()) if n else math.nan
    del sent
    (accuracy_done,) = _arrays(store, ["accuracy"], span, keep=_done)
    accuracy = float(pd.Series(accuracy_done).mean()) if accuracy_done.size else math.nan
    del accuracy_done
    (accuracy_on_time,) = _arrays(store, ["accuracy"], span, keep=_completed)
    on_time_accuracy = float(pd.Series(accuracy_on_time).sum() / n) if n else math.nan
    del accuracy_on_time
    return {
        "strategy": strategy,
        "requests": n,
        "completed": on_time,
        "completed_late": int(counts[OUTCOMES.index("completed_late")]),
        "dropped": int(counts[OUTCOMES.index("dropped")]),
        "failed": int(counts[OUTCOMES.index("failed")]),
        "throughput_rps": inferences / window,
        "latency_mean_s": mean_lat,
        "latency_mean_ci95_s": half,
        **percentiles,
        "deadline_miss_rate": 1.0 - on_time / n if n else math.nan,
        "deadline_miss_rate_ci95_low": low,
        "deadline_miss_rate_ci95_high": high,
        **energy,
        "accuracy": accuracy,
        **_exit_figures(store, span, n),
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
            (spent,) = _arrays(run.records, [_difference(b, a)], span, keep=_done)
            if not spent.size:
                break  # no finished request: no row (stage_breakdown groups finished ones)
            row[stage] = float(pd.Series(spent, copy=False).fillna(0.0).clip(lower=0).mean())
            del spent
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
