"""Size guards: estimate what a scenario will allocate before anything is, and refuse
what would not fit, with the estimate and the knob to turn.

Each guard blames the key that drives the size (the largest device group's
``count``, a server's ``workers``, a channel's ``step_s``, a trace file), not a
bystander such as ``duration_s``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from sim.channel.physical import PhysicalUplink
from sim.channel.traces import Trace
from sim.scenario.schema import ScenarioSpec
from sim.workload import mean_rate_hz

# ~130 B of growable table row (29 columns) plus the DataFrame copies collect.py makes and
# the per-request objects in flight: the measured order of magnitude.
BYTES_PER_REQUEST_ESTIMATE = 400
# With outputs.stream_records the records are on disk; what stays in RAM per request is each
# device's arrival time (8 B) and the summary's pass over the window's latencies (~33 B at its
# peak), measured in docs/howto/long_runs.md.
STREAMED_BYTES_PER_REQUEST_ESTIMATE = 48
# Refuse (before allocating) a run whose records alone would not fit a 16 GiB workstation.
MEMORY_LIMIT_BYTES = 16 * 2**30
MAX_WORKERS = 100_000
"""Workers of one server (each a GPU or model instance, modelled one by one)."""
MIN_STEP_S = 1e-5
"""Shortest channel step [s]: below any radio's scheduling interval (NR's shortest slot is
15.6 us, 3GPP TS 38.211 Table 4.3.2-1 at 960 kHz), so a shorter one is a unit mistake."""
MAX_CHANNEL_STEPS = 2e9
"""Capacity-grid steps over the run, all channel processes together (~10 ns each)."""
MAX_RATE_BPS = 1e12
"""Fastest uplink a trace may claim [bit/s]: 1 Tbit/s, far above any radio today."""

TYPICAL_COUNT, TYPICAL_RATE_HZ, TYPICAL_DURATION_S = 100, 30.0, 3600.0
"""Scale of each factor of the request count, to say which one made it too large."""

Err = Callable[..., Exception]


def _requests(spec: ScenarioSpec, strategies: int, err: Err) -> None:
    horizon = spec.duration_s
    per_group = [
        g.count * mean_rate_hz(g.workload, horizon) * horizon * strategies for g in spec.devices
    ]
    background = sum(b.rate_hz for s in spec.servers for b in s.background) * horizon * strategies
    expected = sum(per_group) + background
    streamed = spec.outputs.stream_records
    per_request = STREAMED_BYTES_PER_REQUEST_ESTIMATE if streamed else BYTES_PER_REQUEST_ESTIMATE
    # streamed: strategies run one after another, each one's arrivals and summary pass alone
    in_ram = expected * per_request / (strategies if streamed else 1)
    gib = in_ram / 2**30
    if expected <= spec.max_requests and in_ram <= MEMORY_LIMIT_BYTES:
        return
    problem = (
        f"scenario too large: about {expected:,.0f} requests (~{gib:.1f} GiB of "
        f"{'memory with records on disk' if streamed else 'records'}; "
        f"{strategies} strategies x {horizon:g} s)"
    )
    allowed = (
        f"at most {spec.max_requests:,} requests and 16 GiB: lower the count, the rate or "
        "duration_s (or raise max_requests if you have the memory)"
    )
    if per_group and max(per_group) >= background:
        # Blame whichever of count, rate and duration is furthest above a typical value.
        gi = int(np.argmax(per_group))
        group = spec.devices[gi]
        rate = mean_rate_hz(group.workload, horizon)
        suspects = [
            (group.count / TYPICAL_COUNT, f"devices.{gi}.count", group.count),
            (rate / TYPICAL_RATE_HZ, f"devices.{gi}.workload", rate),
            (horizon / TYPICAL_DURATION_S, "duration_s", horizon),
        ]
        _, key, value = max(suspects, key=lambda item: item[0])
        raise err(problem, key, value, allowed)
    loads = [
        (b.rate_hz, f"servers.{si}.background.{bi}.rate_hz")
        for si, s in enumerate(spec.servers)
        for bi, b in enumerate(s.background)
    ]
    if loads:
        rate, key = max(loads)
        raise err(problem, key, rate, allowed)
    raise err(problem, "duration_s", horizon, allowed)


def _workers(spec: ScenarioSpec, err: Err) -> None:
    for i, server in enumerate(spec.servers):
        if server.workers > MAX_WORKERS:
            raise err(
                f"too many workers for one server (about {server.workers * 100 / 2**30:.1f} GiB "
                "of per-worker state)",
                f"servers.{i}.workers",
                server.workers,
                f"at most {MAX_WORKERS:,} (each worker is one GPU or model instance)",
            )


def _channels(spec: ScenarioSpec, traces: dict[str, Trace | None], err: Err) -> None:
    drain = spec.drain_s if spec.drain_s is not None else 0.0
    horizon = spec.duration_s + drain
    devices_in = {
        c.name: sum(g.count for g in spec.devices if g.cell == c.name) for c in spec.cells
    }
    total_steps = 0.0
    for i, cell in enumerate(spec.cells):
        processes = max(devices_in[cell.name], 1) if cell.channel_per_device else 1
        uplink: Any = cell.uplink
        if isinstance(uplink, PhysicalUplink):
            key = f"cells.{i}.uplink.step_s"
            if uplink.step_s < MIN_STEP_S:
                raise err(
                    "channel step shorter than any radio's scheduling interval",
                    key,
                    uplink.step_s,
                    f">= {MIN_STEP_S:g} s (LTE: 1e-3, NR: 1.25e-4 to 1e-3)",
                )
            total_steps += processes * horizon / uplink.step_s
            if total_steps > MAX_CHANNEL_STEPS:
                need = processes * horizon / MAX_CHANNEL_STEPS
                raise err(
                    f"channel grid too large: about {total_steps:.2g} steps "
                    f"({processes} channel processes x {horizon:g} s / step_s)",
                    key,
                    uplink.step_s,
                    f">= {need:.2g} s for this duration and device count, or fewer devices",
                )
        trace = traces.get(cell.name)
        if trace is None or not len(trace.rates_bps):
            continue
        where = f"cells.{i}.uplink"
        rates = trace.rates_bps
        if not np.all(np.isfinite(rates)) or float(rates.max()) > MAX_RATE_BPS:
            raise err(
                f"trace {trace.source} has a rate above 1 Tbit/s (a unit mix-up?)",
                where,
                float(rates.max()),
                f"rates <= {MAX_RATE_BPS:g} bit/s; check the trace's rate unit",
            )
        shortest = float(trace.durations_s.min())
        if shortest < MIN_STEP_S:
            raise err(
                f"trace {trace.source} has steps of {shortest:.2g} s, shorter than any "
                "radio's scheduling interval",
                where,
                shortest,
                f"steps >= {MIN_STEP_S:g} s (bin the trace, e.g. mahimahi bin_s)",
            )
        loops = math.ceil(horizon / max(trace.duration_s, 1e-300))
        total_steps += processes * len(rates) * min(loops, horizon / shortest)
        if total_steps > MAX_CHANNEL_STEPS:
            raise err(
                f"trace too fine for this run: about {total_steps:.2g} trace steps "
                f"({processes} devices x {horizon:g} s)",
                where,
                trace.source,
                "a coarser trace (bin it), a shorter duration_s or fewer devices",
            )


def check_sizes(
    spec: ScenarioSpec, traces: dict[str, Trace | None], strategies: int, err: Err
) -> None:
    """Refuse a scenario whose records, servers or channels would not fit (one line)."""
    _workers(spec, err)
    _requests(spec, strategies, err)
    _channels(spec, traces, err)
