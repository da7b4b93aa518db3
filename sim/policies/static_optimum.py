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
"""

from __future__ import annotations

from dataclasses import dataclass
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

    def table(self) -> list[dict[str, float | str | bool]]:
        """One row per candidate, best first: plan, latency [s], energy [J], accuracy, feasible."""
        rows: list[dict[str, float | str | bool]] = [
            {
                "plan": e.plan.name,
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
    wait = (
        config.server_wait_s
        if config.server_wait_s is not None
        else model.idle_server_wait_s + model.background_wait_s
    )
    ranking = tuple(
        model.steady_state(cost, rate, wait, config.energy_budget_j, config.min_accuracy)
        for cost in model.costs.values()
    )
    chosen = best(
        ranking,
        config.objective,
        min_accuracy=config.min_accuracy,
        budget_j=config.energy_budget_j,
    )
    return StaticChoice(chosen, ranking, rate, wait, config.objective)


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
