"""From a finished run's tables and components to tidy DataFrames (a RunResult)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.channel.capacity import Capacity
from sim.channel.link import Window
from sim.exits.records import EXIT_COLUMNS, add_exit_columns
from sim.records import ColumnKind

OUTCOMES = ("completed", "completed_late", "dropped", "failed")
REASONS = ("", "device_queue_full", "server_queue_full", "transfer_failed", "unfinished")
KINDS = ("local", "offload", "split")
COMPLETED, LATE, DROPPED, FAILED = range(4)
TIME_COLUMNS = (
    "t_arrival",
    "t_head_start",
    "t_head_end",
    "t_uplink_start",
    "t_tx_start",
    "t_uplink_end",
    "t_server_arrival",
    "t_service_start",
    "t_service_end",
    "t_done",
)
REQUEST_COLUMNS: dict = {
    "device": np.int32,
    "plan": np.int16,
    "server": np.int16,
    "outcome": np.int8,
    "reason": np.int8,
    **{name: np.float64 for name in TIME_COLUMNS},
    "batch_size": np.int32,
    "server_queue_len": np.int32,
    "bytes_sent": np.float64,
    "e_compute_j": np.float64,
    "e_radio_j": np.float64,
    **EXIT_COLUMNS,
}
"""Columns written while the run goes; group, deadline and the plan's variant, kind,
payload and accuracy are looked up from ``device`` and ``plan`` when collecting."""

BACKGROUND_COLUMNS: dict[str, ColumnKind] = {
    "server": (),
    "part": (),
    "outcome": OUTCOMES,
    "t_arrival": np.float64,
    "t_service_start": np.float64,
    "t_service_end": np.float64,
    "batch_size": np.int32,
}


@dataclass
class RunResult:
    """Everything one run of one strategy produced."""

    strategy: str
    seed: int
    window: Window
    end_s: float
    requests: pd.DataFrame
    batches: pd.DataFrame
    background: pd.DataFrame
    devices: pd.DataFrame
    servers: pd.DataFrame
    capacity: dict[int, Capacity] = field(default_factory=dict, repr=False)
    interrupted: bool = False


def _categorical(codes: np.ndarray, labels) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(list(labels)))


def request_frame(run) -> pd.DataFrame:
    """The per-request table of ``run`` (a :class:`sim.engine.Run`), one row per request."""
    table = run.requests
    n = table.n
    cols = {name: column[:n] for name, column in table.columns.items()}
    outcome = cols["outcome"].copy()
    reason = cols["reason"].copy()
    unfinished = outcome == -1
    outcome[unfinished] = FAILED
    reason[unfinished] = REASONS.index("unfinished")
    reason[reason == -1] = 0
    plans = run.plans
    plan = cols["plan"].astype(np.int64)
    device = cols["device"].astype(np.int64)
    group_of_device = np.array([d.group for d in run.devices], dtype=np.int64)
    group = group_of_device[device] if n else np.zeros(0, dtype=np.int64)
    deadlines = np.array([g.spec.deadline_s for g in run.scenario.groups])
    variant_names = sorted({p.name for p in plans}, key=[p.name for p in plans].index)
    variant_code = np.array([variant_names.index(p.name) for p in plans], dtype=np.int64)
    frame = pd.DataFrame(
        {
            "strategy": run.strategy,
            "group": _categorical(group, [g.spec.name for g in run.scenario.groups]),
            "device": cols["device"],
            "variant": _categorical(variant_code[plan] if n else plan, variant_names),
            "kind": _categorical(
                np.array([KINDS.index(p.kind) for p in plans], dtype=np.int64)[plan] if n else plan,
                KINDS,
            ),
            "outcome": _categorical(outcome, OUTCOMES),
            "reason": _categorical(reason, REASONS),
            "server": _categorical(cols["server"], [s.name for s in run.scenario.spec.servers]),
            "deadline_s": deadlines[group] if n else np.zeros(0),
            **{name: cols[name].copy() for name in TIME_COLUMNS},
            "batch_size": cols["batch_size"].copy(),
            "server_queue_len": cols["server_queue_len"].copy(),
            "payload_bytes": np.array([p.payload_bytes for p in plans], dtype=np.int64)[plan]
            if n
            else np.zeros(0, dtype=np.int64),
            "bytes_sent": np.nan_to_num(cols["bytes_sent"], nan=0.0),
            "e_compute_j": np.nan_to_num(cols["e_compute_j"], nan=0.0),
            "e_radio_j": np.nan_to_num(cols["e_radio_j"], nan=0.0),
            "accuracy": np.array([p.accuracy for p in plans], dtype=np.float64)[plan]
            if n
            else np.zeros(0),
        }
    )
    add_exit_columns(frame, run, cols)
    return frame


def _warn_above_range(run) -> None:
    """One warning per run when transfers went faster than their radio power model's fitted
    range (their transfer power was capped at the range's top, sim/channel/radio.py)."""
    above = sum(d.radio.above_fitted_range for d in run.devices)
    if above:
        models = sorted(
            {
                f"{d.radio.model.fitted_max_mbps:g} Mbit/s"
                for d in run.devices
                if d.radio.above_fitted_range
            }
        )
        warnings.warn(
            f"{run.scenario.spec.name} / {run.strategy}: {above} uplink transfers ran faster than "
            f"their radio power model was fitted for (up to {', '.join(models)}); their transfer "
            "power is capped at the top of the range (docs/energy.md)",
            RadioRangeWarning,
            stacklevel=2,
        )


class RadioRangeWarning(UserWarning):
    """A radio power model was used above its fitted rate range (power capped)."""


def collect(run, interrupted: bool) -> RunResult:
    """Turn a finished :class:`sim.engine.Run` into a :class:`RunResult`."""
    strategy = run.strategy
    requests = request_frame(run)
    background = run.background.frame()
    bg_unfinished = background["outcome"].isna()
    if bg_unfinished.any():
        background.loc[bg_unfinished, "outcome"] = "failed"
    background.insert(0, "strategy", strategy)
    server_names = [s.name for s in run.scenario.spec.servers]
    if run.batches is not None:
        batches = run.batches.frame()
        batches["server"] = _categorical(batches["server"].to_numpy(), server_names)
    else:
        batches = pd.DataFrame(
            {
                name: []
                for name in ("server", "worker", "part", "size", "t_start", "t_end", "energy_j")
            }
        )
    batches.insert(0, "strategy", strategy)
    groups = run.scenario.groups
    window = run.window
    # Each component reports its own totals (result_row); this module only assembles them.
    device_rows = [
        {"strategy": strategy, "group": groups[device.group].spec.name, **device.result_row()}
        for device in run.devices
    ]
    _warn_above_range(run)
    max_concurrent = max((c.max_concurrent for c in run.cells.values()), default=0)
    server_rows = [
        {"strategy": strategy, **server.result_row(), "max_concurrent_uplinks": max_concurrent}
        for server in run.servers.values()
    ]
    return RunResult(
        strategy=strategy,
        seed=run.seed,
        window=window,
        end_s=float(run.env.now),
        requests=requests,
        batches=batches,
        background=background,
        devices=pd.DataFrame(device_rows),
        servers=pd.DataFrame(server_rows),
        capacity=run.capacity,
        interrupted=interrupted,
    )
