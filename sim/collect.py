"""From a finished run's tables and components to tidy DataFrames (a RunResult)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.channel.capacity import Capacity
from sim.channel.link import Window
from sim.exits.records import EXIT_COLUMNS, add_exit_columns
from sim.record_stream import RecordStore, SpillTable
from sim.records import ColumnKind

if TYPE_CHECKING:
    import pandas as pd

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
TIERS = ("edge", "cloud")  # servers[].tier (sim/scenario/schema.py)

REQUEST_COLUMNS: dict = {
    "device": np.int32,
    "plan": np.int16,
    "server": np.int16,
    "cell": np.int16,  # code in Router.cell_names (sim/routing.py); -1: no transfer
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
    records_in_memory: pd.DataFrame | None
    """The request frame; None when the records were streamed to disk (``records``)."""
    batches: pd.DataFrame
    background: pd.DataFrame
    devices: pd.DataFrame
    servers: pd.DataFrame
    links: pd.DataFrame
    """One row per backhaul link direction used (sim/backhaul.py); empty without a network."""
    capacity: dict[int, Capacity] = field(default_factory=dict, repr=False)
    interrupted: bool = False
    records: RecordStore | None = field(default=None, repr=False)
    """A streamed run's records on disk (``outputs.stream_records``), read in chunks."""

    @property
    def requests(self) -> pd.DataFrame:
        """One row per request. A streamed run reads every record back into RAM here: use
        :meth:`Results.write` and ``summary`` (they read the disk a chunk at a time)."""
        if self.records_in_memory is not None:
            return self.records_in_memory
        assert self.records is not None
        return self.records.frame()

    @property
    def n_requests(self) -> int:
        """Requests simulated (rows of ``requests``), without reading streamed records."""
        if self.records_in_memory is not None:
            return len(self.records_in_memory)
        return self.records.n if self.records is not None else 0

    @property
    def streamed(self) -> bool:
        return self.records is not None


def _categorical(codes: np.ndarray, labels) -> pd.Categorical:
    import pandas as pd

    return pd.Categorical.from_codes(codes.astype(np.int64), categories=pd.Index(list(labels)))


class FrameBuilder:
    """Turns rows of a run's request table into the per-request frame (one row each).

    What the rows are looked up in (groups, deadlines, plans' variant, kind, payload and
    accuracy) is taken from the finished run once; :meth:`frame` then serves the whole
    table at once or a range of rows at a time (a streamed run's chunks, with the run's
    exit labels fixed in ``exit_labels`` so every chunk has the same categories).
    """

    def __init__(self, run) -> None:
        plans = list(run.plans)
        groups = run.scenario.groups
        self.strategy = run.strategy
        self.plans = plans  # what add_exit_columns reads
        self.group_of_device = np.array([d.group for d in run.devices], dtype=np.int64)
        self.group_names = [g.spec.name for g in groups]
        self.deadlines = np.array([g.spec.deadline_s for g in groups], dtype=np.float64)
        self.variant_names = sorted({p.name for p in plans}, key=[p.name for p in plans].index)
        self.variant_code = np.array(
            [self.variant_names.index(p.name) for p in plans], dtype=np.int64
        )
        self.kind_code = np.array([KINDS.index(p.kind) for p in plans], dtype=np.int64)
        self.server_names = [s.name for s in run.scenario.spec.servers]
        # tier code per server code, and -1 (missing) for the -1 of local plans
        self.tier_code = np.array(
            [TIERS.index(s.tier) for s in run.scenario.spec.servers] + [-1], dtype=np.int64
        )
        self.cell_names = list(run.router.cell_names)
        self.payload = np.array([p.payload_bytes for p in plans], dtype=np.int64)
        self.accuracy = np.array([p.accuracy for p in plans], dtype=np.float64)
        self.exit_labels: list[str] | None = None

    def frame(self, cols: dict[str, np.ndarray], *, copy: bool = True) -> pd.DataFrame:
        """The frame of equally long column arrays ``cols`` (a range of the table's rows).

        ``copy=False``: the arrays become the frame's columns (no copy; the missing
        energies and bytes are zeroed in place): for a finished in-memory table only.
        """
        import pandas as pd

        n = len(cols["device"])
        outcome = cols["outcome"].copy()
        reason = cols["reason"].copy()
        unfinished = outcome == -1
        outcome[unfinished] = FAILED
        reason[unfinished] = REASONS.index("unfinished")
        reason[reason == -1] = 0
        plan = cols["plan"].astype(np.int64)
        group = self.group_of_device[cols["device"]] if n else np.zeros(0, dtype=np.int64)

        def values(name: str) -> np.ndarray:
            return cols[name].copy() if copy else cols[name]

        def zeroed(name: str) -> np.ndarray:
            return np.nan_to_num(cols[name], nan=0.0, copy=copy)

        frame = pd.DataFrame(
            {
                "strategy": pd.Categorical.from_codes(
                    np.zeros(n, dtype=np.int8), categories=pd.Index([self.strategy])
                ),
                "group": _categorical(group, self.group_names),
                "device": values("device"),
                "variant": _categorical(self.variant_code[plan] if n else plan, self.variant_names),
                "kind": _categorical(self.kind_code[plan] if n else plan, KINDS),
                "outcome": _categorical(outcome, OUTCOMES),
                "reason": _categorical(reason, REASONS),
                "server": _categorical(cols["server"], self.server_names),
                "tier": _categorical(self.tier_code[cols["server"]], TIERS),
                "cell": _categorical(cols["cell"], self.cell_names),
                "deadline_s": self.deadlines[group] if n else np.zeros(0),
                **{name: values(name) for name in TIME_COLUMNS},
                "batch_size": values("batch_size"),
                "server_queue_len": values("server_queue_len"),
                "payload_bytes": self.payload[plan] if n else np.zeros(0, dtype=np.int64),
                "bytes_sent": zeroed("bytes_sent"),
                "e_compute_j": zeroed("e_compute_j"),
                "e_radio_j": zeroed("e_radio_j"),
                "accuracy": self.accuracy[plan] if n else np.zeros(0),
            },
            copy=False,
        )
        add_exit_columns(frame, self, cols)
        if self.exit_labels is not None:
            frame["exit"] = frame["exit"].cat.set_categories(self.exit_labels)
        return frame

    def fix_exit_labels(self, pairs: set[tuple[int, int]]) -> None:
        """The run's exit labels, in add_exit_columns' order, from the (plan, exit index)
        pairs that occur in its rows."""
        labels = [""]
        for code, plan in enumerate(self.plans):
            exits = getattr(plan, "exits", None)
            if exits is None:
                continue
            for k, name in enumerate(exits.exit_names()):
                if (code, k) in pairs and name not in labels:
                    labels.append(name)
        self.exit_labels = labels


