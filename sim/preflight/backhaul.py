"""Pre-flight check ``backhaul_overload``: a wired link offered more bits than it carries.

Per strategy, each device group whose strategy always sends (no local plan) offers
``count x arrival rate x payload`` bits per second on every hop of its path to its server
(spread evenly over its candidate servers when its selection policy balances, as the
server-load check counts it) and ``... x result`` bits on the way back. A link direction
offered at least its ``capacity_bps`` queues without bound (``queueing: true``, the
default) or, when it does not queue, gives delays that are too low
(docs/concepts/backhaul_downlink.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.preflight.checks import _arrival_rate_hz, _mbps
from sim.preflight.findings import Finding

if TYPE_CHECKING:
    from sim.scenario.model import Scenario


def backhaul(scenario: Scenario) -> list[Finding]:
    links = {frozenset((link.a, link.b)): i for i, link in enumerate(scenario.spec.network.links)}
    findings: list[Finding] = []
    for label in scenario.strategy_labels:
        offered: dict[tuple[str, str], float] = {}  # direction -> bit/s
        capacity: dict[tuple[str, str], tuple[float, bool]] = {}
        for group in scenario.groups:
            plans = scenario.factory(group.spec.name, label).plans
            remote = [p for p in plans if p.kind != "local"]
            if not remote or len(remote) < len(plans):
                continue  # a policy that may compute locally need not load the network
            payload_bits = 8.0 * min(p.payload_bytes for p in remote)
            result_bits = 8.0 * group.spec.result_bytes
            targets = list(group.server_order)
            if group.server is not None or group.selection.policy == "nearest":
                targets = [group.server or targets[0]] if targets else []
            for server in targets:
                rate = group.spec.count * _arrival_rate_hz(scenario, group) / len(targets)
                path = group.paths[server]
                for hop in range(len(path.nodes) - 1):
                    a, b = path.nodes[hop], path.nodes[hop + 1]
                    offered[(a, b)] = offered.get((a, b), 0.0) + rate * payload_bits
                    offered[(b, a)] = offered.get((b, a), 0.0) + rate * result_bits
                    queues = bool(path.queues[hop]) if path.queues else False
                    capacity[(a, b)] = capacity[(b, a)] = (path.capacities_bps[hop], queues)
        for (a, b), bps in offered.items():
            cap, queues = capacity[(a, b)]
            if bps < cap:
                continue
            outcome = (
                "payloads queue without bound"
                if queues
                else "it does not queue (queueing: false), so its delays are too low"
            )
            findings.append(
                Finding(
                    "backhaul_overload",
                    f"network.links.{links.get(frozenset((a, b)), '?')}",
                    f"{a} -> {b} is offered {_mbps(bps)}, {bps / cap:.2f} x its capacity "
                    f"{_mbps(cap)}: {outcome}",
                    [label],
                )
            )
    return findings
