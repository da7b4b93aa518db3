"""What a device can estimate from its own traffic: uplink goodput, server wait, its radio.

The estimates are exponentially weighted moving averages (EWMA) of samples the
device observes when its requests come back, the smoothing used for TCP's
round-trip time (RFC 6298 §2, there with alpha = 1/8):

    estimate <- (1 - alpha) x estimate + alpha x sample

After a step change of the true value from ``a`` to ``b`` the estimate after k
new samples is ``b + (a - b) (1 - alpha)^k``: it closes a fraction
``1 - (1 - alpha)^k`` of the gap, so it needs ``ceil(ln(eps) / ln(1 - alpha))``
samples to come within ``eps`` of the gap (:func:`samples_to_converge`). The
samples come only from the device's own transfers and arrive when a request
ends, so the estimate is also *stale*: it lags by one request's latency at
least, and it stops moving altogether while the device computes locally (the
policies then probe). A remote request that is overdue is evidence too: if it
left ``age`` seconds ago with ``bits`` and has not come back, the link has not
delivered more than ``bits / age`` for it (:meth:`DeviceEstimates.effective_rate_bps`).
No randomness is used.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from sim.policies.base import Feedback


def ewma_after(start: float, target: float, alpha: float, samples: int) -> float:
    """The EWMA after ``samples`` samples of ``target``, starting from ``start``."""
    return target + (start - target) * (1.0 - alpha) ** samples


def samples_to_converge(alpha: float, eps: float) -> int:
    """Samples after a step change until the EWMA is within ``eps`` x the step of its new value."""
    if alpha >= 1.0:
        return 1
    return max(1, math.ceil(math.log(eps) / math.log(1.0 - alpha) - 1e-12))


@dataclass(slots=True)
class _Outstanding:
    arrival_s: float
    bits: float
    predicted_s: float
    head_end_s: float


class DeviceEstimates:
    """One device's uplink-goodput and server-wait EWMAs, and its own radio bookkeeping.

    ``rate_bps`` [bit/s] and ``server_wait_s`` [s] start from priors; samples:
    goodput = bits sent / time on air of each finished transfer (failed transfers
    included: a timeout that delivered nothing is a sample of 0), and the
    server's reported wait (arrival to batch start) in each response.
    """

    def __init__(
        self,
        alpha: float,
        initial_rate_bps: float,
        initial_server_wait_s: float,
        overdue_factor: float,
    ) -> None:
        self.alpha = float(alpha)
        self.rate_bps = float(initial_rate_bps)
        self.server_wait_s = float(initial_server_wait_s)
        self.overdue_factor = float(overdue_factor)
        self.rate_samples = 0
        self.last_sample_s = -math.inf
        self.last_remote_s = 0.0  # last remote dispatch [s]; the run starts with fresh priors
        self.radio_free_s = 0.0  # when the device expects its radio to be free [s]
        self.radio_last_end_s = -math.inf  # when it expects its last transfer to end [s]
        self.outstanding: list[_Outstanding] = []
        self.head_ends: deque[float] = deque()  # compute ends of its requests [s] (FIFO processor)

    # -- reading
    def effective_rate_bps(self, now_s: float) -> float:
        """The goodput estimate, capped by any overdue remote request's bits / age [bit/s]."""
        rate = self.rate_bps
        for item in self.outstanding:
            age = now_s - item.arrival_s
            if item.bits > 0 and age > self.overdue_factor * item.predicted_s and age > 0:
                rate = min(rate, item.bits / age)
        return rate

    def radio_backlog_free_s(self, now_s: float, pending: int, rate_bps: float) -> float:
        """When the payloads now waiting for or on the radio will have gone, at ``rate_bps`` [s].

        The device knows how many of its requests are still on it (``pending``: computing, or
        waiting for / using the radio) and when each computation ends (its processor is FIFO
        and deterministic), hence how many are uploading, and which: the latest remote ones
        whose computation is over (the radio is FIFO too). Their whole payloads are counted
        (the part already sent is unknown), so this errs late. With nothing uploading and no
        remote request still computing, the radio is free now, whatever was predicted.
        """
        while self.head_ends and self.head_ends[0] <= now_s:
            self.head_ends.popleft()
        uploading = max(0, pending - len(self.head_ends))
        if uploading == 0:
            if not any(o.head_end_s > now_s for o in self.outstanding):
                self.radio_free_s = min(self.radio_free_s, now_s)
            return now_s
        done = [o for o in self.outstanding if o.head_end_s <= now_s]
        bits = sum(o.bits for o in done[-uploading:])
        return now_s + bits / rate_bps if rate_bps > 0 else math.inf

    def stale_for_s(self, now_s: float) -> float:
        """Time since the device last sent anything remotely [s] (0 while a request is out)."""
        if self.outstanding:
            return 0.0
        return now_s - self.last_remote_s

    # -- bookkeeping
    def computed(self, head_end_s: float) -> None:
        """A request (local or remote) was admitted; its computation ends at ``head_end_s``."""
        self.head_ends.append(head_end_s)

    def dispatched(
        self,
        now_s: float,
        bits: float,
        head_end_s: float,
        radio_end_s: float,
        predicted_s: float,
    ) -> None:
        """A remote plan was chosen now; its head ends at ``head_end_s`` and the radio is
        expected busy with it until ``radio_end_s``."""
        self.last_remote_s = now_s
        self.radio_free_s = max(self.radio_free_s, radio_end_s)
        self.radio_last_end_s = max(self.radio_last_end_s, radio_end_s)
        self.outstanding.append(_Outstanding(now_s, bits, predicted_s, head_end_s))

    def observe(self, feedback: Feedback) -> None:
        """Learn from a request that ended: goodput and server-wait samples."""
        if feedback.plan.kind == "local":
            return
        arrival = feedback.now_s - feedback.latency_s
        if self.outstanding:
            k = min(
                range(len(self.outstanding)),
                key=lambda i: abs(self.outstanding[i].arrival_s - arrival),
            )
            self.outstanding.pop(k)
        if not self.outstanding:
            # Its transfer is over, and nothing else is queued: the radio is free now at the latest.
            self.radio_free_s = min(self.radio_free_s, feedback.now_s)
            self.radio_last_end_s = min(self.radio_last_end_s, feedback.now_s)
        if feedback.uplink_s > 0:
            sample = feedback.uplink_bits / feedback.uplink_s
            self.rate_bps += self.alpha * (sample - self.rate_bps)
            self.rate_samples += 1
            self.last_sample_s = feedback.now_s
        if math.isfinite(feedback.server_wait_s):
            self.server_wait_s += self.alpha * (feedback.server_wait_s - self.server_wait_s)
