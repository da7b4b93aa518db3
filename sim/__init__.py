"""splitsim: a discrete-event simulator of split computing over wireless links.

import sim
scenario = sim.load("scenarios/congested_lte.yaml", overrides=["duration_s=60"])
results = sim.run(scenario)
results.summary            # one row per strategy
results.requests           # one row per request
results.write("out/run1")  # Parquet, summary.json, plots
sim.sweep(scenario, grid={"devices.pi.count": [10, 30]}, replications=5).aggregate()
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

# The package first: importing a submodule of a package that is not yet loaded
# sets the parent's attribute to the package, which would replace the function
# ``sweep`` defined below.
import sim.sweep as _sweep_package
from sim import provenance as _provenance
from sim.errors import SimInputError

if TYPE_CHECKING:
    from sim.api import run
    from sim.results import Results
    from sim.scenario.load import load, loads
    from sim.scenario.model import Scenario
    from sim.sweep.result import SweepResult
    from sim.sweep.spec import SweepSpec

__all__ = ["Results", "Scenario", "SimInputError", "load", "loads", "run", "sweep"]
__version__ = _provenance.version()

# Imported on first use (PEP 562), so that ``import sim`` does not load pandas,
# scipy, pydantic and the engine: ``sim.run``, ``from sim import load`` work as before.
_LAZY = {
    "run": "sim.api",
    "Results": "sim.results",
    "Scenario": "sim.scenario.model",
    "load": "sim.scenario.load",
    "loads": "sim.scenario.load",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def sweep(
    scenario: Scenario | str | Path,
    spec: SweepSpec | Mapping[str, Any] | None = None,
    *,
    overrides: Sequence[str] = (),
    grid: Mapping[str, Sequence[Any]] | None = None,
    zip: Mapping[str, Sequence[Any]] | None = None,
    random: Mapping[str, Any] | None = None,
    replications: int | None = None,
    seeds: Sequence[int] | None = None,
    seed: int | None = None,
    strategies: Sequence[str] | None = None,
    records: bool | None = None,
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    local_cluster: bool = False,
    retries: int = 1,
    progress: bool = True,
) -> SweepResult:
    """Run a parameter sweep; the arguments are :func:`sim.sweep.runner.sweep`'s.

    (Spelled out here so that ``help(sim.sweep)`` and type checkers see them;
    tests/test_import_graph.py checks the two signatures agree. The runner is
    imported on the first call, keeping ``import sim`` fast.)
    """
    from sim.sweep.runner import sweep as run_sweep

    return run_sweep(
        scenario,
        spec,
        overrides=overrides,
        grid=grid,
        zip=zip,
        random=random,
        replications=replications,
        seeds=seeds,
        seed=seed,
        strategies=strategies,
        records=records,
        out=out,
        workers=workers,
        scheduler=scheduler,
        local_cluster=local_cluster,
        retries=retries,
        progress=progress,
    )


def _forward(module: str, name: str) -> Callable[..., Any]:
    """A function that imports ``module`` on first call and calls its ``name``."""

    def forward(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"Calls :func:`{module}.{name}` (``from sim.sweep import {name}``)."
    return forward


# Older code wrote sim.sweep.load_sweep(...) when sim.sweep was a callable module.
for _name, _module in _sweep_package.EXPORTS.items():
    if _name[0].islower() and _name != "sweep":
        setattr(sweep, _name, _forward(_module, _name))
del _name, _module
# ``import sim.sweep.runner as r`` walks attributes from ``sim`` and, where one is
# missing, looks up sys.modules[f"{obj.__name__}.runner"]: naming the function
# after the package keeps that statement working.
sweep.__name__ = "sim.sweep"
