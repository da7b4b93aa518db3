"""Neurosurgeon-style static optimum: one plan for the whole run, the best on average.

Kang et al., "Neurosurgeon: Collaborative Intelligence Between the Cloud and
Mobile Edge", ASPLOS 2017, predict the latency (or mobile energy) of every
partition point of a DNN from per-layer profiles, the uplink bandwidth and the
server's load, and run the best partition. Here the candidates are local,
offload, every vanilla split point in every payload dtype, and every BottleFit
and autoencoder variant of the model (C included); the figures are the device
and server profiles, the cell's long-run mean uplink capacity, its radio power
model, the server's batching window and background load, and the workload's
inter-arrival times (:mod:`sim.policies.costs`). The plan is chosen once, when
the scenario is loaded; every request follows it. On a constant channel with an
idle server the predictions are exactly what the simulator then measures, so
the choice is the brute-force optimum (``tests/policies/test_static_optimum.py``).

Plan and server jointly: when the group's server selection is ``least_latency``,
every (plan, candidate server) pair is predicted, each server with its own
profile, path, batching window and background load, and the best pair's plan is
taken; the requests then go, one by one, to the server of least predicted
latency for that plan (sim/selection/least_latency.py), which on idle servers is
the pair's server. Under any other selection the prediction uses the group's
planning server, as before: its fixed server or the nearest candidate
(``tests/selection/test_joint_plan.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from sim.errors import SimInputError
from sim.policies.base import FixedPolicy
from sim.policies.config import StaticOptimumStrategy
from sim.policies.costs import CostModel, Estimate, best, candidate_plans

if TYPE_CHECKING:
    from sim.policies.context import GroupContext


@dataclass(frozen=True)
class StaticChoice:
    """The plan chosen, every candidate's prediction, and the figures they assumed."""

    chosen: Estimate
    ranking: tuple[Estimate, ...]
    rate_bps: float
    server_wait_s: float
    objective: str

    @property
    def server(self) -> str | None:
        """The server the chosen plan was predicted on."""
        return self.chosen.server

    def table(self) -> list[dict[str, float | str | bool]]:
        """One row per candidate (plan, server), best first: plan, server, latency [s],
        energy [J], accuracy, feasible."""
        rows: list[dict[str, float | str | bool]] = [
            {
                "plan": e.plan.name,
                "server": e.server or "",
                "kind": e.plan.kind,
                "latency_s": e.latency_s,
                "energy_j": e.energy_j,
                "accuracy": e.plan.accuracy,
                "feasible": e.feasible,
            }
            for e in self.ranking
        ]
        key = "latency_s" if self.objective == "latency" else "energy_j"
        return sorted(rows, key=lambda r: (not r["feasible"], r[key]))


def static_optimum(config: StaticOptimumStrategy, ctx: GroupContext) -> StaticChoice:
    """Predict every candidate under the mean figures and pick the best (raises SimInputError)."""
    plans = candidate_plans(config.candidates, ctx, f"{ctx.key}.candidates")
    model = CostModel(ctx, plans)
    rate = config.mean_rate_bps or model.nominal_rate_bps
    if rate is None:
        if any(p.kind != "local" for p in plans):
            raise SimInputError(
                "the static optimum cannot tell this cell's mean uplink capacity",
                file=ctx.file,
                key=f"{ctx.key}.mean_rate_bps",
                allowed="a rate in bit/s, e.g. mean_rate_bps: 5.0e6",
            )
        rate = 0.0
    estimates: list[Estimate] = []
    waits: dict[str | None, float] = {}
    for i, planner in enumerate(_planners(model, ctx)):
        wait = (
            config.server_wait_s
            if config.server_wait_s is not None
            else planner.idle_server_wait_s + planner.background_wait_s
        )
        waits[planner.server_name] = wait
        for cost in planner.costs.values():
            if i > 0 and not cost.remote:
                continue  # a local plan is the same on every server: predicted once
            estimate = planner.steady_state(
                cost, rate, wait, config.energy_budget_j, config.min_accuracy
            )
            estimates.append(replace(estimate, server=planner.server_name if cost.remote else None))
    ranking = tuple(estimates)
    chosen = best(
        ranking,
        config.objective,
        min_accuracy=config.min_accuracy,
        budget_j=config.energy_budget_j,
    )
    wait = waits.get(chosen.server, waits[model.server_name])
    return StaticChoice(chosen, ranking, rate, wait, config.objective)


def _planners(model: CostModel, ctx: GroupContext) -> list[CostModel]:
    """The cost models to predict on: one per candidate server under least_latency
    selection (nearest first, so ties go to the nearer), else the group's planning server."""
    runtime = ctx.runtime
    if runtime is None or runtime.selection.policy != "least_latency":
        return [model]
    return [model, *(model.for_server(name) for name in runtime.server_order[1:])]


class StaticOptimumPolicy(FixedPolicy):
    """Always the statically optimal plan; reports its predicted latency and energy."""

    def __init__(self, name: str, choice: StaticChoice) -> None:
        super().__init__(name, choice.chosen.plan)
        self.choice = choice

    def stats(self) -> dict[str, float]:
        return {
            "predicted_latency_s": self.choice.chosen.latency_s,
            "predicted_energy_j": self.choice.chosen.energy_j,
            "planned_rate_bps": self.choice.rate_bps,
        }
