"""The library API that notebooks and the CLI share: load, run.

``sim.results`` (pandas, and through the summary scipy.stats) is imported when a run
returns, not with this module: ``import sim.api`` loads the engine and numpy only
(tests/test_import_graph.py checks which heavy libraries each entry point loads).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sim.api_checks import check_scenario, check_seed, check_strategies
from sim.engine import Run
from sim.scenario.model import Scenario

if TYPE_CHECKING:
    from sim.results import Results


def run(
    scenario: Scenario,
    strategies: Sequence[str] | None = None,
    *,
    seed: int | None = None,
    progress: bool = False,
) -> Results:
    """Run every strategy of ``scenario`` (or those named) with the same seed.

    Strategies run one after another in fresh environments; their arrivals and
    channels come from the same named streams (common random numbers).
    Ctrl-C stops the current run; what was simulated is kept and the results
    are marked ``interrupted``.
    """
    scenario = check_scenario(scenario, "sim.run")
    labels = check_strategies(strategies, scenario, "sim.run")
    run_seed = scenario.spec.seed if seed is None else check_seed(seed, "sim.run")
    started = time.perf_counter()
    runs = {}
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(
            total=len(labels) * 100,
            unit="%",
            desc=scenario.name,
            leave=False,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}",
        )
    for k, label in enumerate(labels):
        engine = Run(scenario, label, run_seed)
        callback = None
        if bar is not None:
            bar.set_postfix_str(label)

            def callback(now_s: float, k: int = k, engine: Run = engine) -> None:
                done = k * 100 + min(100, int(100 * now_s / engine.end_s))
                bar.update(done - bar.n)

        result = engine.run(callback)
        runs[label] = result
        if result.interrupted:
            break
    if bar is not None:
        bar.close()
    from sim.results import Results

    return Results(scenario, run_seed, runs, wall_s=time.perf_counter() - started)
