"""Scenario configuration of cells and their uplink capacity processes, and their builders.

Uplink kinds (``kind:``): ``constant``, ``series`` (inline piecewise-constant),
``trace`` (a throughput trace file replayed with a random offset and looped),
``markov`` (CTMC over rate levels, e.g. fitted by ``calibration/fit_channel.py``),
``gilbert_elliott`` (two-state good/bad) and ``physical`` (geometry, 3GPP path
loss, shadowing, fading and link adaptation: :mod:`sim.channel.physical`).
A cell adds sharing (dedicated or shared with a scheduler), block errors with
HARQ (:mod:`sim.channel.harq`), application retries and its radio power model.
Its ``downlink`` takes any of the same kinds (:mod:`sim.channel.downlink`);
left out, it is constant at ``downlink_bps``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from sim.channel.capacity import Capacity, ConstantCapacity, PiecewiseCapacity, SegmentSource
from sim.channel.harq import ErrorModelConfig, RetryConfig
from sim.channel.physical import PhysicalSource, PhysicalUplink
from sim.channel.radio import RADIO_PRESETS, RadioKind, RadioPowerModel
from sim.channel.shared import Scheduler
from sim.channel.sources import MarkovSource, SeriesSource
from sim.channel.trace_memo import read_trace_memo
from sim.channel.traces import Trace
from sim.errors import SimInputError
from sim.validation import NonNegFloat, PositiveFloat, Strict


class ConstantUplink(Strict):
    """c(t) = rate_bps."""

    kind: Literal["constant"]
    rate_bps: PositiveFloat = Field(description="uplink capacity of each device")


class SeriesUplink(Strict):
    """Piecewise-constant capacity: ``rates_bps[i]`` from ``times_s[i]`` to the next time.

    The last rate holds until ``period_s``; the series then loops (if ``loop``), else it
    ends there (as a trace with ``loop: false``: docs/howto/traces.md).
    """

    kind: Literal["series"]
    times_s: list[NonNegFloat] = Field(
        min_length=1, description="start time of each rate, from 0, strictly increasing"
    )
    rates_bps: list[NonNegFloat] = Field(
        min_length=1, description="capacity from the matching time to the next"
    )
    period_s: PositiveFloat = Field(
        description="length of one loop of the series (after the last time)"
    )
    loop: bool = Field(
        default=True,
        description="repeat the series after period_s (false: it ends there; a transfer still "
        "sending then fails with the bytes it sent, later ones fail at once)",
    )
    random_offset: bool = Field(
        default=False, description="each device starts at a random point of the series"
    )

    @model_validator(mode="after")
    def _shape(self) -> SeriesUplink:
        if len(self.times_s) != len(self.rates_bps):
            raise ValueError("times_s and rates_bps must have the same length")
        if self.times_s[0] != 0:
            raise ValueError("times_s must start at 0")
        if any(b <= a for a, b in zip(self.times_s, self.times_s[1:], strict=False)):
            raise ValueError("times_s must be strictly increasing")
        if self.period_s <= self.times_s[-1]:
            raise ValueError(f"period_s must be greater than the last time {self.times_s[-1]}")
        if max(self.rates_bps) <= 0:
            raise ValueError("at least one rate must be > 0")
        return self

    def as_trace(self) -> Trace:
        times = np.asarray(self.times_s, dtype=float)
        durations = np.diff(np.concatenate([times, [self.period_s]]))
        return Trace(durations, np.asarray(self.rates_bps, dtype=float), "inline series")


class TraceUplink(Strict):
    """Replay of a throughput trace file, looped, from a random offset per device."""

    kind: Literal["trace"]
    path: str = Field(
        description="trace file, relative to the scenario file (public sets live in "
        "../shared/traces)",
    )
    format: Literal["mahimahi", "time_mbps", "csv", "irish_5g", "fivegophers"] = Field(
        description="file format: mahimahi (delivery timestamps), time_mbps, csv, irish_5g, "
        "fivegophers",
    )
    bin_s: PositiveFloat = Field(
        default=0.1,
        description="mahimahi: width of the bins the delivery opportunities are counted in",
    )
    time_column: str = Field(default="time_s", description="csv: name of the time column")
    rate_column: str | None = Field(
        default=None,
        description="default: 'throughput' (csv), 'DL_bitrate' (irish_5g), "
        "'throughput_mbps' (fivegophers)",
    )
    select: dict[str, str | int | float] | None = Field(
        default=None, description="fivegophers: keep rows whose columns equal these values"
    )
    rate_unit: Literal["bps", "kbps", "Mbps", "Gbps"] = Field(
        default="Mbps", description="csv: unit of the rate column (bps, kbps, Mbps, Gbps)"
    )
    time_unit: Literal["s", "ms"] = Field(
        default="s", description="csv: unit of the time column (s, ms)"
    )
    scale: PositiveFloat = Field(
        default=1.0,
        description="factor applied to every rate of the trace (e.g. 0.1-0.2 to use a downlink "
        "trace as an uplink) [1]",
    )
    loop: bool = Field(
        default=True,
        description="replay the trace again from its start when it ends (false: a transfer "
        "still sending at the end fails with the bytes it sent, later ones fail at once)",
    )
    random_offset: bool = Field(
        default=True, description="each device starts replaying at its own random offset"
    )

    @model_validator(mode="after")
    def _select_only_fivegophers(self) -> TraceUplink:
        if self.select is not None and self.format != "fivegophers":
            raise ValueError("select applies to format fivegophers only")
        return self


class MarkovUplink(Strict):
    """Markov chain over capacity levels (exponential holding times)."""

    kind: Literal["markov"]
    rates_bps: list[NonNegFloat] = Field(
        min_length=1, description="capacity of each state of the chain"
    )
    mean_sojourn_s: list[PositiveFloat] = Field(
        min_length=1, description="mean holding time of each state (one per rate)"
    )
    jump: list[list[NonNegFloat]] | None = Field(
        default=None,
        description="row k: probabilities of the next state on leaving k (default uniform)",
    )
    step_s: PositiveFloat | None = Field(
        default=None,
        description="discrete-time chain: holding times are geometric multiples of step_s [s]",
    )

    @model_validator(mode="after")
    def _shape(self) -> MarkovUplink:
        n = len(self.rates_bps)
        if len(self.mean_sojourn_s) != n:
            raise ValueError("mean_sojourn_s needs one entry per rate")
        if self.step_s is not None and min(self.mean_sojourn_s) < self.step_s:
            raise ValueError(f"every mean_sojourn_s must be at least step_s ({self.step_s})")
        if max(self.rates_bps) <= 0:
            raise ValueError("at least one rate must be > 0")
        if self.jump is not None:
            if len(self.jump) != n or any(len(row) != n for row in self.jump):
                raise ValueError(f"jump must be a {n}x{n} matrix")
            for k, row in enumerate(self.jump):
                if n > 1 and (row[k] != 0 or abs(sum(row) - 1) > 1e-9):
                    raise ValueError(f"jump row {k} must have a zero diagonal and sum to 1")
        return self

    def jump_matrix(self) -> np.ndarray:
        n = len(self.rates_bps)
        if self.jump is not None:
            return np.asarray(self.jump, dtype=float)
        if n == 1:
            return np.ones((1, 1))
        return (np.ones((n, n)) - np.eye(n)) / (n - 1)


class GilbertElliottUplink(Strict):
    """Two-state good/bad channel in continuous time (Gilbert-Elliott)."""

    kind: Literal["gilbert_elliott"]
    good_rate_bps: PositiveFloat = Field(description="capacity in the good state")
    bad_rate_bps: NonNegFloat = Field(
        default=0.0, description="capacity in the bad state (0: outage)"
    )
    mean_good_s: PositiveFloat = Field(
        description="mean holding time of the good state (exponential)"
    )
    mean_bad_s: PositiveFloat = Field(
        description="mean holding time of the bad state (exponential)"
    )
    step_s: PositiveFloat | None = Field(
        default=None, description="discrete-time GE: geometric holding times on this grid [s]"
    )

    def as_markov(self) -> MarkovUplink:
        return MarkovUplink(
            kind="markov",
            rates_bps=[self.good_rate_bps, self.bad_rate_bps],
            mean_sojourn_s=[self.mean_good_s, self.mean_bad_s],
            step_s=self.step_s,
        )

    @property
    def bad_fraction(self) -> float:
        return self.mean_bad_s / (self.mean_good_s + self.mean_bad_s)


UplinkConfig = Annotated[
    ConstantUplink
    | SeriesUplink
    | TraceUplink
    | MarkovUplink
    | GilbertElliottUplink
    | PhysicalUplink,
    Field(discriminator="kind"),
]


class CellConfig(Strict):
    """A radio cell or access point: its uplink capacity, sharing, radio power model, downlink."""

    name: str = Field(min_length=1, description="cell name, referred to by devices[].cell")
    node: str = Field(min_length=1, description="topology node of the base station / access point")
    radio: RadioKind | RadioPowerModel = Field(
        default="lte",
        description="device radio power model: a preset (lte, wifi, nr, 3g, none) or a mapping of "
        "its figures",
    )
    uplink: UplinkConfig = Field(
        description="each device's uplink capacity process (kind: constant, series, trace, "
        "markov, gilbert_elliott, physical)",
    )
    sharing: Literal["dedicated", "shared"] = Field(
        default="dedicated",
        description="dedicated: every device has its whole capacity; shared: active transfers "
        "share the cell (scheduler)",
    )
    scheduler: Scheduler = Field(
        default="round_robin",
        description="shared cells: round_robin (equal air time) or proportional_fair (serves "
        "each device near its own fading peaks: a gain only over physical links with fading; "
        "sim/channel/shared.py)",
    )
    pf_mean_snr_db: float | None = Field(
        default=None,
        description="removed: proportional_fair now takes each device's own mean SNR, fading "
        "law and rate mapping; leave it out",
    )
    channel_per_device: bool = Field(
        default=True,
        description="each device has its own realisation of the uplink process (false: one "
        "process for the whole cell)",
    )
    downlink_bps: PositiveFloat = Field(
        default=50e6,
        description="downlink rate of each device [bit/s] when no downlink process is given "
        "(shared in a shared cell); the same as downlink: {kind: constant, rate_bps: ...}",
    )
    downlink: UplinkConfig | None = Field(
        default=None,
        description="each device's downlink capacity process, any uplink kind (constant, series, "
        "trace, markov, gilbert_elliott, physical); shared like the uplink in a shared cell "
        "(null: constant at downlink_bps)",
    )
    propagation_s: NonNegFloat = Field(
        default=0.0,
        description="one-way air propagation and processing latency added to each transfer",
    )
    transfer_timeout_s: PositiveFloat | None = Field(
        default=None,
        description="an uplink transfer (retries included) not done after this long fails its "
        "request (null: no limit)",
    )
    errors: ErrorModelConfig | None = Field(
        default=None,
        description="block errors and HARQ (bler or gilbert_elliott); None: error-free",
    )
    retry: RetryConfig = Field(
        default=RetryConfig(),
        description="application-level retries of a whole payload after HARQ gave up",
    )

    @field_validator("pf_mean_snr_db")
    @classmethod
    def _removed_pf_mean_snr(cls, value: float | None) -> float | None:
        if value is not None:
            raise ValueError(
                "pf_mean_snr_db was removed: proportional_fair takes each device's own mean "
                "SNR, fading law and rate mapping (cap included); delete the key"
            )
        return value

    @model_validator(mode="after")
    def _one_downlink(self) -> CellConfig:
        if self.downlink is not None and "downlink_bps" in self.model_fields_set:
            raise ValueError(
                "give either downlink (a capacity process) or downlink_bps (a constant rate), "
                "not both"
            )
        return self

    def downlink_config(self) -> UplinkConfig:
        """The downlink's capacity process: ``downlink``, else constant at ``downlink_bps``."""
        if self.downlink is not None:
            return self.downlink
        return ConstantUplink(kind="constant", rate_bps=self.downlink_bps)

    def radio_model(self) -> RadioPowerModel:
        return RADIO_PRESETS[self.radio] if isinstance(self.radio, str) else self.radio


