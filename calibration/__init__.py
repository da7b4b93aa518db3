"""Calibration tools: model zoo, per-block profiler, power logs, cost model, profile builders.

Everything here is run once, on a board or on the host, to produce the
profiles under ``sim/profiles/data``. ``calibration.zoo`` and the profiler
need only torch; the builders also import :mod:`sim` to validate what they
write. Nothing under ``sim/`` imports this package.
"""
