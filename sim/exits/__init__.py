"""Early exits: where samples leave a chain of exit heads, and progressive split inference.

Modules, one concept each:

* :mod:`sim.exits.table`: published exit tables (proxies), interpolated in threshold and depth;
* :mod:`sim.exits.behaviour`: the exit-behaviour interface and PORTEND's nested rule;
* :mod:`sim.exits.replay`: per-sample replay of a user's confidence file (exact correlation);
* :mod:`sim.exits.source`: the scenario setting choosing one of them;
* :mod:`sim.exits.plan`: progressive plans ``progressive_<block>[_<dtype>]_t<threshold>``;
* :mod:`sim.exits.draws`: the per-request uniforms (common random numbers);
* :mod:`sim.exits.records`, :mod:`sim.exits.summary`: output columns and exit-share tables.

See docs/early_exits.md.
"""
