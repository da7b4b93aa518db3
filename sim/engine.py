"""The SimPy engine: builds one run of one strategy and plays every request's life.

A request (DESIGN.md, "A request's life"): arrival -> policy picks a plan ->
head compute on the device's FIFO processor -> uplink over the device's link
(radio promotion, transfer, tail) -> wired path to the edge server -> queue,
dynamic batching and GPU service -> result back over the downlink. Each
request ends in exactly one outcome: ``completed``, ``completed_late``,
``dropped`` or ``failed``.

Random streams are named by component (``arrivals/<group>/<i>``,
``channel/<cell>/<group>/<i>``, ...) and never by strategy, so strategies
compared in one scenario see the same arrivals and channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import simpy

from sim.channel.capacity import Capacity
from sim.channel.config import build_capacity, transmit_power_fn
from sim.channel.link import DeviceUplink, RadioMeter, SharedCell, Window
from sim.device import Device
from sim.policies.base import DeviceView, Feedback
from sim.records import Table
from sim.rng import RandomStreams
from sim.scenario.load import GroupRuntime, Scenario
from sim.server import BATCH_COLUMNS, EdgeServer, Job
from sim.workload import arrival_times

OUTCOMES = ("completed", "completed_late", "dropped", "failed")
REASONS = ("", "device_queue_full", "server_queue_full", "transfer_failed", "unfinished")
KINDS = ("local", "offload", "split")
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
COMPLETED, LATE, DROPPED, FAILED = range(4)


def request_columns(groups: list[str], servers: list[str]) -> dict:
    spec: dict = {
        "group": tuple(groups),
        "device": np.int32,
        "variant": (),
        "kind": KINDS,
        "outcome": OUTCOMES,
        "reason": REASONS,
        "server": tuple(servers),
        "deadline_s": np.float64,
    }
    spec.update({name: np.float64 for name in TIME_COLUMNS})
    spec.update(
        {
            "batch_size": np.int32,
            "server_queue_len": np.int32,
            "payload_bytes": np.int64,
            "bytes_sent": np.float64,
            "e_compute_j": np.float64,
            "e_radio_j": np.float64,
            "accuracy": np.float64,
        }
    )
    return spec


BACKGROUND_COLUMNS = {
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
        server_names = [s.name for s in spec.servers]
        self.requests = Table(request_columns([g.spec.name for g in scenario.groups], server_names))
        self.batches = Table(dict(BATCH_COLUMNS)) if spec.outputs.per_batch else None
        self.background = Table(dict(BACKGROUND_COLUMNS))
        self._build_servers()
        self._build_devices()
        self._build_background()

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
        for group in sc.groups:
            cell = group.cell
            factory = sc.factory(group.spec.name, self.strategy)
            radio_model = cell.radio_model()
            trace = sc.traces[cell.name]
            for k in range(group.spec.count):
                if cell.channel_per_device:
                    rng = self.streams(f"channel/{cell.name}/{group.spec.name}/{k}")
                    capacity = build_capacity(cell.uplink, trace, rng, horizon_s=horizon)
                else:
                    if cell.name not in shared_capacity:
                        rng = self.streams(f"channel/{cell.name}")
                        shared_capacity[cell.name] = build_capacity(
                            cell.uplink, trace, rng, horizon_s=horizon
                        )
                    capacity = shared_capacity[cell.name]
                shared = None
                if cell.sharing == "shared":
                    shared = cells.get(cell.name)
                    if shared is None:
                        shared = cells[cell.name] = SharedCell(
                            env, cell.name, cell.scheduler, cell.pf_mean_snr_db
                        )
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
                times = arrival_times(
                    group.spec.workload, horizon, self.streams(f"arrivals/{group.spec.name}/{k}")
                )
                env.process(self._arrivals(device, group, times))
                index += 1
        self.cells = cells

    def _build_background(self) -> None:
        for config in self.scenario.spec.servers:
            server = self.servers[config.name]
            for i, load in enumerate(config.background):
                rng = self.streams(f"background/{config.name}/{i}")
                count = rng.poisson(load.rate_hz * self.scenario.spec.duration_s)
                times = np.sort(rng.uniform(0.0, self.scenario.spec.duration_s, size=count))
                self.env.process(self._background_arrivals(server, load.part, times))

    # ------------------------------------------------------------------ processes
    def _arrivals(self, device: Device, group: GroupRuntime, times: np.ndarray):
        env = self.env
        for t in times:
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(self._request(device, group))

    def _background_arrivals(self, server: EdgeServer, part: str, times: np.ndarray):
        env = self.env
        table = self.background
        server_code = table.code("server", server.config.name)
        part_code = table.code("part", part)
        for t in times:
            if t > env.now:
                yield env.timeout(t - env.now)
            row = table.new_row()
            table.columns["server"][row] = server_code
            table.columns["part"][row] = part_code
            table.columns["t_arrival"][row] = env.now
            job = Job(part, env.now, self._background_done, row)
            if not server.submit(job):
                table.columns["outcome"][row] = DROPPED

    def _background_done(self, job: Job) -> None:
        cols = self.background.columns
        cols["t_service_start"][job.row] = job.start_s
        cols["t_service_end"][job.row] = job.end_s
        cols["batch_size"][job.row] = job.batch_size
        cols["outcome"][job.row] = COMPLETED

    def _charge_tail(self, row: int, joules: float) -> None:
        self.requests.columns["e_radio_j"][row] += joules

    def _request(self, device: Device, group: GroupRuntime):
        env = self.env
        table = self.requests
        cols = table.columns
        now = env.now
        row = table.new_row()
        cols = table.columns  # re-fetch: new_row may have grown the arrays
        deadline = group.spec.deadline_s
        cols["group"][row] = group.index
        cols["device"][row] = device.index
        cols["t_arrival"][row] = now
        cols["deadline_s"][row] = deadline
        cols["e_compute_j"][row] = 0.0
        cols["e_radio_j"][row] = 0.0
        cols["bytes_sent"][row] = 0.0

        view = DeviceView(
            now, device.index, device.on_device, device.free_at_s, device.uplink.free_at_s
        )
        plan = device.policy.choose(view)
        cols["variant"][row] = table.code("variant", plan.name)
        cols["kind"][row] = KINDS.index(plan.kind)
        cols["payload_bytes"][row] = plan.payload_bytes
        cols["accuracy"][row] = plan.accuracy

        max_pending = group.spec.max_pending
        if max_pending is not None and view.pending >= max_pending:
            self._end(row, now, DROPPED, "device_queue_full", device, plan)
            return

        device.on_device += 1
        start, end, energy = device.reserve(now, plan.device_s, plan.device_w)
        cols["t_head_start"][row] = start
        cols["t_head_end"][row] = end
        cols["e_compute_j"][row] = energy
        if end > now:
            yield env.timeout(end - now)
        if plan.kind == "local":
            device.on_device -= 1
            self._end(row, env.now, None, "", device, plan)
            return

        # Uplink.
        bits = 8.0 * plan.payload_bytes
        result = yield device.uplink.transfer(row, bits)
        device.on_device -= 1
        cols = table.columns
        cols["t_uplink_start"][row] = result.start_s
        cols["t_tx_start"][row] = result.tx_start_s
        cols["t_uplink_end"][row] = result.end_s
        cols["bytes_sent"][row] = result.bits_sent / 8.0
        cols["e_radio_j"][row] += result.energy_j
        if not result.ok:
            self._end(
                row,
                env.now,
                FAILED,
                "transfer_failed",
                device,
                plan,
                result.end_s - result.tx_start_s,
            )
            return

        # Wired path to the server (and server-side JPEG decode for offloading).
        server_name = group.server or group.server_order[0]
        server = self.servers[server_name]
        path = group.paths[server_name]
        cell = group.cell
        delay = cell.propagation_s + path.delay_s(plan.payload_bytes)
        if plan.kind == "offload":
            delay += self.scenario.servers[server_name].jpeg_decode_s.value
        yield env.timeout(delay)
        cols = table.columns
        cols["server"][row] = server.index
        cols["t_server_arrival"][row] = env.now

        assert plan.server is not None
        done = env.event()
        job = Job(plan.server.key, env.now, done.succeed, row)
        if not server.submit(job):
            self._end(
                row,
                env.now,
                DROPPED,
                "server_queue_full",
                device,
                plan,
                result.end_s - result.tx_start_s,
            )
            return
        yield done
        cols = table.columns
        cols["t_service_start"][row] = job.start_s
        cols["t_service_end"][row] = job.end_s
        cols["batch_size"][row] = job.batch_size
        cols["server_queue_len"][row] = job.queue_len_at_start

        # Result back: wired path, then the cell's downlink.
        back = path.delay_s(group.spec.result_bytes) + cell.propagation_s
        back += 8.0 * group.spec.result_bytes / cell.downlink_bps
        yield env.timeout(back)
        self._end(
            row,
            env.now,
            None,
            "",
            device,
            plan,
            result.end_s - result.tx_start_s,
            job.queue_len_at_start,
        )

    def _end(
        self,
        row: int,
        now: float,
        outcome: int | None,
        reason: str,
        device: Device,
        plan,
        uplink_s: float = 0.0,
        queue_len: int = -1,
    ) -> None:
        cols = self.requests.columns
        latency = now - cols["t_arrival"][row]
        if outcome is None:
            outcome = COMPLETED if latency <= cols["deadline_s"][row] else LATE
        cols["outcome"][row] = outcome
        cols["reason"][row] = REASONS.index(reason)
        cols["t_done"][row] = now
        device.policy.observe(
            Feedback(
                now,
                plan,
                OUTCOMES[outcome],
                float(cols["bytes_sent"][row]) * 8.0,
                uplink_s,
                latency,
                queue_len,
                float(cols["t_service_start"][row] - cols["t_server_arrival"][row]),
            )
        )

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
        for device in self.devices:
            device.radio.close()
        return self._collect(interrupted)

    def _truncate_window(self, now_s: float) -> None:
        """After an interruption, measure only up to the simulated time reached."""
        window = Window(self.window.start_s, max(self.window.start_s, min(self.window.end_s, now_s)))
        self.window = window
        for device in self.devices:
            device.window = window
            device.radio.window = window
        for server in self.servers.values():
            server.window = (window.start_s, window.end_s)

    def _ticker(self, progress):
        step = max(self.end_s / 200.0, 1e-6)
        while True:
            yield self.env.timeout(step)
            progress(self.env.now)

    def _collect(self, interrupted: bool) -> RunResult:
        table = self.requests
        n = table.n
        cols = table.columns
        unfinished = cols["outcome"][:n] == -1
        cols["outcome"][:n][unfinished] = FAILED
        cols["reason"][:n][unfinished] = REASONS.index("unfinished")
        requests = table.frame()
        requests.insert(0, "strategy", self.strategy)
        background = self.background.frame()
        bg_unfinished = background["outcome"].isna()
        if bg_unfinished.any():
            background.loc[bg_unfinished, "outcome"] = "failed"
        background.insert(0, "strategy", self.strategy)
        batches = (
            self.batches.frame()
            if self.batches is not None
            else pd.DataFrame(columns=list(BATCH_COLUMNS))
        )
        if self.batches is not None:
            batches["server"] = (
                pd.Categorical.from_codes(
                    batches["server"].to_numpy(np.int64),
                    categories=[s.name for s in self.scenario.spec.servers],
                )
                if len(batches)
                else pd.Categorical([], categories=[s.name for s in self.scenario.spec.servers])
            )
        batches.insert(0, "strategy", self.strategy)
        device_rows = []
        groups = self.scenario.groups
        for device in self.devices:
            parts = device.energy_components_j()
            device_rows.append(
                {
                    "strategy": self.strategy,
                    "group": groups[device.group].spec.name,
                    "device": device.index,
                    "index_in_group": device.index_in_group,
                    **{f"e_{k}_j": v for k, v in parts.items()},
                    "e_total_j": float(sum(parts.values())),
                    "window_s": self.window.end_s - self.window.start_s,
                    **{f"policy_{k}": v for k, v in device.policy.stats().items()},
                }
            )
        devices = pd.DataFrame(device_rows)
        server_rows = []
        window_len = self.window.end_s - self.window.start_s
        for name, server in self.servers.items():
            workers = server.config.workers
            busy = server.busy_window_s
            idle_j = server.idle_w * max(0.0, workers * window_len - busy)  # one board per worker
            server_rows.append(
                {
                    "strategy": self.strategy,
                    "server": name,
                    "workers": workers,
                    "utilisation": busy / (workers * window_len),
                    "batches": server.batch_count,
                    "dropped": server.dropped,
                    "e_busy_j": server.energy_window_j,
                    "e_idle_j": idle_j,
                    "max_concurrent_uplinks": max(
                        (c.max_concurrent for c in self.cells.values()), default=0
                    ),
                }
            )
        return RunResult(
            strategy=self.strategy,
            seed=self.seed,
            window=self.window,
            end_s=float(self.env.now),
            requests=requests,
            batches=batches,
            background=background,
            devices=devices,
            servers=pd.DataFrame(server_rows),
            capacity=self.capacity,
            interrupted=interrupted,
        )


def run_strategy(
    scenario: Scenario, strategy: str, seed: int | None = None, progress=None
) -> RunResult:
    """Build and run one strategy of ``scenario``."""
    if strategy not in scenario.strategy_labels:
        raise KeyError(strategy)
    return Run(scenario, strategy, seed).run(progress)
