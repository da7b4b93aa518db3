"""Pre-flight checks: what a run would waste its time on, said before it starts.

Each check is arithmetic on the resolved scenario (no simulation) and yields
one-line warnings, never errors: a user may want to see an overloaded system.
``python -m sim validate`` prints them with the cost model's predictions;
``python -m sim run`` prints them before it runs (``--no-preflight``: silent).

The checks (the closing note and docs/preflight.md list the same):

* ``device_overload``: a device's compute per request (fastest plan of the
  strategy) times its arrival rate is >= 1: its processor queue grows without
  bound (or drops requests at ``max_pending``).
* ``deadline_unreachable``: even the fastest plan of a strategy, at the uplink's
  peak rate, with an awake radio and an idle server, finishes after the deadline.
* ``uplink_overload``: the bits a strategy offers to a cell per second exceed
  its long-run mean capacity (shared cell: all its devices together; dedicated:
  one device).
* ``server_overload``: a server's offered load (device requests and background
  tenants at full batches) is >= 1.
* ``backhaul_overload``: a wired link direction is offered at least its capacity
  (payloads to the servers, results back): :mod:`sim.preflight.backhaul`.
* ``coverage``: devices of a physical uplink get farther from every station
  than the distance where the median rate (NLOS, no shadowing or fading) is 0.
* ``fallback``: numbers a run uses that come from a fallback: device times from
  the device's cost model instead of measured blocks, server times from the
  server's cost model, power figures that are assumed placeholders.
* ``warmup_short``: the warm-up is shorter than three relaxation times
  1 / (mu (1 - sqrt(rho))^2) of the most loaded queue with random arrivals
  (Morse 1955, M/M/1); computed where the arrivals are random.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from sim.preflight.backhaul import backhaul
from sim.preflight.checks import (
    device_and_deadline,
    servers,
    uplink,
    warmup,
)
from sim.preflight.coverage import coverage, fallbacks
from sim.preflight.findings import Finding, Prediction

if TYPE_CHECKING:
    from sim.scenario.model import Scenario

__all__ = ["Finding", "Prediction", "check", "format_predictions"]


def _merge(findings: list[Finding]) -> list[Finding]:
    """One line per (check, subject, text), listing every strategy it concerns."""
    merged: dict[tuple[str, str, str], Finding] = {}
    for finding in findings:
        key = (finding.check, finding.subject, finding.text)
        if key in merged:
            merged[key].strategies += [
                s for s in finding.strategies if s not in merged[key].strategies
            ]
        else:
            merged[key] = Finding(
                finding.check, finding.subject, finding.text, list(finding.strategies)
            )
    return list(merged.values())


def check(scenario: Scenario) -> tuple[list[Finding], list[Prediction]]:
    """Every pre-flight warning of ``scenario`` and the cost model's predictions per strategy."""
    findings, predictions = device_and_deadline(scenario)
    findings += uplink(scenario)
    server_findings, relaxation = servers(scenario)
    findings += server_findings
    findings += backhaul(scenario)
    findings += coverage(scenario)
    findings += fallbacks(scenario)
    findings += warmup(scenario, relaxation)
    return _merge(findings), predictions


def format_predictions(predictions: list[Prediction]) -> str:
    """The table ``validate`` prints beside "ok"."""
    if not predictions:
        return ""
    rows = []
    for p in predictions:
        plan = p.plan if p.plans == 1 else f"{p.plan} (best of {p.plans})"
        latency = f"{p.latency_s * 1e3:.1f}" if math.isfinite(p.latency_s) else "unstable"
        energy = f"{p.energy_j:.3f}" if math.isfinite(p.energy_j) else "inf"
        rows.append((p.group, p.strategy, plan, latency, energy))
    head = ("group", "strategy", "plan", "latency ms", "J/inf")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
    lines = [
        "predicted by the cost model (mean uplink rate, no contention between devices, "
        "server wait from its batching window and background load):"
    ]
    for row in [head, *rows]:
        left = "  ".join(f"{row[i]:{widths[i]}s}" for i in range(3))
        right = "  ".join(f"{row[i]:>{widths[i]}s}" for i in (3, 4))
        lines.append(f"  {left}  {right}")
    lines.append("  (J/inf: device energy per inference above the board's idle draw)")
    return "\n".join(lines)
