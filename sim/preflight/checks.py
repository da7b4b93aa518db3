"""Queueing, deadline, uplink, server and warm-up checks (arithmetic on the resolved scenario)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.preflight.findings import Finding, Prediction

if TYPE_CHECKING:
    from sim.plans import Plan
    from sim.scenario.model import GroupRuntime, Scenario

RELAXATION_TIMES = 3.0
"""Warm-up wanted, in relaxation times of the slowest queue (e^-3: 5 % of the start-up bias)."""


def _context(scenario: Scenario, group: GroupRuntime):
    try:
        from sim.policies.base import GroupContext  # where the design wants it
    except ImportError:
        from sim.policies.registry import GroupContext

    return GroupContext(
        group.model,
        group.device,
        dict(group.spec.accuracy),
        str(scenario.path) if scenario.path else None,
        f"devices.{group.spec.name}",
        group,
        scenario.servers,
        {s.name: s for s in scenario.spec.servers},
        scenario.traces.get(group.cell.name),
    )


def _cost_model(scenario: Scenario, group: GroupRuntime, plans: Iterable[Plan]):
    from sim.policies.costs import CostModel

    return CostModel(_context(scenario, group), list(plans))


def _arrival_rate_hz(scenario: Scenario, group: GroupRuntime) -> float:
    from sim.workload import mean_rate_hz

    return float(mean_rate_hz(group.spec.workload, scenario.spec.duration_s))


def _random_arrivals(group: GroupRuntime) -> bool:
    from sim.workload import OnOff, Poisson

    return isinstance(group.spec.workload, Poisson | OnOff)


def _peak_uplink_bps(group: GroupRuntime, scenario: Scenario, mean_bps: float | None) -> float:
    """The highest rate the uplink process can take [bit/s] (the mean where unknown)."""
    from sim.channel import config as ch

    uplink = group.cell.uplink
    trace = scenario.traces.get(group.cell.name)
    if isinstance(uplink, ch.ConstantUplink):
        return float(uplink.rate_bps)
    if isinstance(uplink, ch.MarkovUplink):
        return float(max(uplink.rates_bps))
    if isinstance(uplink, ch.GilbertElliottUplink):
        return float(uplink.good_rate_bps)
    if trace is not None:
        return float(np.max(trace.rates_bps))
    if isinstance(uplink, ch.PhysicalUplink):
        top = uplink.link.rate_bps(np.array([60.0]), np.array([-20.0]))
        return float(top[0])
    return float(mean_bps or math.inf)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.0f} ms" if seconds >= 0.01 else f"{seconds * 1e3:.2f} ms"


def _mbps(bps: float) -> str:
    return f"{bps / 1e6:.3g} Mbit/s"


# ---------------------------------------------------------------- checks


def device_and_deadline(scenario: Scenario) -> tuple[list[Finding], list[Prediction]]:
    from sim.policies.config import strategy_label
    from sim.policies.costs import best

    findings: list[Finding] = []
    predictions: list[Prediction] = []
    strategies = {strategy_label(c): c for c in scenario.strategies}
    for group in scenario.groups:
        name = group.spec.name
        rate_hz = _arrival_rate_hz(scenario, group)
        for label in scenario.strategy_labels:
            plans = scenario.factory(name, label).plans
            if not plans:
                continue
            fastest = min(plans, key=lambda p: p.device_s)
            rho = rate_hz * fastest.device_s
            if rho >= 1.0:
                bounded = group.spec.max_pending
                outcome = (
                    f"requests beyond {bounded} pending are dropped"
                    if bounded
                    else "its queue grows without bound"
                )
                findings.append(
                    Finding(
                        "device_overload",
                        f"devices.{name}",
                        f"local compute {_ms(fastest.device_s)} per request ({fastest.name}) is "
                        f"slower than the arrivals (one every {_ms(1.0 / rate_hz)}): "
                        f"utilisation {rho:.2f} >= 1, {outcome}",
                        [label],
                    )
                )
            model = _cost_model(scenario, group, plans)
            mean_bps = model.nominal_rate_bps
            peak_bps = _peak_uplink_bps(group, scenario, mean_bps)
            best_s, best_plan = math.inf, fastest
            for plan in plans:
                cost = model.costs[plan.name]
                latency = model.latency_s(
                    cost, peak_bps, server_wait_s=model.idle_server_wait_s, promoted=0.0
                )
                if latency < best_s:
                    best_s, best_plan = latency, plan
            deadline = group.spec.deadline_s
            if best_s > deadline:
                where = (
                    f" at the peak uplink rate {_mbps(peak_bps)}"
                    if best_plan.kind != "local"
                    else ""
                )
                findings.append(
                    Finding(
                        "deadline_unreachable",
                        f"devices.{name}.deadline_s",
                        f"the deadline {_ms(deadline)} is below the fastest possible latency "
                        f"{_ms(best_s)} ({best_plan.name}{where}, idle server): every request misses",
                        [label],
                    )
                )
            if mean_bps is not None or all(p.kind == "local" for p in plans):
                rate = mean_bps if mean_bps is not None else math.inf
                wait = model.idle_server_wait_s + model.background_wait_s
                config = strategies.get(label)
                floor = getattr(config, "min_accuracy", None)
                budget = getattr(config, "energy_budget_j", None)
                estimates = [
                    model.steady_state(model.costs[p.name], rate, wait, budget, floor)
                    for p in plans
                ]
                objective = getattr(config, "objective", "latency")
                chosen = best(estimates, objective, min_accuracy=floor, budget_j=budget)
                predictions.append(
                    Prediction(
                        name,
                        label,
                        chosen.plan.name,
                        len(plans),
                        chosen.latency_s,
                        chosen.energy_j,
                    )
                )
    return findings, predictions


def _single_plan(scenario: Scenario, group: str, label: str) -> Plan | None:
    plans = scenario.factory(group, label).plans
    return plans[0] if len(plans) == 1 else None


def uplink(scenario: Scenario) -> list[Finding]:
    findings: list[Finding] = []
    cells: dict[str, Any] = {}
    for group in scenario.groups:
        cells.setdefault(group.cell.name, []).append(group)
    for cell_name, groups in cells.items():
        cell = groups[0].cell
        mean_bps = _cost_model(scenario, groups[0], []).nominal_rate_bps
        if not mean_bps:
            continue
        for label in scenario.strategy_labels:
            offered = []  # (devices, bit/s per device)
            for group in groups:
                plans = scenario.factory(group.spec.name, label).plans
                remote = [p for p in plans if p.kind != "local"]
                if not remote or len(remote) < len(plans):
                    continue  # a policy that may compute locally needs no uplink
                bits = 8.0 * min(p.payload_bytes for p in remote)
                offered.append((group.spec.count, bits * _arrival_rate_hz(scenario, group)))
            if not offered:
                continue
            if cell.sharing == "shared":
                load_bps = sum(n * bps for n, bps in offered)
                scope = "all its devices together offer"
            else:
                load_bps = max(bps for _, bps in offered)
                scope = "each device offers"
            if load_bps >= mean_bps:
                findings.append(
                    Finding(
                        "uplink_overload",
                        f"cells.{cell_name}",
                        f"{scope} {_mbps(load_bps)}, {load_bps / mean_bps:.2f} x the mean uplink "
                        f"capacity {_mbps(mean_bps)}: transfers queue without bound",
                        [label],
                    )
                )
    return findings


def _server_loads(scenario: Scenario, label: str) -> dict[str, tuple[float, float, int]]:
    """server -> (offered load at full batches, mean job time at full batches [s], jobs/s)."""
    from sim.plans import measured_service_model, service_model

    loads: dict[str, list[float]] = {s.name: [0.0, 0.0, 0.0] for s in scenario.spec.servers}
    configs = {s.name: s for s in scenario.spec.servers}
    for group in scenario.groups:
        plan = _single_plan(scenario, group.spec.name, label)
        if plan is None or plan.server is None:
            continue
        # fixed and nearest send everything to one server; the other selection policies
        # spread the group over its candidates (counted as an even split)
        targets = list(group.server_order)
        if group.server is not None or group.selection.policy == "nearest":
            targets = [group.server or targets[0]] if targets else []
        for server in targets:
            batch = configs[server].batching.max_batch
            model = service_model(scenario.servers[server], plan.server, group.model)
            per_job = model.service_s(batch) / batch / configs[server].workers
            rate = group.spec.count * _arrival_rate_hz(scenario, group) / len(targets)
            loads[server][0] += rate * per_job
            loads[server][1] += rate * per_job * configs[server].workers
            loads[server][2] += rate
    for name, config in configs.items():
        batch = config.batching.max_batch
        for tenant in config.background:
            measured = measured_service_model(scenario.servers[name], tenant.part)
            if measured is None:
                continue
            per_job = measured.service_s(batch) / batch / config.workers
            loads[name][0] += tenant.rate_hz * per_job
            loads[name][1] += tenant.rate_hz * per_job * config.workers
            loads[name][2] += tenant.rate_hz
    return {k: (v[0], v[1] / v[2] if v[2] else 0.0, int(v[2] > 0)) for k, v in loads.items()}


def servers(scenario: Scenario) -> tuple[list[Finding], dict[str, float]]:
    findings: list[Finding] = []
    relaxation: dict[str, float] = {}
    configs = {s.name: s for s in scenario.spec.servers}
    for label in scenario.strategy_labels:
        for server, (rho, job_s, busy) in _server_loads(scenario, label).items():
            if not busy:
                continue
            batch = configs[server].batching.max_batch
            if rho >= 1.0:
                cap = configs[server].queue_capacity
                outcome = (
                    f"arrivals beyond {cap} waiting are dropped"
                    if cap
                    else "its queue grows without bound"
                )
                findings.append(
                    Finding(
                        "server_overload",
                        f"servers.{server}",
                        f"offered load {rho:.2f} >= 1 even at full batches of {batch}: {outcome}",
                        [label],
                    )
                )
            elif job_s > 0:
                tau = job_s / (1.0 - math.sqrt(rho)) ** 2
                relaxation[f"servers.{server} [{label}]"] = max(
                    relaxation.get(f"servers.{server} [{label}]", 0.0), tau
                )
    return findings, relaxation


def warmup(scenario: Scenario, relaxation: dict[str, float]) -> list[Finding]:
    """Random arrivals only: periodic and timestamp arrivals make no start-up transient that
    a relaxation time describes."""
    taus = (
        dict(relaxation)
        if any(_random_arrivals(g) for g in scenario.groups)
        or any(s.background for s in scenario.spec.servers)
        else {}
    )
    for group in scenario.groups:
        if not _random_arrivals(group):
            continue
        rate = _arrival_rate_hz(scenario, group)
        for label in scenario.strategy_labels:
            plans = scenario.factory(group.spec.name, label).plans
            head = min(p.device_s for p in plans)
            rho = rate * head
            if 0 < rho < 1:
                taus[f"devices.{group.spec.name} [{label}]"] = head / (1.0 - math.sqrt(rho)) ** 2
    if not taus:
        return []
    where, tau = max(taus.items(), key=lambda kv: kv[1])
    needed = RELAXATION_TIMES * tau
    warmup = scenario.spec.warmup_s
    if warmup >= needed:
        return []
    return [
        Finding(
            "warmup_short",
            "warmup_s",
            f"{warmup:g} s is shorter than {RELAXATION_TIMES:g} relaxation times of the most "
            f"loaded queue ({where}: {needed:.3g} s); the summary includes the start-up transient",
        )
    ]
