"""Research questions over a scenario: which knob matters (sensitivity), what is best (optimize).

``sim.analysis.sensitivity`` (SALib Sobol' or Morris indices) and
``sim.analysis.optimize`` (Optuna TPE or NSGA-II under constraints) run every
point through the sweep machinery (:mod:`sim.sweep`): run identity, common
random numbers, replications, resume, local processes or Dask::

    import sim.analysis
    res = sim.analysis.sensitivity(
        "scenarios/congested_lte.yaml",
        ["cells.enb.uplink.link.bandwidth_hz=5e6:20e6", "servers.gpu0.background.0.rate_hz=50:300"],
        method="sobol", samples=64, metrics="deadline_miss_rate",
    )
    res.table(); res.plot("deadline_miss_rate")
    best = sim.analysis.optimize(
        "scenarios/congested_lte.yaml",
        ["servers.gpu0.batching.max_wait_s=0.001:0.05:log", "strategy=offload,bottlefit_c12"],
        objectives=["latency_p95"], constraints=["deadline_miss_rate<=0.05"], trials=40,
    )
    best.pareto; best.best_file

Modules: :mod:`~sim.analysis.params`, :mod:`~sim.analysis.metrics`,
:mod:`~sim.analysis.evaluate`, :mod:`~sim.analysis.sensitivity`,
:mod:`~sim.analysis.optimize`, :mod:`~sim.analysis.plots`,
:mod:`~sim.analysis.scenario_file`, :mod:`~sim.analysis.cli`. SALib and Optuna
are imported only when used (``pip install -e .[analysis]``).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "sensitivity": "sim.analysis.sensitivity",
    "SensitivityResult": "sim.analysis.sensitivity",
    "optimize": "sim.analysis.optimize",
    "OptimizeResult": "sim.analysis.optimize",
    "Range": "sim.analysis.params",
    "Choice": "sim.analysis.params",
    "RecordMetric": "sim.analysis.metrics",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sim.analysis' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)