def resolve_trace(
    config: UplinkConfig, base_dir: Path, *, file: str | None, key: str
) -> Trace | None:
    """Load the trace a capacity config names (None for kinds without one)."""
    if isinstance(config, SeriesUplink):
        return config.as_trace()
    if not isinstance(config, TraceUplink):
        return None
    path = Path(config.path).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not path.exists():
        raise SimInputError("trace file not found", file=file, key=f"{key}.path", value=config.path)
    try:
        trace = read_trace_memo(  # each file read once per content (sim/file_memo.py)
            path,
            config.format,
            bin_s=config.bin_s,
            rate_column=config.rate_column,
            select=config.select,
            time_column=config.time_column,
            rate_unit=config.rate_unit,
            time_unit=config.time_unit,
        )
    except SimInputError as exc:
        raise SimInputError(
            exc.problem,
            file=exc.file,
            key=f"{key}.path" if exc.line is None else None,
            value=exc.value,
            allowed=exc.allowed,
            line=exc.line,
        ) from None
    if trace.mean_bps <= 0:
        raise SimInputError("trace never delivers any data (all rates are 0)", file=str(path))
    return trace.scaled(config.scale) if config.scale != 1.0 else trace


def build_capacity(
    config: UplinkConfig,
    trace: Trace | None,
    rng: np.random.Generator,
    *,
    horizon_s: float,
    skip_after_s: float | None = None,
    anchors_s: np.ndarray | None = None,
) -> Capacity:
    """A capacity process realisation drawn from ``rng``.

    ``skip_after_s`` and ``anchors_s``: let the capacity skip stretches nobody
    queries (:class:`~sim.channel.capacity.PiecewiseCapacity`); off by default.
    """
    # How far ahead a transfer's finish time is looked for: a transfer that has not
    # finished by 10 run lengths (at least an hour) is reported as never finishing.
    max_horizon = max(10.0 * horizon_s, 3600.0)
    if isinstance(config, ConstantUplink):
        return ConstantCapacity(config.rate_bps)
    source: SegmentSource
    if isinstance(config, PhysicalUplink):
        source = PhysicalSource(config, rng)
    elif isinstance(config, SeriesUplink | TraceUplink):
        assert trace is not None
        offset = rng.uniform(0.0, trace.duration_s) if config.random_offset else 0.0
        source = SeriesSource(trace.durations_s, trace.rates_bps, offset_s=offset, loop=config.loop)
    else:
        source = _markov_source(config, rng)
    return PiecewiseCapacity(
        source, max_horizon_s=max_horizon, skip_after_s=skip_after_s, anchors_s=anchors_s
    )


def _markov_source(
    config: MarkovUplink | GilbertElliottUplink, rng: np.random.Generator
) -> MarkovSource:
    markov = config.as_markov() if isinstance(config, GilbertElliottUplink) else config
    return MarkovSource(
        np.asarray(markov.rates_bps),
        np.asarray(markov.mean_sojourn_s),
        markov.jump_matrix(),
        rng,
        step_s=markov.step_s,
    )


def transmit_power_fn(capacity: Capacity):
    """``t -> transmit power [dBm]`` when the capacity's channel knows it (physical), else None."""
    source = getattr(capacity, "source", None)
    return getattr(source, "tx_power_dbm_at", None)
