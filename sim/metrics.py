"""From records to tidy tables: per-strategy summary, stage breakdown, confidence intervals.

Only requests that arrive inside the measurement window [warmup_s, duration_s)
count. Device energy is given on two named bases (:data:`ENERGY_BASES`,
docs/energy.md): ``whole_board`` and ``above_idle``, per finished inference. Latency statistics use the requests that finished (on time or late);
the deadline-miss rate counts everything that did not finish on time
(late, dropped, failed).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sim.exits.summary import exit_figures
from sim.stats import batch_means_interval, batch_proportion_interval

STAGES = (
    ("head", "t_arrival", "t_head_end"),
    ("uplink", "t_head_end", "t_uplink_end"),
    ("network", "t_uplink_end", "t_server_arrival"),
    ("server_queue", "t_server_arrival", "t_service_start"),
    ("service", "t_service_start", "t_service_end"),
    ("downlink", "t_service_end", "t_done"),
)
"""Consecutive stages of a request's latency [s]; 'head' includes waiting for the processor
and 'uplink' waiting for the radio (FIFO) and its promotion."""


def in_window(requests: pd.DataFrame, warmup_s: float, duration_s: float) -> pd.DataFrame:
    arrival = requests["t_arrival"]
    return requests[(arrival >= warmup_s) & (arrival < duration_s)]


def finished(requests: pd.DataFrame) -> pd.DataFrame:
    return requests[requests["outcome"].isin(["completed", "completed_late"])]


def latency_s(requests: pd.DataFrame) -> pd.Series:
    return requests["t_done"] - requests["t_arrival"]


def batch_means_ci(
    values: np.ndarray, batches: int = 10, level: float = 0.95
) -> tuple[float, float]:
    """(mean, half-width) of a t-interval over ``batches`` consecutive batch means
    (:func:`sim.stats.batch_means_interval`: honest for correlated requests of one run)."""
    return batch_means_interval(values, batches, level)


def batches_in_window(
    batches: pd.DataFrame, strategy: str, warmup_s: float, duration_s: float
) -> pd.DataFrame:
    """One strategy's GPU batches that started inside the measurement window."""
    if not len(batches):
        return batches
    start = batches["t_start"]
    return batches[(batches["strategy"] == strategy) & (start >= warmup_s) & (start < duration_s)]


def _miss_interval(req: pd.DataFrame) -> dict[str, float]:
    """95 % interval of one run's deadline-miss rate, in [0, 1]: misses in arrival order,
    ten consecutive batches as clusters (:func:`sim.stats.batch_proportion_interval`), so
    misses that come in bursts widen it; Wilson's for fewer than 20 requests."""
    order = np.argsort(req["t_arrival"].to_numpy(), kind="stable")
    missed = (req["outcome"].to_numpy() != "completed")[order].astype(float)
    low, high = batch_proportion_interval(missed)
    return {"deadline_miss_rate_ci95_low": low, "deadline_miss_rate_ci95_high": high}


ENERGY_BASES = {
    "whole_board": "everything the device draws over the measurement window (the board's idle "
    "baseline included), divided by the inferences that finished; the idle draw is shared "
    "equally by them",
    "above_idle": "what requests add to the board's idle draw (compute above idle, radio "
    "promotion, transfer and tail up to the next transfer or the window's end), divided by the "
    "inferences that finished",
}
"""The two named energy bases of the summary (docs/energy.md)."""


def _energy_figures(
    req: pd.DataFrame, dev: pd.DataFrame, window_s: float, inferences: int
) -> dict[str, float]:
    """Device energy per finished inference on both bases, and mean device power [J, W].

    Numerators: the per-request energies (above idle) of every request that arrived in the
    window, whatever its outcome, plus, for the whole board, every device's idle draw over
    the window (``e_board_idle_j``). The metered whole-board figure (devices.parquet's
    ``e_total_j``, integrated over time) is given beside it: the two agree to the energy of
    the requests that straddle the window's edges.
    """
    compute = float(req["e_compute_j"].sum())
    radio = float(req["e_radio_j"].sum())
    idle = float(dev["e_board_idle_j"].sum()) if "e_board_idle_j" in dev else math.nan
    metered = float(dev["e_total_j"].sum())
    per = (lambda joules: joules / inferences) if inferences else (lambda _j: math.nan)
    board_s = window_s * max(len(dev), 1)
    return {
        "inferences": inferences,
        "energy_whole_board_per_inference_j": per(compute + radio + idle),
        "energy_above_idle_per_inference_j": per(compute + radio),
        "energy_above_idle_compute_per_inference_j": per(compute),
        "energy_above_idle_radio_per_inference_j": per(radio),
        "energy_whole_board_metered_per_inference_j": per(metered),
        "device_power_whole_board_w": metered / board_s,
        "device_power_above_idle_w": (metered - idle) / board_s,
    }


