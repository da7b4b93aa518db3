"""The wired topology between base stations / access points and edge servers (networkx).

Nodes are named in the scenario; each link has a latency [s] and capacity
[bit/s]. A payload crossing a path pays the sum of link latencies plus its
transmission time on every hop (store and forward). :meth:`Path.delay_s` is
that sum alone, the delay of a payload that finds every link idle; whether
links queue (a FIFO server of bits per direction, ``network.queueing``) is
:mod:`sim.backhaul`'s business.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import networkx as nx

    from sim.scenario.schema import Network


@dataclass(frozen=True, slots=True)
class Path:
    """A route from an access node to a server's node.

    ``nodes[k] -> nodes[k + 1]`` is hop k, with latency ``latencies_s[k]`` [s],
    capacity ``capacities_bps[k]`` [bit/s] and whether it queues (``queues[k]``).
    """

    nodes: tuple[str, ...]
    latency_s: float
    capacities_bps: tuple[float, ...]
    latencies_s: tuple[float, ...] = ()
    queues: tuple[bool, ...] = ()

    def delay_s(self, payload_bytes: float) -> float:
        """Latency plus store-and-forward transmission on every hop, without queueing [s]."""
        bits = 8.0 * payload_bytes
        return self.latency_s + sum(bits / c for c in self.capacities_bps)

    def reversed(self) -> Path:
        """The same route the other way (the way back from the server)."""
        return Path(
            self.nodes[::-1],
            self.latency_s,
            self.capacities_bps[::-1],
            self.latencies_s[::-1],
            self.queues[::-1],
        )


def build_graph(network: Network) -> nx.Graph:
    """The topology as an undirected graph, edges carrying ``latency_s``, ``capacity_bps``
    and ``queues`` (the link's own ``queueing``, else the network's)."""
    import networkx as nx  # here: networkx costs ~0.5 s to import and only topologies need it

    default = network.queueing
    graph: nx.Graph = nx.Graph()
    for link in network.links:
        own = link.queueing
        graph.add_edge(
            link.a,
            link.b,
            latency_s=link.latency_s,
            capacity_bps=link.capacity_bps,
            queues=default if own is None else own,
        )
    return graph


def shortest_path(graph: nx.Graph, source: str, target: str) -> Path | None:
    """Lowest-latency path, or None if the nodes are not connected."""
    if source == target:
        return Path((source,), 0.0, ())
    if source not in graph or target not in graph:
        return None
    import networkx as nx

    try:
        nodes = nx.shortest_path(graph, source, target, weight="latency_s")
    except nx.NetworkXNoPath:
        return None
    edges = [graph.edges[a, b] for a, b in itertools.pairwise(nodes)]
    return Path(
        tuple(nodes),
        float(sum(e["latency_s"] for e in edges)),
        tuple(float(e["capacity_bps"]) for e in edges),
        tuple(float(e["latency_s"]) for e in edges),
        tuple(bool(e.get("queues", False)) for e in edges),
    )
