"""Long-run mean capacities of a cell's uplink and downlink per device [bit/s].

What the decision policies take as the channel's nominal rate (:mod:`sim.policies.costs`).
Constant: its rate; series and traces: the time average over one period; Markov and
Gilbert-Elliott: the stationary mean. Other kinds: the source's closed-form mean if it has
one, else the average of one realisation over 600 s drawn from a private stream (never one
of the run's streams).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.policies.context import memo_on_settings

if TYPE_CHECKING:
    from sim.channel.config import UplinkConfig
    from sim.channel.traces import Trace
    from sim.policies.context import GroupContext


def mean_uplink_bps(ctx: GroupContext) -> float | None:
    """The cell's long-run mean uplink capacity per device [bit/s], or None if unknown.

    Constant: its rate; series and traces: the time average over one period;
    Markov and Gilbert-Elliott: the stationary mean. Other kinds: the source's
    closed-form mean if it has one, else the average of one realisation over 600 s
    drawn from a private stream (never one of the run's streams).
    """
    runtime = ctx.runtime
    if runtime is None:
        return None
    return _mean_capacity_bps(runtime.cell.uplink, ctx.trace, "policies/mean_uplink")


def mean_downlink_bps(ctx: GroupContext) -> float:
    """The cell's long-run mean downlink capacity per device [bit/s] (``cells[].downlink``,
    default constant at ``downlink_bps``); a trace downlink is read through the loader."""
    runtime = ctx.runtime
    assert runtime is not None
    from pathlib import Path

    from sim.channel.config import resolve_trace

    downlink = runtime.cell.downlink_config()
    base = Path(ctx.file).parent if ctx.file else Path(".")
    trace = resolve_trace(downlink, base, file=ctx.file, key="cells.downlink")
    mean = _mean_capacity_bps(downlink, trace, "policies/mean_downlink")
    assert mean is not None, "every downlink kind has a mean"
    return mean


def _mean_capacity_bps(config: UplinkConfig, trace: Trace | None, name: str) -> float | None:
    """A capacity process's long-run mean [bit/s] (None: a kind that cannot be built alone)."""
    from sim.channel import config as channel_config
    from sim.channel.capacity import ConstantCapacity
    from sim.channel.sources import MarkovSource
    from sim.rng import stream

    if isinstance(config, channel_config.ConstantUplink):
        return float(config.rate_bps)
    if trace is not None:
        return float(trace.mean_bps)
    if isinstance(config, channel_config.GilbertElliottUplink):
        config = config.as_markov()
    if isinstance(config, channel_config.MarkovUplink):
        source = MarkovSource(
            np.asarray(config.rates_bps),
            np.asarray(config.mean_sojourn_s),
            config.jump_matrix(),
            stream(0, name),
            initial=0,
        )
        return source.long_run_mean_bps()

    def realised_mean_bps() -> float | None:
        try:
            capacity = channel_config.build_capacity(config, None, stream(0, name), horizon_s=600.0)
        except Exception:  # a channel kind this module does not know how to build alone
            return None
        if isinstance(capacity, ConstantCapacity):
            return capacity.rate_bps
        segments = getattr(capacity, "source", None)
        mean = segments.long_run_mean_bps() if segments is not None else None
        return float(mean) if mean is not None else capacity.mean_rate_bps(600.0)

    return memo_on_settings(name, config, realised_mean_bps)  # ~25 ms a draw
