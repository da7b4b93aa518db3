"""Paper reproductions as sweep specs run by ``sim.sweep``, with their report code.

Not part of the installed package (``pyproject.toml`` installs ``sim*`` only):
run them from the checkout, e.g. ``python -m reproductions.bottlefit --size small``.
"""
