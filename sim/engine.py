"""The SimPy engine: builds one run of one strategy and plays every request's life.

A request (DESIGN.md, "A request's life"): arrival -> policy picks a plan ->
head compute on the device's FIFO processor -> uplink over the device's link
(radio promotion, transfer, tail) -> wired path to the edge server -> queue,
dynamic batching and GPU service -> result back over the downlink. Each
request ends in exactly one outcome: ``completed``, ``completed_late``,
``dropped`` or ``failed``.

Events only where something shared can change: a request's arrival (its device
decides), its arrival at the server (the queue is shared) and, in a shared
cell, the start of its transfer. Everything in between is arithmetic on state
that only the request's own device touches: the FIFO processor, a dedicated
link (by integrating its capacity), the wired path and, after its batch, the
way back. A request that would end after the run (duration + drain) is
``failed`` with reason ``unfinished``.

Random streams are named by component (``arrivals/<group>/<i>``,
``channel/<cell>/<group>/<i>``, ...) and never by strategy, so strategies
compared in one scenario see the same arrivals and channel.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import simpy

import sim.record_stream as stream
from sim.channel.capacity import DEFAULT_SKIP_AFTER_S, Capacity
from sim.channel.config import build_capacity, transmit_power_fn
from sim.channel.intercell import build_cells, cell_names
from sim.channel.link import DeviceUplink, RadioMeter, SharedCell, TransferResult, Window
from sim.collect import (
    BACKGROUND_COLUMNS,
    COMPLETED,
    DROPPED,
    FAILED,
    KINDS,
    LATE,
    OUTCOMES,
    REASONS,
    REQUEST_COLUMNS,
    TIME_COLUMNS,
    RunResult,
    collect,
)
from sim.device import Device
from sim.exits.draws import decide_exit
from sim.legs import Legs
from sim.plans import Plan
from sim.policies.base import DeviceView, Feedback
from sim.records import Table
from sim.rng import RandomStreams
from sim.routing import Route, Router
from sim.scenario.model import GroupRuntime, Scenario
from sim.selection.registry import build_selectors
from sim.server import BATCH_COLUMNS, EdgeServer, Job
from sim.tenants import start_background
from sim.workload import arrival_times

__all__ = ["KINDS", "OUTCOMES", "REASONS", "TIME_COLUMNS", "Run", "RunResult", "run_strategy"]

REASON_CODE = {name: i for i, name in enumerate(REASONS)}


class _Request:
    """A request on its way: its table row, device and plan, and its transfer time after
    promotion [s] (0 until it has uplinked); what :meth:`Run._finish` needs besides the end."""

    __slots__ = ("device", "plan", "row", "uplink_s")

    def __init__(self, row: int, device: Device, plan: Plan, uplink_s: float = 0.0) -> None:
        self.row = row
        self.device = device
        self.plan = plan
        self.uplink_s = uplink_s


class Run:
    """One simulation run of one strategy of a scenario."""

    def __init__(self, scenario: Scenario, strategy: str, seed: int | None = None) -> None:
        self.scenario = scenario
        self.strategy = strategy
        spec = scenario.spec
        self.seed = spec.seed if seed is None else int(seed)
        self.streams = RandomStreams(self.seed)
        self.env = simpy.Environment()
        self.window = Window(spec.warmup_s, spec.duration_s)
        max_deadline = max((g.spec.deadline_s for g in scenario.groups), default=1.0)
        self.drain_s = spec.drain_s if spec.drain_s is not None else 10.0 * max_deadline
        self.end_s = spec.duration_s + self.drain_s
        self.batches = Table(dict(BATCH_COLUMNS)) if spec.outputs.per_batch else None
        self.background = Table(dict(BACKGROUND_COLUMNS))
        self.plans: list[Plan] = []
        self._plan_index: dict[int, int] = {}
        self._build_servers()
        self.router = Router(scenario, self.servers, self._reached, self._home)
        self.selectors = build_selectors(self.env, scenario.groups, self.servers)
        self._cell_code = {name: i for i, name in enumerate(self.router.cell_names)}
        self._build_devices()
        self.router.legs = Legs.for_run(self)  # backhaul queues and downlinks (sim/legs.py)
        start_background(self.env, scenario, self.servers, self.streams, self.background)

    # ------------------------------------------------------------------ building
    def _build_servers(self) -> None:
        sc = self.scenario
        self.servers: dict[str, EdgeServer] = {}
        for i, config in enumerate(sc.spec.servers):
            services = {
                part: model
                for (name, part), model in sc.service_models.items()
                if name == config.name
            }
            self.servers[config.name] = EdgeServer(
                self.env,
                i,
                config,
                services,
                self.streams(f"server/{config.name}/service"),
                self.batches,
                sc.servers[config.name].idle_w.value,
                (self.window.start_s, self.window.end_s),
            )

    def _build_devices(self) -> None:
        sc = self.scenario
        env = self.env
        horizon = sc.spec.duration_s
        self.devices: list[Device] = []
        self.capacity: dict[int, Capacity] = {}
        cells: dict[str, SharedCell] = {}
        shared_capacity: dict[str, Capacity] = {}
        index = 0
        arrivals: list[np.ndarray] = []
        for group in sc.groups:
            cell = group.cell
            factory = sc.factory(group.spec.name, self.strategy)
            radio_model = cell.radio_model()
            trace = sc.traces[cell.name]
            for k in range(group.spec.count):
                times = arrival_times(
                    group.spec.workload, horizon, self.streams(f"arrivals/{group.spec.name}/{k}")
                )
                # A device needs its channel only around its transfers: its capacity may skip
                # what nobody asks for, landing on arrival times (common to all strategies).
                # One process shared by all the cell's devices is asked at every device's
                # times, which do not come in order: it is generated in full.
                if cell.channel_per_device:
                    rng = self.streams(f"channel/{cell.name}/{group.spec.name}/{k}")
                    capacity = build_capacity(
                        cell.uplink,
                        trace,
                        rng,
                        horizon_s=horizon,
                        skip_after_s=DEFAULT_SKIP_AFTER_S,
                        anchors_s=times,
                    )
                else:
                    if cell.name not in shared_capacity:
                        rng = self.streams(f"channel/{cell.name}")
                        shared_capacity[cell.name] = build_capacity(
                            cell.uplink, trace, rng, horizon_s=horizon
                        )
                    capacity = shared_capacity[cell.name]
                shared = build_cells(env, cell, cells)  # one, or one per station, or None
                radio = RadioMeter(
                    radio_model, self.window, self._charge_tail, transmit_power_fn(capacity)
                )
                errors_rng = (
                    self.streams(f"channel/{cell.name}/{group.spec.name}/{k}/errors")
                    if cell.errors is not None
                    else None
                )
                uplink = DeviceUplink(
                    env,
                    index,
                    capacity,
                    radio,
                    cell=shared,
                    cell_names=cell_names(cell),
                    timeout_s=cell.transfer_timeout_s,
                    errors=cell.errors,
                    retry=cell.retry,
                    rng=errors_rng,
                )
                device = Device(
                    index,
                    group.index,
                    k,
                    factory.make(index),
                    uplink,
                    radio,
                    group.device.power.idle_w.value,
                    self.window,
                )
                self.devices.append(device)
                self.capacity[index] = capacity
                arrivals.append(times)
                index += 1
        self.cells = cells
        self._merge_arrivals(arrivals)

    def _merge_arrivals(self, arrivals: list[np.ndarray]) -> None:
        """All devices' arrivals in time order (ties: device order), merged a block at a time
        (sim/record_stream.py); one table row each, on files if ``outputs.stream_records``."""
        blocks = stream.ArrivalBlocks(arrivals, stream.exit_streams(self))
        spec, rows = dict(REQUEST_COLUMNS), blocks.total
        on_disk = self.scenario.spec.outputs.stream_records
        self.requests = (
            stream.spill_table(spec, rows) if on_disk else Table(spec, capacity=max(rows, 1))
        )
        self.requests.n = rows
        self._admitted = 0  # arrivals admitted so far (rows [0, _admitted) were simulated)
        self._exit_draws: tuple | None = None  # progressive plans: the block's exit draws
        self._exit_work: dict[int, float] = {}  # row -> share of the server tail it needs
        self.env.process(self._arrivals(blocks))

    # ------------------------------------------------------------------ processes
    def _charge_tail(self, row: int, joules: float) -> None:
        column = self.requests.columns["e_radio_j"]
        column[row] = joules if math.isnan(column[row]) else column[row] + joules

    # ------------------------------------------------------------------ a request's life
    def _arrivals(self, blocks: stream.ArrivalBlocks):
        """Wake at each arrival, in time order, and admit it (rows laid out a block at a time)."""
        env = self.env
        devices = self.devices
        groups = [self.scenario.groups[d.group] for d in devices]
        admit = self._admit
        for block in blocks:
            stream.lay_out_block(self.requests, block)
            if block.exit_uniform is not None:
                self._exit_draws = block.exit_draws()
            row = block.start
            for t, d in zip(block.times.tolist(), block.devices.tolist(), strict=True):
                if t > env.now:
                    yield env.timeout(t - env.now)
                self._admitted = row + 1  # before admitting: an interrupt inside keeps the row
                admit(row, devices[d], groups[d])
                row += 1

    def _plan_code(self, plan: Plan) -> int:
        code = self._plan_index.get(id(plan))
        if code is None:
            code = self._plan_index[id(plan)] = len(self.plans)
            self.plans.append(plan)
        return code

    def _admit(self, row: int, device: Device, group: GroupRuntime) -> None:
        """Arrival: decide, queue the head compute and, on a dedicated link, the upload."""
        now = self.env.now
        cols = self.requests.columns
        if device.wants_feedback:
            device.deliver(now)
        pending = device.pending(now)
        plan = device.policy.choose(
            DeviceView(now, device.index, pending, device.free_at_s, device.uplink.free_at_s)
        )
        code = self._plan_code(plan)
        cols["plan"][row] = code
        max_pending = group.spec.max_pending
        if max_pending is not None and pending >= max_pending:
            self._finish(_Request(row, device, plan), now, DROPPED, "device_queue_full")
            return
        device_s, exit_here = plan.device_s, False
        if plan.exits is not None:
            device_s, exit_here = decide_exit(self, row, plan, group)
        start, head_end, energy = device.reserve(now, device_s, plan.device_w)
        cols["t_head_start"][row] = start
        cols["t_head_end"][row] = head_end
        cols["e_compute_j"][row] = energy
        if plan.kind == "local" or exit_here:
            device.hold_until(head_end)
            self._finish(_Request(row, device, plan), head_end, None, "")
            return
        uplink = device.uplink
        if uplink.cell is None:
            result = uplink.dedicated(row, head_end, 8.0 * plan.payload_bytes)
            device.hold_until(result.end_s)
            self._uplinked(row, device, group, plan, code, result)
        else:
            device.hold_until(None)
            if head_end < self.end_s:
                self._at(head_end, self._start_shared, row, device, group, plan, code)

    def _start_shared(
        self, row: int, device: Device, group: GroupRuntime, plan: Plan, code: int
    ) -> None:
        def done(result: TransferResult) -> None:
            device.release()
            self._uplinked(row, device, group, plan, code, result)

        device.uplink.send(row, 8.0 * plan.payload_bytes, done)

    def _uplinked(
        self,
        row,
        device: Device,
        group: GroupRuntime,
        plan: Plan,
        code: int,
        result: TransferResult,
    ) -> None:
        """The upload ended (now for a shared cell, possibly later on a dedicated link)."""
        cols = self.requests.columns
        cols["t_uplink_start"][row] = result.start_s
        cols["t_tx_start"][row] = result.tx_start_s
        cols["t_uplink_end"][row] = result.end_s
        cols["bytes_sent"][row] = result.bits_sent / 8.0
        self._charge_tail(row, result.energy_j)
        cell = result.cell or group.cell.name  # the cell (or station cell) that carried its end
        cols["cell"][row] = self._cell_code[cell]
        request = _Request(row, device, plan, result.end_s - result.tx_start_s)
        if not result.ok:
            self._finish(request, result.end_s, FAILED, "transfer_failed")
            return
        depart = result.end_s
        selector = self.selectors[group.index]
        if not selector.static and depart > self.env.now:
            # A dedicated upload ends later: the server is chosen when the payload leaves.
            if depart < self.end_s:
                self._at(depart, self._depart, request, group, code, depart, cell)
            return
        self._depart(request, group, code, depart, cell)

    def _depart(
        self,
        request: _Request,
        group: GroupRuntime,
        code: int,
        depart_s: float,
        cell: str,
    ) -> None:
        """The payload leaves ``cell`` at ``depart_s``: its server, then the way there."""
        selector = self.selectors[group.index]
        server = selector.static_server(cell)
        plan = request.plan
        if server is None:
            if not selector.candidates.get(cell):
                raise RuntimeError(
                    f"group '{group.spec.name}': no candidate server is reachable from cell "
                    f"'{cell}' (network.links, devices.{group.index}.selection.servers)"
                )
            device = request.device
            server = selector.choose(
                cell,
                self.env.now,
                plan,
                lambda s: self.router.route(group, cell, plan, code, s.config.name),
                self.streams(f"selection/{group.spec.name}/{device.index_in_group}"),
            )
        route = self.router.route(group, cell, plan, code, server.config.name)
        self.requests.columns["server"][request.row] = server.index
        self.router.to_server(route, depart_s, request)

    def _reached(self, arrive_s: float, request: _Request, route: Route) -> None:
        """Router callback: the payload is at the server at ``arrive_s`` (or never, after the run)."""
        if arrive_s < self.end_s:
            self._at(arrive_s, self._at_server, request, route)

    def _at_server(self, request: _Request, route: Route) -> None:
        now = self.env.now
        row, plan = request.row, request.plan
        self.requests.columns["t_server_arrival"][row] = now
        assert plan.server is not None
        job = Job(plan.server.key, now, self._served, row, (request, route))
        if self._exit_work:
            job.work_fraction = self._exit_work.pop(row, 1.0)
        if not route.server.submit(job):
            self._finish(request, now, DROPPED, "server_queue_full")

    def _served(self, job: Job) -> None:
        """Its batch ended: service stamps, then the way back (wired path and downlink)."""
        row = job.row
        request, route = cast(tuple[_Request, Route], job.ctx)
        cols = self.requests.columns
        cols["t_service_start"][row] = job.start_s
        cols["t_service_end"][row] = job.end_s
        cols["batch_size"][row] = job.batch_size
        cols["server_queue_len"][row] = job.queue_len_at_start
        self.router.way_back(route, job.end_s, request, job)

    def _home(self, done_s: float, request: _Request, job: Job, ok: bool = True) -> None:
        """Router callback: the result is back on the device at ``done_s`` (or, not ``ok``,
        its downlink ended first: a non-looping downlink trace ran out)."""
        self._finish(
            request,
            done_s,
            None if ok else FAILED,
            "" if ok else "transfer_failed",
            queue_len=job.queue_len_at_start,
            server_wait_s=job.start_s - job.arrival_s,
        )

    def _finish(
        self,
        request: _Request,
        done_s: float,
        outcome: int | None,
        reason: str,
        *,
        queue_len: int = -1,
        server_wait_s: float = math.nan,
    ) -> None:
        """The request's terminal outcome at ``done_s`` (unfinished if after the run)."""
        if done_s > self.end_s:
            return  # collected as failed / unfinished
        row, device, plan, uplink_s = request.row, request.device, request.plan, request.uplink_s
        cols = self.requests.columns
        latency = done_s - cols["t_arrival"][row]
        if outcome is None:
            outcome = (
                COMPLETED if latency <= self.scenario.groups[device.group].spec.deadline_s else LATE
            )
        cols["outcome"][row] = outcome
        if reason:
            cols["reason"][row] = REASON_CODE[reason]
        cols["t_done"][row] = done_s
        if device.wants_feedback:
            sent = cols["bytes_sent"][row]
            device.learn(
                Feedback(
                    done_s,
                    plan,
                    OUTCOMES[outcome],
                    0.0 if math.isnan(sent) else sent * 8.0,
                    uplink_s,
                    latency,
                    queue_len,
                    server_wait_s,
                )
            )

    def _at(self, t_s: float, callback, *args) -> None:
        """Call ``callback(*args)`` at simulated time ``t_s`` (one event)."""
        event = self.env.timeout(t_s - self.env.now)
        event.callbacks.append(lambda _event: callback(*args))

    # ------------------------------------------------------------------ running
    def run(self, progress=None) -> RunResult:
        """Simulate to duration + drain; ``progress(sim_time_s)`` is called as time passes."""
        interrupted = False
        if progress is not None:
            self.env.process(self._ticker(progress))
        try:
            self.env.run(until=self.end_s)
        except KeyboardInterrupt:
            interrupted = True
            self._truncate_window(self.env.now)
            # Rows were laid out for every arrival up front; those never admitted were not
            # simulated, so they are not recorded (not even as failed / unfinished).
            self.requests.n = min(self.requests.n, self._admitted)
        except BaseException:
            if isinstance(self.requests, stream.SpillTable):
                self.requests.close()  # a failed run's spilled records go at once
            raise
        now = self.env.now
        for device in self.devices:
            device.radio.close()
            if device.wants_feedback:
                device.deliver(now)
        return collect(self, interrupted)

    def _truncate_window(self, now_s: float) -> None:
        """After an interruption, measure only up to the simulated time reached."""
        window = Window(
            self.window.start_s, max(self.window.start_s, min(self.window.end_s, now_s))
        )
        self.window = window
        for device in self.devices:
            device.window = window
            device.radio.window = window
        for server in self.servers.values():
            server.window = (window.start_s, window.end_s)
        if self.router.legs is not None:
            self.router.legs.backhaul.window = (window.start_s, window.end_s)

    def _ticker(self, progress):
        step = max(self.end_s / 200.0, 1e-6)
        while True:
            yield self.env.timeout(step)
            progress(self.env.now)


def run_strategy(
    scenario: Scenario, strategy: str, seed: int | None = None, progress=None
) -> RunResult:
    """Build and run one strategy of ``scenario``."""
    if strategy not in scenario.strategy_labels:
        raise KeyError(strategy)
    return Run(scenario, strategy, seed).run(progress)