def stage_breakdown(requests: pd.DataFrame) -> pd.DataFrame:
    """Mean seconds per stage, per strategy, over finished requests (missing stages count 0)."""
    done = finished(requests)
    rows = []
    for strategy, part in done.groupby("strategy", observed=True, sort=False):
        row = {"strategy": strategy}
        for stage, a, b in STAGES:
            row[stage] = (
                float((part[b] - part[a]).fillna(0.0).clip(lower=0).mean())
                if len(part)
                else math.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def summarize(
    requests: pd.DataFrame,
    devices: pd.DataFrame,
    servers: pd.DataFrame,
    batches: pd.DataFrame,
    *,
    windows: dict[str, tuple[float, float]],
) -> pd.DataFrame:
    """One row per strategy: latency, misses, energy, accuracy, server load.

    ``windows`` gives each strategy's measurement window [warmup_s, end_s) (the end is
    earlier than duration_s only for an interrupted run).
    """
    rows = []
    for strategy, (warmup_s, duration_s) in windows.items():
        window = max(duration_s - warmup_s, 1e-12)  # [s]; an empty window gives rates of 0, not 0/0
        arrival = requests["t_arrival"]  # strategy and window in one selection: one copy
        req = requests[
            (requests["strategy"] == strategy) & (arrival >= warmup_s) & (arrival < duration_s)
        ]
        done = finished(req)
        lat = latency_s(done).to_numpy()
        order = np.argsort(done["t_arrival"].to_numpy())
        mean_lat, half = batch_means_ci(lat[order])
        n = len(req)
        outcome_counts = req["outcome"].value_counts()
        on_time = int(outcome_counts.get("completed", 0))
        dev = devices[devices["strategy"] == strategy]
        srv = servers[servers["strategy"] == strategy]
        bat = batches_in_window(batches, strategy, warmup_s, duration_s)
        inferences = len(done)
        energy = _energy_figures(req, dev, window, inferences)
        rows.append(
            {
                "strategy": strategy,
                "requests": n,
                "completed": on_time,
                "completed_late": int(outcome_counts.get("completed_late", 0)),
                "dropped": int(outcome_counts.get("dropped", 0)),
                "failed": int(outcome_counts.get("failed", 0)),
                "throughput_rps": len(done) / window,
                "latency_mean_s": mean_lat,
                "latency_mean_ci95_s": half,
                "latency_p50_s": float(np.percentile(lat, 50)) if lat.size else math.nan,
                "latency_p95_s": float(np.percentile(lat, 95)) if lat.size else math.nan,
                "latency_p99_s": float(np.percentile(lat, 99)) if lat.size else math.nan,
                "deadline_miss_rate": 1.0 - on_time / n if n else math.nan,
                **_miss_interval(req),
                **energy,
                "accuracy": float(done["accuracy"].mean()) if len(done) else math.nan,
                **exit_figures(req),
                "on_time_accuracy": float(
                    req.loc[req["outcome"] == "completed", "accuracy"].sum() / n
                )
                if n
                else math.nan,
                "server_utilisation": float(
                    (srv["utilisation"] * srv["workers"]).sum() / max(srv["workers"].sum(), 1)
                )
                if len(srv)
                else math.nan,
                "mean_batch_size": float(bat["size"].mean()) if len(bat) else math.nan,
                "uplink_bytes_per_request": float(req["bytes_sent"].mean()) if n else math.nan,
            }
        )
    return pd.DataFrame(rows)
