"""Policies whose server is known before the run: fixed and nearest (lowest path latency)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.selection.base import Selector

if TYPE_CHECKING:
    from sim.server import EdgeServer


class Fixed(Selector):
    """Every request to ``selection.server`` (or the group's ``server:``)."""

    static = True

    def static_server(self, cell: str) -> EdgeServer | None:
        servers = self.candidates.get(cell, ())
        return servers[0] if servers else None


class Nearest(Fixed):
    """Every request to the server of least network latency from its cell (ties: by name,
    as the loader orders candidates)."""
