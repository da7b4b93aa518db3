"""Block errors, HARQ retransmissions and application-level retries of one transfer.

A transfer that occupies T seconds of air time at the device's own rate is cut
into K = ceil(T / TTI) transport blocks, one per TTI (in a time-shared cell the
device gets fewer TTIs, but each carries a full-rate block, so K is the same).
Each block is sent up to ``max_transmissions`` times until it is decoded:

* ``bler``: independent errors; transmission k fails with probability
  BLER(m + 10 log10 k) under chase combining (k copies add their energy; Chase
  1985), where BLER(m) = 1 / (1 + (1/b0 - 1) e^{slope m}) is a logistic
  waterfall through the link-adaptation target b0 at margin m = 0 dB. LTE/NR
  link adaptation targets b0 = 10 % (CQI definition, TS 36.213 §7.2.3).
* ``gilbert_elliott``: bursty errors; a discrete GE chain steps once per TTI
  (p = P(G->B), r = P(B->G), per-state loss probabilities); the k-th copy of
  block i goes out at TTI i + (k - 1) * RTT/TTI and sees the chain's state there.

Retransmissions take air time (the transfer sends K + extra blocks' worth of
bits), and HARQ's parallel stop-and-wait processes hide the round trips of all
but the last ``harq_processes`` blocks: the transfer ends (r_tail) HARQ RTTs
after its last block first went out, r_tail = the most retransmissions among
those last blocks. A block that fails every transmission fails the attempt.

An attempt that fails (residual HARQ error, or ``attempt_timeout_s`` passed)
is retried from scratch after ``backoff_s``, up to ``max_retries`` times and
within the cell's ``transfer_timeout_s``; after that the transfer fails and
its request ends ``failed`` (reason ``transfer_failed``).

Sampling costs O(max_transmissions) per attempt for ``bler`` (a multinomial
over the number of transmissions) and O(K * max_transmissions) for GE.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Annotated, Literal, NamedTuple

import numpy as np
from pydantic import Field

from sim.channel import gilbert
from sim.validation import NonNegFloat, NonNegInt, PositiveFloat, PositiveInt, Probability, Strict

MAX_BLOCKS_SIMULATED = 1_000_000


class _Harq(Strict):
    max_transmissions: PositiveInt = Field(
        default=4, description="HARQ transmissions per block, first included (assumed)"
    )
    harq_rtt_s: PositiveFloat = Field(
        default=0.008, description="LTE FDD: a retransmission 8 subframes later (TS 36.213 §8)"
    )
    tti_s: PositiveFloat = Field(default=0.001, description="LTE subframe / NR slot at 15 kHz")
    harq_processes: PositiveInt = Field(default=8, description="LTE FDD uplink (TS 36.213 §8)")


class BlerErrors(_Harq):
    """Independent block errors from a BLER waterfall, with chase combining."""

    kind: Literal["bler"]
    first_bler: Probability = Field(
        default=0.1, description="BLER at the link-adaptation point [1]"
    )
    snr_margin_db: float = Field(default=0.0, description="SINR above the MCS switching point")
    slope_per_db: PositiveFloat = Field(
        default=2.0, description="waterfall steepness [1/dB] (assumed; turbo/LDPC order)"
    )
    chase_combining: bool = Field(
        default=True, description="the k-th copy of a block sees +10 log10 k dB (chase combining)"
    )

    def transmission_bler(self) -> np.ndarray:
        """BLER of transmission k = 1..max_transmissions."""
        k = np.arange(1, self.max_transmissions + 1)
        margin = self.snr_margin_db + (10.0 * np.log10(k) if self.chase_combining else 0.0 * k)
        b0 = min(max(self.first_bler, 1e-12), 1.0 - 1e-12)
        return 1.0 / (1.0 + (1.0 / b0 - 1.0) * np.exp(self.slope_per_db * margin))


class GilbertElliottErrors(_Harq):
    """Bursty block errors: a GE chain stepping once per TTI."""

    kind: Literal["gilbert_elliott"]
    p: Probability = Field(description="P(good -> bad) per TTI [1]")
    r: Annotated[float, Field(gt=0, le=1)] = Field(description="P(bad -> good) per TTI [1]")
    loss_good: Probability = Field(
        default=0.0, description="block error probability in the good state [1]"
    )
    loss_bad: Probability = Field(
        default=1.0, description="block error probability in the bad state [1]"
    )


ErrorModelConfig = Annotated[BlerErrors | GilbertElliottErrors, Field(discriminator="kind")]


class RetryConfig(Strict):
    """Application-level retry of a whole payload."""

    max_retries: NonNegInt = Field(
        default=0, description="application-level retries of a whole payload after HARQ gave up"
    )
    backoff_s: NonNegFloat = Field(default=0.1, description="wait before each retry")
    attempt_timeout_s: PositiveFloat | None = Field(
        default=None, description="give up an attempt after this long and retry [s]"
    )


class HarqOutcome(NamedTuple):
    """One attempt's HARQ result: blocks, retransmitted blocks, tail rounds, failed blocks."""

    blocks: int
    extra_blocks: int
    tail_rounds: int
    failed_blocks: int


