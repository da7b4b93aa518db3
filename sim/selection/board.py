"""The load a selection policy sees: live queue lengths, or a periodically refreshed board.

Mitzenmacher, "How useful is old information?", IEEE TPDS 11(1), 2000: in the
periodic bulletin-board model every server posts its load at times 0, T, 2T, ...
and dispatchers read only the board. ``interval_s = 0`` reads the servers' live
state. The load is the number of jobs at the server, waiting or in service
(:attr:`sim.server.EdgeServer.jobs`); background tenants' jobs count too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import simpy

    from sim.server import EdgeServer


class LoadBoard:
    """Queue lengths [jobs] of ``servers`` as a dispatcher sees them (by server index)."""

    def __init__(
        self, env: simpy.Environment, servers: Sequence[EdgeServer], interval_s: float
    ) -> None:
        self.servers = list(servers)
        self.interval_s = float(interval_s)
        self.live = self.interval_s <= 0.0
        self.posted = [0] * len(self.servers)  # every server empty at time 0
        self.refreshes = 0
        if not self.live:
            env.process(self._refresh(env))

    def jobs(self, server: EdgeServer) -> int:
        """Jobs at ``server`` as of the last report (live: now)."""
        return server.jobs if self.live else self.posted[server.index]

    def loads(self, servers: Sequence[EdgeServer]) -> list[int]:
        """Jobs at each of ``servers`` as of the last report (live: now)."""
        if self.live:
            return [s.waiting + s.in_service for s in servers]
        posted = self.posted
        return [posted[s.index] for s in servers]

    def _refresh(self, env: simpy.Environment):
        """Post every server's load at k x interval_s (k = 1, 2, ...), from multiples of the
        interval so that no rounding accumulates."""
        k = 0
        while True:
            k += 1
            yield env.timeout(max(0.0, k * self.interval_s - env.now))
            self.posted = [server.jobs for server in self.servers]
            self.refreshes += 1
