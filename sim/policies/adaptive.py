"""Adaptive per-request policy: local / offload / split / C from the device's own estimates.

For every request the device predicts each candidate's latency and energy
(:mod:`sim.policies.costs`) from what it knows: its processor queue (exact),
its uplink goodput and the server's wait (EWMAs of its own samples,
:mod:`sim.policies.estimators`, stale by construction), and its own radio
state (predicted from what it sent). It takes the candidate of least expected
latency (or energy) subject to an accuracy floor or an energy budget, with
hysteresis: it leaves its current plan only for one expected to be better by
more than ``switch_margin``. While it computes locally its estimates freeze;
after ``probe_after_s`` without sending (from the start of the run when it has
never sent) it sends one request remotely (a probe), whatever its stale
estimates say: estimates that were never tested cannot rule a plan out (an
idle radio's promotion, predicted for every remote request of a device that
never sends, would otherwise keep it local for ever). With the latency
objective it also counts its own processor's queue: a plan is charged the
backlog its device time leaves to the device's next frame
(:meth:`AdaptivePolicy.carry_s`), so a plan the processor cannot sustain at the
frame rate loses to one it can even when, request by request, it looks faster.

Related designs: Neurosurgeon's runtime partitioning from measured bandwidth
(Kang et al., ASPLOS 2017) made per request; DeepDecision (Ran et al., INFOCOM
2018) picks local/remote and model variant under accuracy and energy
constraints from measured network conditions.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace

from sim.plans import Plan
from sim.policies.base import DeviceView, Feedback, Policy
from sim.policies.costs import CostModel, Estimate, PlanCost, allowed, best
from sim.policies.estimators import DeviceEstimates


class EstimatingPolicy(Policy):
    """Shared machinery: per-request predictions from a device's own estimates."""

    def __init__(
        self,
        name: str,
        model: CostModel,
        costs: list[PlanCost],
        *,
        objective: str,
        min_accuracy: float | None,
        energy_budget_j: float | None,
        alpha: float,
        prior_rate_bps: float,
        probe_after_s: float | None,
        overdue_factor: float,
    ) -> None:
        self.name = name
        self.model = model
        self.costs = costs
        self.objective = objective
        self.min_accuracy = min_accuracy
        self.energy_budget_j = energy_budget_j
        self.prior_rate_bps = prior_rate_bps
        self.probe_after_s = probe_after_s
        prior_wait = model.idle_server_wait_s + model.background_wait_s
        self.estimates = DeviceEstimates(alpha, prior_rate_bps, prior_wait, overdue_factor)
        self.need_energy = objective == "energy" or energy_budget_j is not None
        self._tail_cache: dict[tuple[str, int], float] = {}
        self.probes = 0
        self.choices: Counter[str] = Counter()

    def plans(self) -> list[Plan]:
        return [c.plan for c in self.costs]

    # -- predictions
    def _tail_j(self, cost: PlanCost, rate_bps: float) -> float:
        if not cost.remote or rate_bps <= 0:
            return 0.0
        key = (cost.plan.name, round(100 * math.log(rate_bps)))
        cached = self._tail_cache.get(key)
        if cached is None:
            cached = self._tail_cache[key] = self.model.radio_expectations(cost, rate_bps)[1]
        return cached

    def situation(self, view: DeviceView) -> tuple[float, float]:
        """(effective uplink rate [bit/s], when the radio's current backlog will have gone [s])."""
        rate = self.estimates.effective_rate_bps(view.now_s)
        return rate, self.estimates.radio_backlog_free_s(view.now_s, view.pending, rate)

    def predict(
        self, view: DeviceView, cost: PlanCost, rate_bps: float, backlog_free_s: float = 0.0
    ) -> tuple[Estimate, float, float]:
        """(estimate, head end [s], expected radio end [s]) of ``cost`` for this request."""
        model = self.model
        est = self.estimates
        now = view.now_s
        processor_wait = max(0.0, view.processor_free_at_s - now)
        head_end = now + processor_wait + cost.plan.device_s
        radio_start = radio_end = head_end
        promoted = 0.0
        radio_wait = 0.0
        if cost.remote:
            radio_start = max(head_end, est.radio_free_s, backlog_free_s)
            radio_wait = radio_start - head_end
            promoted = 1.0 if radio_start - est.radio_last_end_s > model.tail_total_s else 0.0
            radio_end = (
                radio_start + promoted * model.radio.promotion_s + model.transfer_s(cost, rate_bps)
            )
        latency = model.latency_s(
            cost,
            rate_bps,
            server_wait_s=est.server_wait_s,
            promoted=promoted,
            processor_wait_s=processor_wait,
            radio_wait_s=radio_wait,
        )
        energy = math.nan
        if self.need_energy:
            energy = model.energy_j(
                cost, rate_bps, promoted=promoted, tail_j=self._tail_j(cost, rate_bps)
            )
        feasible = allowed(
            cost.plan, energy if self.need_energy else 0.0, self.energy_budget_j, self.min_accuracy
        )
        return Estimate(cost.plan, latency, energy, feasible), head_end, radio_end

    def _best(self, estimates: list[Estimate]) -> Estimate:
        return best(
            estimates, self.objective, min_accuracy=self.min_accuracy, budget_j=self.energy_budget_j
        )

    def should_probe(self, view: DeviceView, chosen: Plan) -> bool:
        """Whether the estimates are stale enough to send this request remotely instead:
        nothing sent for ``probe_after_s`` (counted from the start when nothing was ever sent)."""
        if chosen.kind != "local" or self.probe_after_s is None:
            return False
        return self.estimates.stale_for_s(view.now_s) >= self.probe_after_s

    def commit(self, view: DeviceView, chosen: Estimate, head_end: float, end: float) -> Plan:
        """Record the choice (processor and radio bookkeeping, counters) and return its plan."""
        plan = chosen.plan
        self.choices[plan.kind] += 1
        self.estimates.computed(head_end)
        if plan.kind != "local":
            self.estimates.dispatched(
                view.now_s, 8.0 * plan.payload_bytes, head_end, end, chosen.latency_s
            )
        return plan

    def observe(self, feedback: Feedback) -> None:
        self.estimates.observe(feedback)

    def base_stats(self) -> dict[str, float]:
        est = self.estimates
        return {
            "probes": float(self.probes),
            "rate_estimate_bps": est.rate_bps,
            "rate_samples": float(est.rate_samples),
            "server_wait_estimate_s": est.server_wait_s,
            **{
                f"choices_{k}": float(self.choices.get(k, 0)) for k in ("local", "offload", "split")
            },
        }


