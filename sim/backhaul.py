"""Backhaul links that queue: each direction of a wired link is a FIFO server of bits.

A payload of B bits crossing hop k of a :class:`~sim.network.Path` (capacity
C_k [bit/s], latency L_k [s]) is *store and forward*: it starts on hop k only
once it is fully received at the hop's near end, waits there behind the
payloads that arrived at that end before it (first in, first out: one
transmitter per direction, full duplex), occupies the transmitter for B / C_k
and reaches the far end L_k after its last bit left (propagation does not
occupy the transmitter). Hence with A the arrival at the near end and F the
time the transmitter frees,

    start_k = max(A_k, F_k),  F_k <- start_k + B / C_k,  A_{k+1} = F_k + L_k.

Processing payloads in order of their arrival at each hop makes F_k exact
for FIFO: no explicit queue is kept. A hop that does not queue (``queueing:
false``: today's infinite-capacity model, as PureEdgeSim's default links and
EdgeCloudSim's fixed delays) is pure arithmetic, A_{k+1} = A_k + B / C_k + L_k.
Events: one per *queueing* hop, at the payload's arrival there (the order of
arrivals is only known then); a path without queueing hops costs none. A
queueing hop whose only feeder is the queueing hop before it (a transit node
no other link or path enters that direction from) needs no event: payloads leave
the feeder first in first out and take the same latency, so they reach it in the
order the feeder served them, and it is served right after the feeder. The
feeders come from every path the run may use, given when the backhaul is made
(``paths``); a path it was not told of turns chaining off from then on.

This is EdgeCloudSim's MAN/WAN model (an M/M/1 delay 1/(mu - lambda), its
``MM1Queue``; ../shared/reference/edge_orchestration.md §a) played out payload
by payload instead of from mean rates, so bursts and payload sizes count.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import simpy

from sim.network import Path

__all__ = ["Backhaul", "BackhaulLoadWarning", "LinkDirection"]


class BackhaulLoadWarning(UserWarning):
    """A link that does not queue was offered more than its capacity (its delays are too low)."""


class LinkDirection:
    """One direction of a wired link: its FIFO transmitter and what it carried.

    Totals are kept inside the measurement window ``[window_s[0], window_s[1])`` of clock
    time, a transmission straddling an edge counted pro rata.
    """

    __slots__ = (
        "a",
        "b",
        "bits",
        "busy_s",
        "capacity_bps",
        "free_at_s",
        "latency_s",
        "max_wait_s",
        "payloads",
        "queues",
        "wait_s",
    )

    def __init__(self, a: str, b: str, capacity_bps: float, latency_s: float, queues: bool):
        self.a = a
        self.b = b
        self.capacity_bps = capacity_bps
        self.latency_s = latency_s
        self.queues = queues
        self.free_at_s = -math.inf  # when the transmitter is free again [s]
        self.bits = 0.0  # bits on the wire inside the window [bit]
        self.busy_s = 0.0  # transmission time inside the window [s] (summed, see utilisation)
        self.payloads = 0  # payloads whose transmission started inside the window
        self.wait_s = 0.0  # their summed FIFO waits [s]
        self.max_wait_s = 0.0

    def transmit(self, arrival_s: float, bits: float, window_s: tuple[float, float]) -> float:
        """A payload of ``bits`` fully received at the near end at ``arrival_s``: the time
        its last bit leaves [s] (after its FIFO wait when the link queues)."""
        start = max(arrival_s, self.free_at_s) if self.queues else arrival_s
        end = start + bits / self.capacity_bps
        if self.queues:
            self.free_at_s = end
        w0, w1 = window_s
        if w0 <= start < w1:
            wait = start - arrival_s
            self.payloads += 1
            self.wait_s += wait
            self.max_wait_s = max(self.max_wait_s, wait)
        if end > start:
            inside = max(0.0, min(end, w1) - max(start, w0))
            self.busy_s += inside
            self.bits += bits * inside / (end - start)
        return end

    def result_row(self, window_s: tuple[float, float]) -> dict[str, Any]:
        length = window_s[1] - window_s[0]
        return {
            "link_from": self.a,
            "link_to": self.b,
            "capacity_bps": self.capacity_bps,
            "latency_s": self.latency_s,
            "queueing": self.queues,
            "payloads": self.payloads,
            "bits": self.bits,
            "busy_s": self.busy_s,
            "utilisation": self.busy_s / length if length > 0 else math.nan,
            "mean_wait_s": self.wait_s / self.payloads if self.payloads else math.nan,
            "max_wait_s": self.max_wait_s if self.payloads else math.nan,
        }


class _Resume:
    """The callback that walks a payload on from a queueing hop at its arrival there."""

    __slots__ = ("args", "backhaul")

    def __init__(self, backhaul: Backhaul, *args: Any) -> None:
        self.backhaul = backhaul
        self.args = args

    def __call__(self, _event: object) -> None:
        self.backhaul._walk(*self.args)


class Backhaul:
    """The wired links of one run, each direction a :class:`LinkDirection`.

    ``window_s``: the measurement window of the link totals (clock time [s]).
    """

    def __init__(
        self,
        env: simpy.Environment,
        window_s: tuple[float, float] = (0.0, math.inf),
        paths: Iterable[Path] | None = None,
    ) -> None:
        self.env = env
        self.window = window_s
        self.links: dict[tuple[str, str], LinkDirection] = {}
        # Each direction's feeders: the directions payloads reach it from (None: a path
        # starts there), from every path the run may use.
        self._feeders: dict[tuple[str, str], set[tuple[str, str] | None]] = {}
        self._paths: set[tuple[str, ...]] = set()
        for path in paths or ():
            self._add_path(path)
        self.chaining = paths is not None  # off without the full set of paths, or once a
        # path outside it is sent (a hop served ahead of time might have had another feeder)

    def _add_path(self, path: Path) -> None:
        """Register a path payloads may take: its hops' feeders."""
        self._paths.add(path.nodes)
        feeder: tuple[str, str] | None = None
        for hop in range(len(path.nodes) - 1):
            direction = (path.nodes[hop], path.nodes[hop + 1])
            self._feeders.setdefault(direction, set()).add(feeder)
            feeder = direction

    def _chained(self, path: Path, hop: int) -> bool:
        """Whether hop ``hop`` (> 0) of ``path`` is fed only by the queueing hop before it."""
        feeders = self._feeders.get((path.nodes[hop], path.nodes[hop + 1]))
        return (
            self.chaining
            and feeders is not None
            and len(feeders) == 1
            and (path.nodes[hop - 1], path.nodes[hop]) in feeders
            and path.queues[hop - 1]
        )

    def link(self, path: Path, hop: int) -> LinkDirection:
        """The direction ``path.nodes[hop] -> path.nodes[hop + 1]`` (made on first use)."""
        a, b = path.nodes[hop], path.nodes[hop + 1]
        state = self.links.get((a, b))
        if state is None:
            latency = path.latencies_s[hop] if path.latencies_s else 0.0
            queues = path.queues[hop] if path.queues else False
            state = self.links[(a, b)] = LinkDirection(
                a, b, path.capacities_bps[hop], latency, queues
            )
        return state

    def queues(self, path: Path) -> bool:
        """Whether any hop of ``path`` is a FIFO queue."""
        return any(path.queues)

    def send(
        self,
        path: Path,
        bits: float,
        on_arrival: Callable[[float], None],
        t_s: float | None = None,
    ) -> None:
        """Send ``bits`` into ``path.nodes[0]`` at ``t_s`` (default now).

        ``on_arrival(arrival_s)`` is called once the arrival time at the last node is known:
        at once when no hop queues, else at the payload's arrival at the last queueing hop,
        so at a simulated time <= ``arrival_s``; the caller schedules what happens on arrival.
        A payload that entered in the past (an early-exit job's result, ready before its
        batch ended) reaches a queueing hop it should have reached already now, with its
        true arrival time: it queues only behind what the hop took since.
        """
        if path.nodes not in self._paths:
            self._add_path(path)
            self.chaining = False
        self._walk(path, bits, 0, self.env.now if t_s is None else float(t_s), on_arrival)

    def _walk(
        self,
        path: Path,
        bits: float,
        hop: int,
        t_s: float,
        on_arrival: Callable[[float], None],
    ) -> None:
        """From hop ``hop``, reached at ``t_s``: arithmetic up to the next queueing hop that
        is not chained to the one before it, entered at the payload's arrival there (one
        event)."""
        hops = len(path.capacities_bps)
        queues = path.queues
        while hop < hops:
            if (
                queues
                and queues[hop]
                and t_s > self.env.now
                and not (hop > 0 and self._chained(path, hop))
            ):
                event = self.env.timeout(t_s - self.env.now)
                event.callbacks.append(_Resume(self, path, bits, hop, t_s, on_arrival))
                return
            link = self.link(path, hop)
            t_s = link.transmit(t_s, bits, self.window) + link.latency_s
            hop += 1
        on_arrival(t_s)

    def arrival_s(self, path: Path, bits: float, t_s: float) -> float:
        """Arrival at the last node of ``bits`` entering at ``t_s`` over a path that does not
        queue, without events [s]; records the transmissions. Raises if a hop queues."""
        if self.queues(path):
            raise ValueError("this path has queueing hops: use send()")
        out: list[float] = []
        self._walk(path, bits, 0, t_s, out.append)
        return out[0]

    def predicted_delay_s(self, path: Path, bits: float, t_s: float | None = None) -> float:
        """Delay of ``bits`` entering ``path`` at ``t_s`` (default now) as the links stand [s]:
        on each hop the backlog already ahead of it at that hop, its transmission, the
        latency. Payloads still on their way to a hop are not counted (they are not there yet),
        so this is a lower bound on the delay the payload will see; nothing is recorded."""
        t0 = self.env.now if t_s is None else float(t_s)
        t = t0
        for hop, capacity in enumerate(path.capacities_bps):
            state = self.links.get((path.nodes[hop], path.nodes[hop + 1]))
            start = t
            if state is not None and state.queues:
                start = max(t, state.free_at_s)
            latency = path.latencies_s[hop] if path.latencies_s else 0.0
            t = start + bits / capacity + latency
        if not path.latencies_s:  # a Path made without per-hop latencies: its total
            t += path.latency_s
        return t - t0

    def result_rows(self) -> list[dict[str, Any]]:
        """One row per link direction used, in first-use order (warns when a link that does not
        queue was offered more than its capacity: :class:`BackhaulLoadWarning`)."""
        rows = [state.result_row(self.window) for state in self.links.values()]
        over = [
            f"{r['link_from']}->{r['link_to']} ({r['utilisation']:.0%})"
            for r in rows
            if not r["queueing"] and r["utilisation"] > 1.0
        ]
        if over:
            warnings.warn(
                "backhaul links that do not queue were offered more than their capacity, so "
                "their delays are too low: " + ", ".join(over) + "; set network.queueing: true",
                BackhaulLoadWarning,
                stacklevel=2,
            )
        return rows