@lru_cache(maxsize=64)
def _bler_law(model: BlerErrors) -> tuple[np.ndarray, np.ndarray]:
    """(P(block needs k transmissions) for k = 1..m, then P(fails all m); retransmissions per
    outcome). A function of the frozen model only: computed once per model, not per attempt."""
    bler = model.transmission_bler()
    survive = np.cumprod(bler)
    before = np.concatenate([[1.0], survive[:-1]])
    probs = np.concatenate([before * (1.0 - bler), [survive[-1]]])
    m = model.max_transmissions
    rounds = np.arange(m + 1)  # index k -> k retransmissions; the last index = failed (m - 1)
    rounds[-1] = m - 1
    return probs / probs.sum(), rounds


def _bler_outcome(model: BlerErrors, blocks: int, rng: np.random.Generator) -> HarqOutcome:
    probs, rounds = _bler_law(model)
    tail = min(blocks, model.harq_processes)
    head_counts = rng.multinomial(blocks - tail, probs)
    tail_counts = rng.multinomial(tail, probs)
    counts = head_counts + tail_counts
    extra = int(np.dot(counts, rounds))
    used = np.flatnonzero(tail_counts[:-1])
    tail_rounds = int(used[-1]) if used.size else 0
    return HarqOutcome(blocks, extra, tail_rounds, int(counts[-1]))


def _ge_outcome(model: GilbertElliottErrors, blocks: int, rng: np.random.Generator) -> HarqOutcome:
    m = model.max_transmissions
    rtt_tti = max(1, round(model.harq_rtt_s / model.tti_s))
    length = blocks + (m - 1) * rtt_tti
    states, _ = gilbert.sample_states(length, model.p, model.r, rng)
    loss = np.where(states == 1, model.loss_bad, model.loss_good)
    slots = np.arange(blocks)[:, None] + rtt_tti * np.arange(m)[None, :]
    lost = rng.random((blocks, m)) < loss[slots]
    decoded = ~lost
    ok = decoded.any(axis=1)
    first = np.where(ok, decoded.argmax(axis=1), m - 1)  # retransmissions used
    extra = int(first.sum())
    tail = min(blocks, model.harq_processes)
    tail_ok = ok[-tail:]
    tail_rounds = int(first[-tail:][tail_ok].max()) if tail_ok.any() else 0
    return HarqOutcome(blocks, extra, tail_rounds, int((~ok).sum()))


def harq_outcome(
    model: BlerErrors | GilbertElliottErrors, air_time_s: float, rng: np.random.Generator
) -> HarqOutcome:
    """Sample the HARQ result of an attempt that needs ``air_time_s`` at the device's own rate."""
    blocks = max(1, math.ceil(air_time_s / model.tti_s - 1e-9))
    if isinstance(model, BlerErrors):
        return _bler_outcome(model, blocks, rng)
    scale = 1.0
    if blocks > MAX_BLOCKS_SIMULATED:
        scale = blocks / MAX_BLOCKS_SIMULATED
        blocks = MAX_BLOCKS_SIMULATED
    out = _ge_outcome(model, blocks, rng)
    if scale == 1.0:
        return out
    return HarqOutcome(
        int(out.blocks * scale), int(out.extra_blocks * scale), out.tail_rounds, out.failed_blocks
    )