class AdaptivePolicy(EstimatingPolicy):
    """Least expected latency (or energy) per request, with hysteresis and probes."""

    def __init__(self, *args, switch_margin: float = 0.0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.switch_margin = switch_margin
        self.current: str | None = None
        self.switches = 0

    def carry_s(self, view: DeviceView, cost: PlanCost) -> float:
        """Processor backlog [s] that ``cost`` leaves to the device's next frame, expected one
        mean inter-arrival time from now (0 when the workload's rate is unknown)."""
        rate_hz = self.model.arrival_rate_hz
        if rate_hz <= 0:
            return 0.0
        head_end = max(view.now_s, view.processor_free_at_s) + cost.plan.device_s
        return max(0.0, head_end - (view.now_s + 1.0 / rate_hz))

    def choose(self, view: DeviceView) -> Plan:
        rate, backlog = self.situation(view)
        predicted = [self.predict(view, cost, rate, backlog) for cost in self.costs]
        estimates = [p[0] for p in predicted]
        ranked = estimates
        if self.objective == "latency":
            # Rank with the backlog each plan hands on; report the request's own latency.
            ranked = [
                replace(e, latency_s=e.latency_s + self.carry_s(view, c))
                for e, c in zip(estimates, self.costs, strict=True)
            ]
        pick = self._best(ranked)
        index = ranked.index(pick)
        if self.current is not None and pick.plan.name != self.current:
            for i, e in enumerate(ranked):
                if e.plan.name == self.current:
                    if e.feasible and pick.cost(self.objective) >= e.cost(self.objective) * (
                        1.0 - self.switch_margin
                    ):
                        index = i
                    break
        if self.current is not None and estimates[index].plan.name != self.current:
            self.switches += 1
        self.current = estimates[index].plan.name
        remote = [i for i, e in enumerate(estimates) if e.plan.kind != "local"]
        if remote and self.should_probe(view, estimates[index].plan):
            # A probe refreshes the estimates; it is not a switch of the current plan.
            index = min(
                remote, key=lambda i: (not ranked[i].feasible, ranked[i].cost(self.objective))
            )
            self.probes += 1
        chosen, start, end = predicted[index]
        return self.commit(view, chosen, start, end)

    def stats(self) -> dict[str, float]:
        return {"switches": float(self.switches), **self.base_stats()}
