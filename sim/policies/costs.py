"""Expected latency [s] and device energy [J] of a plan, as the simulator would charge them.

The decision policies (static optimum, adaptive, deadline-aware) all predict a
request's life with the same arithmetic the engine applies to it
(:mod:`sim.engine`), given an uplink rate and a server wait:

    latency = processor wait + head (plan.device_s)
            + radio wait + promotion (if the radio has gone idle) + bits / rate
            + propagation + wired path(payload) [+ JPEG decode, offload]
            + server wait + S(1)
            + wired path(result) + propagation
            [+ promotion, if the radio went idle while the server worked] + result / downlink

    energy  = (device_w - idle_w) x device_s            (compute above the board's idle)
            + promotion_w x promotion_s                  (if the radio has gone idle)
            + beta x bits / rate + alpha_u x bits / 1e6  (transfer; Huang et al. MobiSys'12)
            + tail energy from the upload's end to the result (or the end of the tail)
            [+ promotion_w x promotion_s, if the radio went idle while the server worked]
            + beta x result / downlink + alpha_d x result / 1e6  (reception)
            + tail energy after the reception, until the next transfer or the end of the tail

Energy is on the *above idle* basis (docs/energy.md): what a request adds to the
board's idle draw. Over a window of fixed length the idle draw is the same for
every plan, so minimising it also minimises the whole-board energy.

With a constant channel, an idle server, deterministic service and no queueing
on the device, these are exactly what the engine produces (tested in
``tests/policies/test_static_optimum.py``). Whether the radio is promoted and how
much of its tail a request pays depend on the gap to the next transfer; the
static optimum takes them from the workload's inter-arrival times
(:func:`gap_samples_s`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.channel.radio import RADIO_PRESETS, RadioPowerModel
from sim.errors import SimInputError, did_you_mean, list_choices
from sim.plans import FitCache, Plan, build_plan, service_model, variant_names
from sim.policies.channel_means import mean_downlink_bps, mean_uplink_bps
from sim.policies.config import CANDIDATE_FAMILIES
from sim.theory import pollaczek_khinchine_wait_s

if TYPE_CHECKING:
    from sim.policies.context import GroupContext

GAP_QUANTILES = 256
"""Inter-arrival quantiles used for the expectation over a random (Poisson-like) workload."""


@dataclass(frozen=True, slots=True)
class PlanCost:
    """The fixed parts of one plan's life on one device group [s, bit]."""

    plan: Plan
    bits: float  # uplink payload [bit]
    to_server_s: float  # propagation + wired path with the payload (+ JPEG decode for offload)
    service_s: float  # S(1) of the plan's server part on the group's server
    back_s: float  # wired path with the result + propagation + downlink
    result_bits: float = 0.0  # the result sent back [bit]
    rx_s: float = 0.0  # its time on the downlink at the cell's mean downlink rate [s]

    @property
    def remote(self) -> bool:
        return self.plan.kind != "local"


@dataclass(frozen=True, slots=True)
class Estimate:
    """A plan's predicted latency [s] and device energy [J], and whether it is allowed."""

    plan: Plan
    latency_s: float
    energy_j: float
    feasible: bool
    server: str | None = None  # the server it was predicted on (None: the group's default)

    def cost(self, objective: str) -> float:
        return self.latency_s if objective == "latency" else self.energy_j


# ---------------------------------------------------------------- candidates