def request_frame(run) -> pd.DataFrame:
    """The per-request table of ``run`` (a :class:`sim.engine.Run`), one row per request.

    The table's columns become the frame's (no copies): the run is finished.
    """
    table = run.requests
    cols = {name: column[: table.n] for name, column in table.columns.items()}
    return FrameBuilder(run).frame(cols, copy=False)


def record_store(run) -> RecordStore:
    """A streamed run's records (its spilled table), chunks framed like request_frame."""
    builder = FrameBuilder(run)
    store = RecordStore(run.requests, builder)
    pairs: set[tuple[int, int]] = set()
    for start, stop in store.chunks():
        plan = store.table.read("plan", start, stop).astype(np.int64)
        index = store.table.read("exit", start, stop).astype(np.int64)
        keyed = np.unique(plan[index >= 0] * 256 + index[index >= 0])
        pairs.update((int(k) // 256, int(k) % 256) for k in keyed)
    builder.fix_exit_labels(pairs)
    return store


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
    import pandas as pd

    strategy = run.strategy
    streamed = isinstance(run.requests, SpillTable)
    store = record_store(run) if streamed else None
    requests = None if streamed else request_frame(run)
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
        {
            "strategy": strategy,
            "group": groups[device.group].spec.name,
            **device.result_row(),
            "handovers": device.uplink.handovers_between(window.start_s, window.end_s),
        }
        for device in run.devices
    ]
    _warn_above_range(run)
    max_concurrent = max((c.max_concurrent for c in run.cells.values()), default=0)
    server_rows = [
        {"strategy": strategy, **server.result_row(), "max_concurrent_uplinks": max_concurrent}
        for server in run.servers.values()
    ]
    legs = getattr(run.router, "legs", None)
    link_rows = [] if legs is None else legs.backhaul.result_rows()
    links = pd.DataFrame([{"strategy": strategy, **row} for row in link_rows])
    return RunResult(
        strategy=strategy,
        seed=run.seed,
        window=window,
        end_s=float(run.env.now),
        records_in_memory=requests,
        batches=batches,
        background=background,
        devices=pd.DataFrame(device_rows),
        servers=pd.DataFrame(server_rows),
        links=links,
        capacity=run.capacity,
        interrupted=interrupted,
        records=store,
    )
