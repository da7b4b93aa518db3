"""Scenario configuration of strategies (the policy a device group follows).

A strategy is written either as a string shorthand or as a mapping with a
``kind``: ``local``; ``offload``; any variant name such as ``bottlefit_c12``,
``ae_c12`` or ``split_transition2_uint8`` (a fixed split); ``static_optimum``,
``adaptive`` or ``deadline_aware`` (decision policies, defaults as below); or a
name defined under the scenario's ``strategies:``.

Decision policies choose among *candidates*: names of plans (``local``,
``offload``, a variant name) or of families of plans, expanded against the
device group's model profile (:data:`CANDIDATE_FAMILIES`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from sim.validation import NonNegFloat, PositiveFloat, Probability, Strict

CANDIDATE_FAMILIES: dict[str, str] = {
    "bottlefit": "every BottleFit variant of the model (bottlefit_c<C>)",
    "autoencoder": "every autoencoder variant of the model (ae_c<C>)",
    "split": "every vanilla split: after each natural block, in fp32, fp16 and uint8",
}
"""Families a candidate list may name besides ``local``, ``offload`` and single variants.
A family the model has no member of contributes nothing (so ``autoencoder`` is harmless
until the model profile carries AE variants)."""

Objective = Literal["latency", "energy"]
"""What a decision policy minimises: expected end-to-end latency [s] or expected device
energy per inference above the board's idle draw (compute above idle + radio) [J]
(docs/energy.md)."""


class LocalStrategy(Strict):
    """Run the whole model on the device."""

    kind: Literal["local"]
    name: str | None = Field(
        default=None, description="name the strategy is reported under (default: its kind)"
    )


class OffloadStrategy(Strict):
    """Send the input JPEG; the server runs the whole model."""

    kind: Literal["offload"]
    name: str | None = Field(
        default=None, description="name the strategy is reported under (default: its kind)"
    )


class SplitStrategy(Strict):
    """Always split with one variant (BottleFit, autoencoder or vanilla split)."""

    kind: Literal["split"]
    variant: str = Field(
        min_length=1,
        description="model variant to split with: bottlefit_c<C>, ae_c<C> or "
        "split_<block>_<fp32|fp16|uint8>",
    )
    name: str | None = Field(
        default=None, description="name the strategy is reported under (default: the variant)"
    )


class _Constrained(Strict):
    """Objective and constraints shared by the decision policies."""

    objective: Objective = Field(
        default="latency",
        description="what the policy minimises: latency (expected end-to-end latency) or energy "
        "(device energy per inference above idle)",
    )
    min_accuracy: Probability | None = Field(
        default=None,
        description="accuracy floor: only plans with expected top-1 >= this [1]",
    )
    energy_budget_j: PositiveFloat | None = Field(
        default=None,
        description="energy budget: only plans expected to cost <= this per inference, above the "
        "board's idle draw [J]",
    )


class StaticOptimumStrategy(_Constrained):
    """Neurosurgeon-style static optimum.

    Kang et al., "Neurosurgeon: Collaborative Intelligence Between the Cloud and
    Mobile Edge", ASPLOS 2017: predict each partition's latency (or mobile energy)
    from per-layer profiles and the current bandwidth and server load, and pick the
    best. Here the prediction uses the device and server profiles, the cell's mean
    uplink capacity, the radio power model and the server's batching window and
    background load; the choice is made once, when the scenario is loaded, and every
    request of the group follows it. See :mod:`sim.policies.costs`.
    """

    kind: Literal["static_optimum"]
    name: str | None = Field(
        default=None, description="name the strategy is reported under (default: its kind)"
    )
    candidates: list[str] = Field(
        default_factory=lambda: ["local", "offload", "bottlefit", "autoencoder", "split"],
        min_length=1,
        description="plans to choose from: local, offload, variant names, or families (bottlefit, "
        "autoencoder, split)",
    )
    mean_rate_bps: PositiveFloat | None = Field(
        default=None,
        description="uplink rate to plan for [bit/s]; default: the cell's long-run mean capacity "
        "(per device; divide by the expected number of concurrent senders in a shared cell)",
    )
    server_wait_s: NonNegFloat | None = Field(
        default=None,
        description="server queueing wait to plan for [s]; default: batching window + an M/G/1 "
        "estimate from the server's background load",
    )


class _Estimating(_Constrained):
    """Settings of the per-device estimates of the adaptive policies (:mod:`sim.policies.estimators`)."""

    ewma_alpha: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
        default=0.3,
        description="weight of the newest sample in the throughput and server-wait EWMAs; after "
        "a step change the estimate closes a fraction 1-(1-alpha)^k of the gap in k samples [1]",
    )
    initial_rate_bps: PositiveFloat | None = Field(
        default=None, description="throughput prior [bit/s]; default: the cell's long-run mean"
    )
    probe_after_s: PositiveFloat | None = Field(
        default=2.0,
        description="after this long without an uplink transfer, send one request remotely to "
        "refresh a stale estimate [s]; null: never probe",
    )
    overdue_factor: Annotated[float, Field(gt=1, allow_inf_nan=False)] = Field(
        default=3.0,
        description="a remote request still out after this many times its predicted latency "
        "caps the throughput estimate at its payload / its age [1]",
    )


class AdaptiveStrategy(_Estimating):
    """Per-request choice from the device's own, possibly stale, estimates.

    The device estimates its uplink throughput as an EWMA of the goodput of its own
    transfers (Jacobson-style smoothing, as in RFC 6298 §2 for round-trip times) and
    the server's queueing wait as an EWMA of the waits reported in responses; both
    go stale when it stops sending (hence probes). For each request it picks the
    candidate with the least expected latency (or energy) subject to the accuracy
    floor or energy budget. Hysteresis: it leaves its current plan only for one
    expected to be better by more than ``switch_margin`` (relative).
    """

    kind: Literal["adaptive"]
    name: str | None = Field(
        default=None, description="name the strategy is reported under (default: its kind)"
    )
    candidates: list[str] = Field(
        default_factory=lambda: ["local", "offload", "bottlefit", "autoencoder"],
        min_length=1,
        description="plans to choose from: local, offload, variant names, or families (bottlefit, "
        "autoencoder, split)",
    )
    switch_margin: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] = Field(
        default=0.0,
        description="hysteresis: switch only when the best plan is expected to cost less than "
        "(1 - switch_margin) x the current plan's cost [1]",
    )


class DeadlineAwareStrategy(_Estimating):
    """A preferred plan, with fallbacks when its predicted finish misses the deadline.

    Predicts each request's finish like :class:`AdaptiveStrategy` and walks
    ``[preferred, *fallbacks]`` in order, taking the first plan predicted to finish
    within ``margin`` x the group's deadline (and meeting the accuracy floor and the
    energy budget); if none is, the one predicted to finish first. Every request not
    served by the preferred plan counts as a fallback (``policy_fallbacks``).
    """

    kind: Literal["deadline_aware"]
    name: str | None = Field(
        default=None, description="name the strategy is reported under (default: its kind)"
    )
    preferred: str | None = Field(
        default=None,
        description="plan to use when it meets the deadline; default: the model's BottleFit "
        "variant with the most channels (else offload)",
    )
    fallbacks: list[str] | None = Field(
        default=None,
        description="plans to try in order; default: the same family with fewer channels "
        "(largest first), then local",
    )
    margin: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
        default=0.9, description="aim to finish within margin x deadline_s [1]"
    )

    @model_validator(mode="after")
    def _no_repeat(self) -> DeadlineAwareStrategy:
        if self.preferred is not None and self.fallbacks and self.preferred in self.fallbacks:
            raise ValueError(f"fallbacks repeat the preferred plan '{self.preferred}'")
        return self


class SpinnStrategy(_Estimating):
    """SPINN-style progressive inference: split point and exit threshold per request.

    A stand-in for SPINN's scheduler (Laskaridis et al., MobiCom 2020), whose algorithm is
    not public here; see :mod:`sim.policies.spinn` and docs/early_exits.md. Exit shares and
    accuracies come from the device group's ``exits`` source (a proxy table by default).
    """

    kind: Literal["spinn"]
    name: str | None = Field(
        default=None, description="name the strategy is reported under (default: its kind)"
    )
    objective: Literal["accuracy", "latency", "energy"] = Field(  # type: ignore[assignment]
        default="accuracy",
        description="accuracy: most expected on-time accuracy; latency / energy: least expected "
        "latency [s] / device energy [J], under the accuracy floor and energy budget",
    )
    splits: list[str] | None = Field(
        default=None,
        min_length=1,
        description="splits to choose from: input (server only), natural blocks, device (device "
        "only); default: all of them",
    )
    thresholds: list[Probability] = Field(
        default_factory=lambda: [0.4, 0.6, 0.8, 1.0],
        min_length=1,
        description="confidence thresholds to choose from (1 = exits off, always added) [1]",
    )
    dtype: Literal["fp32", "fp16", "uint8"] = Field(
        default="uint8", description="payload dtype of the split tensor"
    )
    margin: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)] = Field(
        default=0.9, description="an answer counts as on time within margin x deadline_s [1]"
    )


DECISION_KINDS = ("static_optimum", "adaptive", "deadline_aware", "spinn")

StrategyConfig = Annotated[
    LocalStrategy
    | OffloadStrategy
    | SplitStrategy
    | StaticOptimumStrategy
    | AdaptiveStrategy
    | DeadlineAwareStrategy
    | SpinnStrategy,
    Field(discriminator="kind"),
]


def strategy_label(config: StrategyConfig) -> str:
    """The name a strategy is reported under."""
    if config.name:
        return config.name
    if isinstance(config, SplitStrategy):
        return config.variant
    return config.kind


def shorthand(text: str) -> dict:
    """The mapping a string shorthand stands for."""
    if text in ("local", "offload", *DECISION_KINDS):
        return {"kind": text}
    return {"kind": "split", "variant": text}


class StrategyHolder(Strict):
    """Wrapper used to validate one strategy entry on its own."""

    strategy: StrategyConfig
