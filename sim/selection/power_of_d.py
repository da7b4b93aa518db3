"""Power of d choices: d candidates sampled uniformly without replacement, the one with the
fewest jobs on the board joined (ties uniform). Supermarket model (Vvedenskaya, Dobrushin,
Karpelevich 1996; Mitzenmacher 2001): s_i = lambda^((d^i - 1)/(d - 1)) as N -> infinity.
With d at least the number of candidates it is JSQ."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.selection.base import RouteOf, Selector, least

if TYPE_CHECKING:
    import numpy as np

    from sim.plans import Plan
    from sim.server import EdgeServer


def sample_without_replacement(n: int, d: int, rng: np.random.Generator) -> list[int]:
    """``d`` distinct indices of ``range(n)``, uniformly (Floyd's algorithm: d draws)."""
    chosen: list[int] = []
    for j in range(n - d, n):
        t = int(rng.integers(j + 1))
        chosen.append(j if t in chosen else t)
    return chosen


class PowerOfD(Selector):
    reads_load = True

    def choose(
        self, cell: str, now_s: float, plan: Plan, route_of: RouteOf, rng: np.random.Generator
    ) -> EdgeServer:
        assert self.board is not None
        servers = self.candidates[cell]
        d = self.config.d or 2
        if d < len(servers):
            servers = tuple(servers[i] for i in sample_without_replacement(len(servers), d, rng))
        return least(servers, self.board.loads(servers), rng)