def candidate_plans(
    names: Sequence[str], ctx: GroupContext, key: str, keys: Sequence[str] | None = None
) -> list[Plan]:
    """Resolve candidate names and families (``bottlefit``, ``autoencoder``, ``split``) to plans.

    Raises a SimInputError naming ``<key>.<i>`` (or ``keys[i]``) for a name that is
    neither a family nor a variant of the model. Duplicates are dropped (first
    occurrence wins).
    """
    model = ctx.model
    seen: dict[str, Plan] = {}
    for i, name in enumerate(names):
        where = (ctx.file, keys[i] if keys is not None else f"{key}.{i}")
        if name in ("local", "offload"):
            expanded = [(name, "full")]
        elif name == "bottlefit" or name == "autoencoder":
            expanded = [("split", v) for v, s in model.variants.items() if s.kind == name]
        elif name == "split":
            expanded = [("split", v) for v in variant_names(model) if v.startswith("split_")]
        else:
            known = variant_names(model)
            if name not in known or name == "full":
                choices = ["local", "offload", *CANDIDATE_FAMILIES, *known[1:]]
                raise SimInputError(
                    f"unknown candidate for model '{model.name}'{did_you_mean(name, choices)}",
                    file=ctx.file,
                    key=where[1],
                    value=name,
                    allowed=list_choices(choices, limit=20),
                )
            expanded = [("split", name)]
        for kind, variant in expanded:
            override = variant if kind == "split" else kind
            plan = build_plan(
                kind,  # type: ignore[arg-type]
                variant,
                model,
                ctx.device,
                accuracy_override=ctx.accuracy_overrides.get(override),
                where=where,
            )
            seen.setdefault(plan.name, plan)
    return list(seen.values())


# ---------------------------------------------------------------- channel and workload figures


def gap_samples_s(ctx: GroupContext) -> tuple[np.ndarray, bool]:
    """Representative inter-arrival times of one device [s], and whether arrivals are random.

    Periodic: the frame interval. Poisson: 256 quantiles of the exponential law.
    On/off (MMPP-2): treated as Poisson at its mean rate (an approximation).
    Timestamps: the actual gaps, with an infinite gap before the first request
    (it always finds the radio idle) and after the last (its tail runs in full; the engine
    charges a tail only up to the measurement window's end, so the two agree when the
    window outlasts the last tail).
    """
    runtime = ctx.runtime
    if runtime is None:
        return np.array([math.inf]), False
    from sim.workload import OnOff, Periodic, Poisson, Timestamps

    workload = runtime.spec.workload
    if isinstance(workload, Periodic):
        return np.array([1.0 / workload.fps]), False
    if isinstance(workload, Timestamps):
        times = np.asarray(workload.times_s, dtype=float)
        return np.concatenate([[math.inf], np.diff(times), [math.inf]]), False
    assert isinstance(workload, Poisson | OnOff)
    rate = workload.rate_hz if isinstance(workload, Poisson) else workload.mean_rate_hz
    q = (np.arange(GAP_QUANTILES) + 0.5) / GAP_QUANTILES
    return -np.log1p(-q) / rate, True


def _tail_total_s(radio: RadioPowerModel) -> float:
    return float(getattr(radio, "tail_total_s", radio.tail_s))


def _tail_stages(radio: RadioPowerModel) -> list[tuple[float, float, float]]:
    """Tail stages as (start offset [s], end offset [s], power [W]) (one stage, or DCH + FACH)."""
    staged = getattr(radio, "tail_power_w", None)
    if staged is not None:
        return list(staged())
    return [(0.0, radio.tail_s, radio.tail_w)]


def tail_energy_j(radio: RadioPowerModel, seconds: np.ndarray | float) -> np.ndarray:
    """Energy of the first ``seconds`` of the radio's tail [J], elementwise."""
    seconds = np.asarray(seconds, dtype=float)
    total = np.zeros_like(seconds)
    for start, end, watts in _tail_stages(radio):
        total += watts * np.clip(seconds - start, 0.0, end - start)
    return total


# ---------------------------------------------------------------- the cost model


