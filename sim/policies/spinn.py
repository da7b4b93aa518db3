"""A SPINN-style scheduler: per request, the split point and the confidence threshold.

SPINN (Laskaridis et al., MobiCom 2020, Fig. 2) runs an online scheduler that
chooses the split point and the early-exit confidence threshold from the SLA
(latency, accuracy, device energy) and the runtime conditions (network, server
load). Its objective and search are not public here
(../shared/reference/spinn.md §1), so this is a stand-in built on this
project's estimators: for each candidate progressive plan
(``progressive_<split>_t<threshold>``, :mod:`sim.exits.plan`) the device predicts
the request's latency at every exit from its uplink-rate and server-wait EWMAs
(:mod:`sim.policies.estimators`, :class:`sim.policies.adaptive.EstimatingPolicy`),
weighs the exits by their shares at that threshold (the plan's exit model) and
picks:

* ``objective: accuracy`` (default): the most *on-time accuracy*,
  sum_k share_k x accuracy_k x [latency_k <= margin x deadline], i.e. the
  expected accuracy of an answer that arrives in time (ties: less expected
  latency);
* ``latency`` / ``energy``: the least expected latency / device energy,

among the plans meeting the accuracy floor and the energy budget (expected
over exits); if none does, as the other decision policies do
(:func:`sim.policies.costs.best`). Latency of exit k: on the device, the
processor wait plus the compute up to its head; on the server, the remote
prediction with the tail's service cut to the share of its MACs up to the exit.

Stale estimates: as the adaptive policy, after ``probe_after_s`` without a
fresh uplink sample (counted from the start while there was none), one request
is sent whatever the estimates say: with its exits off (threshold 1), so that it
does reach the server, at the remote split predicted to answer first. The clock is the last
transfer actually made, not the last remote plan chosen: a progressive request
answered at a device exit sends nothing and refreshes nothing.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

from sim.errors import SimInputError, list_choices
from sim.plans import Plan, build_plan
from sim.policies.adaptive import EstimatingPolicy
from sim.policies.base import DeviceView
from sim.policies.config import strategy_label
from sim.policies.context import Maker, PolicyFactory, estimating_kwargs, prior_rate
from sim.policies.costs import CostModel, Estimate, PlanCost, allowed, best

if TYPE_CHECKING:
    from sim.policies.config import SpinnStrategy
    from sim.policies.context import GroupContext

DEFAULT_THRESHOLDS = (0.4, 0.6, 0.8, 1.0)


class SpinnPolicy(EstimatingPolicy):
    """Split point and threshold per request from stale estimates (see the module doc)."""

    def __init__(
        self,
        name: str,
        model: CostModel,
        costs: list[PlanCost],
        *,
        probes: dict[str, int],
        deadline_s: float,
        margin: float,
        final_accuracy: float,
        **kwargs,
    ) -> None:
        objective = kwargs.pop("objective")
        super().__init__(
            name,
            model,
            costs,
            objective="latency" if objective == "accuracy" else objective,
            **kwargs,
        )
        self.goal = objective
        self.remote_off = [  # remote plans with their exits off: the probes
            i for i, c in enumerate(costs) if c.plan.kind != "local" and i in probes.values()
        ]
        self.deadline_s = deadline_s
        self.margin = margin
        self.final_accuracy = final_accuracy
        self.splits: Counter[str] = Counter()
        self.thresholds: Counter[str] = Counter()

    # -- prediction over exits
    def mixed(
        self, view: DeviceView, cost: PlanCost, rate_bps: float, backlog_s: float
    ) -> tuple[Estimate, float, float, float, float]:
        """(expected estimate, on-time accuracy, share sent, head end if sent, radio end)."""
        sent_estimate, head_end, radio_end = self.predict(view, cost, rate_bps, backlog_s)
        plan = cost.plan
        exits = plan.exits
        assert exits is not None
        shares = exits.shares()
        accs = exits.accuracies(self.final_accuracy)
        wait = max(0.0, view.processor_free_at_s - view.now_s)
        limit = self.margin * self.deadline_s
        latency = on_time = sent = 0.0
        energy = 0.0
        for k, share in enumerate(shares):
            if share <= 0.0:
                continue
            acc = 0.0 if math.isnan(accs[k]) else accs[k]
            if k < len(exits.names) and exits.on_device[k]:
                lat_k = wait + exits.device_s[k]
                energy += share * plan.device_w * exits.device_s[k]
            else:
                fraction = exits.work_fraction[k] if k < len(exits.names) else 1.0
                lat_k = sent_estimate.latency_s - cost.service_s * (1.0 - fraction)
                sent += share
            latency += share * lat_k
            on_time += share * acc * (lat_k <= limit)
        if self.need_energy:
            energy += sent * sent_estimate.energy_j
        else:
            energy = math.nan
        feasible = allowed(
            plan, energy if self.need_energy else 0.0, self.energy_budget_j, self.min_accuracy
        )
        return Estimate(plan, latency, energy, feasible), on_time, sent, head_end, radio_end

    def stale(self, now_s: float) -> bool:
        """No uplink sample for ``probe_after_s`` (from the start while there was none)."""
        if self.probe_after_s is None:
            return False
        last = self.estimates.last_sample_s
        since = now_s - (last if math.isfinite(last) else 0.0)
        return since >= self.probe_after_s and not self.estimates.outstanding

    def choose(self, view: DeviceView) -> Plan:
        rate, backlog = self.situation(view)
        mixed = [self.mixed(view, c, rate, backlog) for c in self.costs]
        estimates = [m[0] for m in mixed]
        if self.goal == "accuracy":
            feasible = [i for i, e in enumerate(estimates) if e.feasible]
            if feasible:
                index = max(feasible, key=lambda i: (mixed[i][1], -estimates[i].latency_s))
            else:
                index = estimates.index(self._best(estimates))
        else:
            index = estimates.index(self._best(estimates))
        chosen = estimates[index]
        sent, head_end, radio_end = mixed[index][2], mixed[index][3], mixed[index][4]
        if self.stale(view.now_s) and sent < 1.0 and self.remote_off:
            # A probe: the remote plan with its exits off predicted to answer first.
            probes = [self.predict(view, self.costs[i], rate, backlog) for i in self.remote_off]
            chosen, head_end, radio_end = min(probes, key=lambda p: p[0].latency_s)
            sent = 1.0
            self.probes += 1
        plan = chosen.plan
        self.splits[plan.name.split("_t")[0]] += 1
        self.thresholds[plan.name.rsplit("_t", 1)[1]] += 1
        self.choices[plan.kind] += 1
        self.estimates.computed(head_end)
        # Every remote-capable choice is booked as dispatched (its response pops it, as
        # DeviceEstimates.observe pops all but local plans); the bits the radio is expected to
        # carry are the share that is sent.
        if plan.kind != "local":
            self.estimates.dispatched(
                view.now_s,
                sent * 8.0 * plan.payload_bytes,
                head_end,
                head_end + sent * (radio_end - head_end),
                chosen.latency_s,
            )
        return plan

    def stats(self) -> dict[str, float]:
        return {
            **self.base_stats(),
            **{f"split_{k}": float(v) for k, v in sorted(self.splits.items())},
            **{f"threshold_{k}": float(v) for k, v in sorted(self.thresholds.items())},
        }


def _candidates(config: SpinnStrategy, ctx: GroupContext) -> tuple[list[Plan], dict[str, int]]:
    """Every progressive plan (split x threshold), plus each split with its exits off.

    Splits: ``input`` (server only: the JPEG is sent), each natural block, ``device``
    (device only), unless ``splits`` names some.
    """
    model = ctx.model
    blocks = ["input", *(b.name for b in model.blocks[:-1]), "device"]
    splits = list(config.splits) if config.splits is not None else blocks
    for i, split in enumerate(splits):
        if split not in blocks:
            raise SimInputError(
                f"unknown split for model '{model.name}'",
                file=ctx.file,
                key=f"{ctx.key}.splits.{i}",
                value=split,
                allowed=list_choices(blocks, limit=30),
            )
    thresholds = sorted(set(config.thresholds) | {1.0})
    exits = ctx.runtime.spec.exits if ctx.runtime is not None else None
    plans: list[Plan] = []
    probes: dict[str, int] = {}
    for split in splits:
        first = len(plans)
        for threshold in thresholds:
            plans.append(
                build_plan(
                    "split",
                    f"progressive_{split}_{config.dtype}_t{threshold:g}",
                    model,
                    ctx.device,
                    where=(ctx.file, f"{ctx.key}.splits"),
                    exits=exits,
                )
            )
        off = len(plans) - 1  # thresholds are sorted: 1.0 (exits off) is the last
        for plan in plans[first:]:
            probes[plan.name] = off
    return plans, probes


def build_spinn(config: SpinnStrategy, ctx: GroupContext) -> PolicyFactory:
    """The policy factory of a ``spinn`` strategy (registered in sim/policies/registry.py)."""
    label = strategy_label(config)
    plans, probes = _candidates(config, ctx)
    model = CostModel(ctx, plans)
    costs = [model.costs[p.name] for p in plans]
    kwargs = estimating_kwargs(config, prior_rate(model, config.initial_rate_bps, plans, ctx))
    deadline = ctx.runtime.spec.deadline_s if ctx.runtime is not None else math.inf
    make = Maker(
        SpinnPolicy,
        (label, model, costs),
        {
            "probes": probes,
            "deadline_s": deadline,
            "margin": config.margin,
            "final_accuracy": ctx.model.accuracy_top1.value,
            **kwargs,
        },
    )
    return PolicyFactory(label, tuple(plans), make)


__all__ = ["DEFAULT_THRESHOLDS", "SpinnPolicy", "best", "build_spinn"]
