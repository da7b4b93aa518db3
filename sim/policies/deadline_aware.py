"""Deadline-aware policy: a preferred plan, and fallbacks when its predicted finish is too late.

For each request it predicts the finish of ``[preferred, *fallbacks]`` in
order, with the same estimates as the adaptive policy (:mod:`sim.policies.adaptive`),
and takes the first plan predicted to finish within ``margin x deadline_s``
that meets the accuracy floor and energy budget. When none does, it takes the
plan predicted to finish first (a predicted miss). A typical ladder is
BottleFit with C = 12, then C = 6, 3, 1 (smaller payloads), then local: the
"graceful degradation" of DeepDecision (Ran et al., INFOCOM 2018) and of
SPINN's early exits (Laskaridis et al., MobiCom 2020), driven by a deadline.
Counts, reported per device: ``fallbacks`` (requests not served by the
preferred plan), ``fallbacks_local``, ``fallbacks_smaller`` (another remote
plan), ``predicted_misses``, ``probes``.
"""

from __future__ import annotations

from sim.plans import Plan
from sim.policies.adaptive import EstimatingPolicy
from sim.policies.base import DeviceView


class DeadlineAwarePolicy(EstimatingPolicy):
    """First plan of the ladder predicted to meet the deadline; counts the fallbacks."""

    def __init__(self, *args, deadline_s: float, margin: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.limit_s = margin * deadline_s
        self.fallbacks = 0
        self.fallbacks_local = 0
        self.fallbacks_smaller = 0
        self.predicted_misses = 0

    def choose(self, view: DeviceView) -> Plan:
        rate, backlog = self.situation(view)
        predicted = [self.predict(view, cost, rate, backlog) for cost in self.costs]
        index = None
        for i, (estimate, _, _) in enumerate(predicted):
            if estimate.feasible and estimate.latency_s <= self.limit_s:
                index = i
                break
        if index is None:
            self.predicted_misses += 1
            pool = [i for i, p in enumerate(predicted) if p[0].feasible] or list(
                range(len(predicted))
            )
            index = min(pool, key=lambda i: predicted[i][0].latency_s)
        if (
            index != 0
            and self.costs[0].remote
            and self.should_probe(view, predicted[index][0].plan)
        ):
            index = 0
            self.probes += 1
        chosen, start, end = predicted[index]
        if index != 0:
            self.fallbacks += 1
            if chosen.plan.kind == "local":
                self.fallbacks_local += 1
            else:
                self.fallbacks_smaller += 1
        return self.commit(view, chosen, start, end)

    def stats(self) -> dict[str, float]:
        return {
            "fallbacks": float(self.fallbacks),
            "fallbacks_local": float(self.fallbacks_local),
            "fallbacks_smaller": float(self.fallbacks_smaller),
            "predicted_misses": float(self.predicted_misses),
            **self.base_stats(),
        }