class CostModel:
    """Expected latency and energy of each candidate plan of one device group.

    ``nominal_rate_bps`` is the cell's long-run mean capacity (or None);
    ``idle_server_wait_s`` the batching window a lone job waits at an idle server;
    ``background_wait_s`` an M/G/1 estimate of the queueing other tenants cause.
    """

    def __init__(
        self, ctx: GroupContext, plans: Sequence[Plan], server_name: str | None = None
    ) -> None:
        self.ctx = ctx
        runtime = ctx.runtime
        self.radio: RadioPowerModel = (
            runtime.cell.radio_model() if runtime is not None else RADIO_PRESETS["none"]
        )
        self.tail_total_s = _tail_total_s(self.radio)
        self.idle_w = float(ctx.device.power.idle_w.value)
        if server_name is None and runtime is not None:
            server_name = runtime.server or (
                runtime.server_order[0] if runtime.server_order else None
            )
        self._fits: FitCache = {}
        self._use_server(server_name, plans)
        self.nominal_rate_bps = mean_uplink_bps(ctx)
        self.gaps_s, self.random_arrivals = gap_samples_s(ctx)
        self.arrival_rate_hz = self._arrival_rate_hz()

    def _use_server(self, server_name: str | None, plans: Sequence[Plan]) -> None:
        """Predict on ``server_name``: its path, profile, batching window and tenants."""
        self.server_name = server_name
        self.idle_server_wait_s = 0.0
        self.background_wait_s = 0.0
        server = self.ctx.server_configs.get(server_name) if server_name else None
        if server is not None:
            batching = server.batching
            self.idle_server_wait_s = batching.max_wait_s if batching.max_batch > 1 else 0.0
            self.background_wait_s = self._background_wait_s()
        self.costs: dict[str, PlanCost] = {p.name: self._plan_cost(p) for p in plans}

    def for_server(self, server_name: str) -> CostModel:
        """This model predicting on another server (channel and workload figures kept)."""
        clone = copy.copy(self)
        clone._use_server(server_name, [c.plan for c in self.costs.values()])
        return clone

    # -- fixed parts
    def _plan_cost(self, plan: Plan) -> PlanCost:
        runtime = self.ctx.runtime
        if plan.kind == "local":
            return PlanCost(plan, 0.0, 0.0, 0.0, 0.0)
        if runtime is None or self.server_name is None or plan.server is None:
            return PlanCost(plan, 8.0 * plan.payload_bytes, math.inf, math.inf, math.inf)
        cell = runtime.cell
        path = runtime.paths[self.server_name]
        profile = self.ctx.server_profiles[self.server_name]
        to_server = cell.propagation_s + path.delay_s(plan.payload_bytes)
        if plan.kind == "offload":
            to_server += profile.jpeg_decode_s.value
        service = service_model(profile, plan.server, self.ctx.model, self._fits).service_s(1)
        result_bits = 8.0 * runtime.spec.result_bytes
        rx_s = result_bits / mean_downlink_bps(self.ctx)
        back = path.delay_s(result_bits / 8.0) + cell.propagation_s + rx_s
        return PlanCost(plan, 8.0 * plan.payload_bytes, to_server, service, back, result_bits, rx_s)

    def _background_wait_s(self) -> float:
        """Pollaczek-Khinchine mean wait of M/G/1 with the background tenants' batch-1 jobs [s].

        Parts the server profile has not measured are left out. With several
        workers the server is treated as one worker that is ``workers`` times as
        fast. When the tenants alone load it to 1 or more at batch 1, only
        batching keeps it stable and the estimate is one batch window plus one
        mean job. An approximation; ``server_wait_s`` overrides it.
        """
        from sim.plans import measured_service_model
        from sim.server import variability_moments

        assert self.server_name is not None
        server = self.ctx.server_configs[self.server_name]
        profile = self.ctx.server_profiles[self.server_name]
        rate = 0.0
        first = 0.0
        second = 0.0
        _, x2 = variability_moments(server.service_variability)
        for load in server.background:
            measured = measured_service_model(profile, load.part, self._fits)
            if measured is None:
                continue
            s = measured.service_s(1) / server.workers
            rate += load.rate_hz
            first += load.rate_hz * s
            second += load.rate_hz * s * s * x2
        if rate == 0.0:
            return 0.0
        if first >= 1.0:  # utilisation at batch 1
            return server.batching.max_wait_s + first / rate
        return pollaczek_khinchine_wait_s(first, second)

    def _arrival_rate_hz(self) -> float:
        finite = self.gaps_s[np.isfinite(self.gaps_s)]
        if finite.size == 0:
            return 0.0
        return float(1.0 / finite.mean())

    # -- predictions
    def transfer_s(self, cost: PlanCost, rate_bps: float) -> float:
        """Time on air of the payload at ``rate_bps`` [s] (inf when the rate is 0)."""
        if cost.bits == 0:
            return 0.0
        return cost.bits / rate_bps if rate_bps > 0 else math.inf

    def latency_s(
        self,
        cost: PlanCost,
        rate_bps: float,
        *,
        server_wait_s: float,
        promoted: float,
        processor_wait_s: float = 0.0,
        radio_wait_s: float = 0.0,
    ) -> float:
        """Expected arrival-to-result time [s]; ``promoted`` is the probability of a promotion."""
        head = processor_wait_s + cost.plan.device_s
        if not cost.remote:
            return head
        air = self.transfer_s(cost, rate_bps)
        return (
            head
            + radio_wait_s
            + promoted * self.radio.promotion_s
            + air
            + cost.to_server_s
            + server_wait_s
            + cost.service_s
            + cost.back_s
            + self.way_back_radio(cost, server_wait_s)[1]
        )

    def energy_j(self, cost: PlanCost, rate_bps: float, *, promoted: float, tail_j: float) -> float:
        """Expected device energy of one inference above the board's idle draw [J]: compute,
        promotion, transfer, tail."""
        compute = max(0.0, cost.plan.device_w - self.idle_w) * cost.plan.device_s
        if not cost.remote:
            return compute
        air = self.transfer_s(cost, rate_bps)
        if math.isinf(air):
            return math.inf
        radio = self.radio
        return (
            compute
            + promoted * radio.promotion_w * radio.promotion_s
            + radio.transfer_energy_j(air, cost.bits)
            + tail_j
        )

    def way_back_radio(
        self, cost: PlanCost, server_wait_s: float | None = None
    ) -> tuple[float, float, float]:
        """The radio from the upload's end to the result's last bit (sim/channel/downlink.py):
        (that span [s], promotion before the reception [s], energy [J]: the tail while the
        server works (cut at its end), a promotion if the radio went idle, beta d + alpha_d B).
        ``server_wait_s``: default the idle server's batching window plus the background wait.
        """
        if not cost.remote or not math.isfinite(cost.back_s):
            return 0.0, 0.0, 0.0
        if server_wait_s is None:
            server_wait_s = self.idle_server_wait_s + self.background_wait_s
        radio, tail = self.radio, self.tail_total_s
        quiet = cost.to_server_s + server_wait_s + cost.service_s + (cost.back_s - cost.rx_s)
        promo_s = radio.promotion_s if quiet > tail else 0.0
        energy = float(tail_energy_j(radio, min(quiet, tail))) + radio.promotion_w * promo_s
        energy += radio.receive_energy_j(cost.rx_s, cost.result_bits)
        return quiet + promo_s + cost.rx_s, promo_s, energy

    def radio_expectations(
        self, cost: PlanCost, rate_bps: float, server_wait_s: float | None = None
    ) -> tuple[float, float]:
        """(probability of a promotion, expected tail and reception energy [J]) when every
        request uses ``cost``.

        The radio is busy from the start of the upload to the end of the result's reception
        (:meth:`way_back_radio`), then idles until the next upload: the inter-arrival gap
        minus that span and any promotion. A request is promoted when the idle time before
        it exceeds the tail; it pays the tail up to the next transfer.
        """
        if not cost.remote:
            return 0.0, 0.0
        air = self.transfer_s(cost, rate_bps)
        if math.isinf(air):
            return 1.0, float(tail_energy_j(self.radio, self.tail_total_s))
        back_span_s, _, back_j = self.way_back_radio(cost, server_wait_s)
        air += back_span_s  # the radio's busy span: upload, the server's time, reception
        tail = self.tail_total_s
        promo_s = self.radio.promotion_s
        gaps = self.gaps_s
        if self.random_arrivals or len(gaps) == 1:
            # Stationary: assume the previous request was promoted when the gap is long.
            idle = gaps - air - promo_s
            promoted = float(np.mean(idle > tail))
            idle = gaps - air - promoted * promo_s
            tails_j = np.mean(tail_energy_j(self.radio, np.clip(idle, 0.0, tail)))
            return promoted, float(tails_j) + back_j
        # Timestamps: walk the sequence (gaps[0] = inf before the first request).
        promoted_each = []
        tails = []
        was_promoted = True
        for i in range(len(gaps) - 1):
            before = gaps[i] - air - (promo_s if was_promoted else 0.0)
            was_promoted = bool(i == 0 or before > tail)
            promoted_each.append(was_promoted)
            after = gaps[i + 1] - air - (promo_s if was_promoted else 0.0)
            tails.append(float(tail_energy_j(self.radio, min(max(after, 0.0), tail))))
        return float(np.mean(promoted_each)), float(np.mean(tails)) + back_j

    def queue_wait_s(self, busy_s: float) -> float:
        """Mean wait behind the device's own earlier requests for a resource held ``busy_s`` each.

        Periodic and timestamp arrivals with utilisation below 1 never queue (D/D/1);
        random ones wait as in M/D/1, rho s / (2 (1 - rho)). Utilisation 1 or more: inf.
        """
        rho = self.arrival_rate_hz * busy_s
        if rho >= 1.0:
            return math.inf
        if not self.random_arrivals:
            return 0.0
        return pollaczek_khinchine_wait_s(rho, rho * busy_s)  # lambda E[S^2] = rho s

    def steady_state(
        self,
        cost: PlanCost,
        rate_bps: float,
        server_wait_s: float,
        budget_j: float | None,
        min_accuracy: float | None,
    ) -> Estimate:
        """A plan's expected latency and energy when every request of the device follows it."""
        promoted, tail_j = self.radio_expectations(cost, rate_bps, server_wait_s)
        processor_wait = self.queue_wait_s(cost.plan.device_s)
        radio_wait = 0.0
        if cost.remote:
            radio_wait = self.queue_wait_s(
                self.transfer_s(cost, rate_bps) + promoted * self.radio.promotion_s
            )
        latency = self.latency_s(
            cost,
            rate_bps,
            server_wait_s=server_wait_s,
            promoted=promoted,
            processor_wait_s=processor_wait,
            radio_wait_s=radio_wait,
        )
        energy = self.energy_j(cost, rate_bps, promoted=promoted, tail_j=tail_j)
        feasible = allowed(cost.plan, energy, budget_j, min_accuracy)
        return Estimate(cost.plan, latency, energy, feasible)


