"""Parameter sweeps with replications, on local processes or a Dask cluster.

Run one with :func:`sim.sweep` (a plain function defined in :mod:`sim`, whose
signature is :func:`sim.sweep.runner.sweep`'s)::

    import sim
    result = sim.sweep(
        "scenarios/congested_lte.yaml",
        grid={"devices.pi.count": [10, 20, 30]},
        replications=5,
        workers=2,                      # or scheduler="tcp://host:8786", local_cluster=True
    )
    result.aggregate()                  # mean and 95 % t-interval per point, strategy, metric
    result.plot("latency_mean_s")       # metric vs parameter, one line per strategy, CI bands

    from sim.sweep import load_sweep
    load_sweep("results/sweeps/congested_lte")   # read a stored sweep back

``sim.sweep`` (the attribute of :mod:`sim`) is the function; ``sim.sweep``
(this package) is what ``from sim.sweep import ...`` and ``import
sim.sweep.result`` reach. For older code the function also carries the
package's functions (``sim.sweep.load_sweep(...)``, ``sim.sweep.plot_metric``),
imported on first call; ``from sim.sweep import ...`` is the typed way.

Modules: :mod:`~sim.sweep.spec` (what a sweep varies), :mod:`~sim.sweep.expand`
(points and seeds), :mod:`~sim.sweep.identity` (run ids), :mod:`~sim.sweep.plan`,
:mod:`~sim.sweep.worker`, :mod:`~sim.sweep.executors`, :mod:`~sim.sweep.store`
(the Parquet dataset), :mod:`~sim.sweep.runner` (the driver),
:mod:`~sim.sweep.result`, :mod:`~sim.sweep.aggregate`, :mod:`~sim.sweep.plot`,
:mod:`~sim.sweep.cli`.

This ``__init__`` imports nothing: the scenario schema imports
:mod:`sim.sweep.spec` while ``sim`` itself is still loading, and ``import sim``
stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

EXPORTS = {
    "sweep": "sim.sweep.runner",
    "SweepSpec": "sim.sweep.spec",
    "SweepFile": "sim.sweep.spec",
    "SweepResult": "sim.sweep.result",
    "load_sweep": "sim.sweep.result",
    "SweepFailed": "sim.sweep.runner",
    "open_target": "sim.sweep.runner",
    "aggregate": "sim.sweep.aggregate",
    "t_interval": "sim.sweep.aggregate",
    "crossovers": "sim.sweep.aggregate",
    "plot_metric": "sim.sweep.plot",
}
"""Public name -> the module that defines it (imported on first use)."""

__all__ = list(EXPORTS)


def __getattr__(name: str) -> Any:
    module = EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim.sweep' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)
