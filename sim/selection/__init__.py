"""Per-request server selection, independent of the split policy (docs/choosing_a_server.md).

One module per policy; :mod:`sim.selection.registry` maps the ``policy`` names of
:class:`sim.scenario.schema.Selection` to them. Load-aware policies read the
servers' queue lengths from a :class:`~sim.selection.board.LoadBoard` (live, or
as posted at the last periodic report).
"""
