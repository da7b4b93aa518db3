"""Parameter sweeps with replications, on local processes or a Dask cluster.

``sim.sweep`` is this package and, called, :func:`sim.sweep.runner.sweep`::

    import sim
    result = sim.sweep(
        "scenarios/congested_lte.yaml",
        grid={"devices.pi.count": [10, 20, 30]},
        replications=5,
        workers=2,                      # or scheduler="tcp://host:8786", local_cluster=True
    )
    result.aggregate()                  # mean and 95 % t-interval per point, strategy, metric
    result.plot("latency_mean_s")       # metric vs parameter, one line per strategy, CI bands
    sim.sweep.load_sweep("results/sweeps/congested_lte")   # read a stored sweep back

Modules: :mod:`~sim.sweep.spec` (what a sweep varies), :mod:`~sim.sweep.expand`
(points and seeds), :mod:`~sim.sweep.identity` (run ids), :mod:`~sim.sweep.plan`,
:mod:`~sim.sweep.worker`, :mod:`~sim.sweep.executors`, :mod:`~sim.sweep.store`
(the Parquet dataset), :mod:`~sim.sweep.runner` (the driver),
:mod:`~sim.sweep.result`, :mod:`~sim.sweep.aggregate`, :mod:`~sim.sweep.plot`,
:mod:`~sim.sweep.cli`.

This ``__init__`` imports nothing heavy: the scenario schema imports
:mod:`sim.sweep.spec` while ``sim`` itself is still loading.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.sweep.result import SweepResult

_EXPORTS = {
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

__all__ = ["sweep", *_EXPORTS]


def sweep(*args: Any, **kwargs: Any) -> SweepResult:
    """Run a parameter sweep; see :func:`sim.sweep.runner.sweep` for the arguments."""
    from sim.sweep.runner import sweep as run_sweep

    return run_sweep(*args, **kwargs)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim.sweep' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)


class _CallableModule(types.ModuleType):
    """Lets ``sim.sweep(...)`` run a sweep while ``sim.sweep.aggregate`` etc. stay reachable."""

    def __call__(self, *args: Any, **kwargs: Any) -> SweepResult:
        return sweep(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