def allowed(
    plan: Plan, energy_j: float, budget_j: float | None, min_accuracy: float | None
) -> bool:
    """Whether a plan meets the accuracy floor and the energy budget."""
    if min_accuracy is not None and plan.accuracy < min_accuracy - 1e-12:
        return False
    return not (budget_j is not None and energy_j > budget_j)


def best(
    estimates: Sequence[Estimate],
    objective: str,
    *,
    min_accuracy: float | None = None,
    budget_j: float | None = None,
) -> Estimate:
    """The feasible estimate of least cost, or the closest thing when none is feasible.

    With no feasible plan: under an accuracy floor, the plans meeting it (or, if
    none does, the most accurate ones) are kept; then under an energy budget the
    one of least energy is taken, otherwise the one of least cost. Ties go to the
    earlier plan.
    """
    feasible = [e for e in estimates if e.feasible]
    if feasible:
        return min(feasible, key=lambda e: e.cost(objective))
    pool = list(estimates)
    if min_accuracy is not None:
        meeting = [e for e in pool if e.plan.accuracy >= min_accuracy - 1e-12]
        if not meeting:
            top = max(e.plan.accuracy for e in pool)
            meeting = [e for e in pool if e.plan.accuracy >= top - 1e-12]
        pool = meeting
    if budget_j is not None:
        return min(pool, key=lambda e: (e.energy_j, e.cost(objective)))
    return min(pool, key=lambda e: e.cost(objective))
