"""Argument checks of the public Python API: wrong types become one-line SimInputErrors.

A notebook user who passes a path where a loaded scenario is expected, one
strategy name where a list is expected, or a seed that is not an integer gets
the project's error naming the function, the argument and what is allowed,
never a raw TypeError or KeyError from deep inside (nor a silent truncation of
``seed=1.7`` to 1).
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from typing import Any

from sim.errors import SimInputError, did_you_mean, list_choices


def check_seed(seed: Any, where: str, name: str = "seed") -> int:
    """A non-negative integer seed (bool, float and text are refused)."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise SimInputError(
            "not an integer", file=where, key=name, value=seed, allowed="an integer >= 0"
        )
    if int(seed) < 0:
        raise SimInputError(
            "value out of range", file=where, key=name, value=seed, allowed="an integer >= 0"
        )
    return int(seed)


def check_path(path: Any, where: str, name: str) -> None:
    if not isinstance(path, str | os.PathLike) or not os.fspath(path):
        raise SimInputError(
            "not a file path", file=where, key=name, value=path, allowed="a str or pathlib.Path"
        )


def check_scenario(scenario: Any, where: str) -> Any:
    """A loaded :class:`~sim.scenario.load.Scenario` (a path gets a hint to load it)."""
    from sim.scenario.model import Scenario

    if isinstance(scenario, Scenario):
        return scenario
    hint = (
        "; load it first: sim.run(sim.load(path))"
        if isinstance(scenario, str | os.PathLike)
        else ""
    )
    raise SimInputError(
        f"not a loaded scenario{hint}",
        file=where,
        key="scenario",
        value=scenario,
        allowed="a sim.Scenario from sim.load or sim.loads",
    )


def check_strings(values: Any, where: str, name: str) -> list[str]:
    """A list of strings (a single string is refused, not read one character at a time)."""
    if isinstance(values, str) or not isinstance(values, Sequence | set | frozenset | tuple):
        raise SimInputError(
            "not a list of strings",
            file=where,
            key=name,
            value=values,
            allowed=f"a list, e.g. [{values!r}]" if isinstance(values, str) else "a list of str",
        )
    items = list(values)
    bad = [v for v in items if not isinstance(v, str)]
    if bad:
        raise SimInputError(
            "not a string", file=where, key=name, value=bad[0], allowed="a list of str"
        )
    return items


def check_each_strategy_once(labels: list[str], where: str) -> None:
    """Refuse a strategy named twice (it would silently run once)."""
    repeated = sorted({label for label in labels if labels.count(label) > 1})
    if repeated:
        raise SimInputError(
            "strategy named twice",
            file=where,
            key="strategies",
            value=",".join(repeated),
            allowed="each strategy once",
        )


def check_strategies(strategies: Any, scenario: Any, where: str) -> list[str]:
    """Names of strategies the scenario compares (all of them when ``strategies`` is None)."""
    if strategies is None:
        return list(scenario.strategy_labels)
    labels = check_strings(strategies, where, "strategies")
    if not labels:
        raise SimInputError(
            "no strategy named",
            file=where,
            key="strategies",
            value=labels,
            allowed=list_choices(scenario.strategy_labels),
        )
    check_each_strategy_once(labels, where)
    for label in labels:
        if label not in scenario.strategy_labels:
            raise SimInputError(
                f"unknown strategy{did_you_mean(label, scenario.strategy_labels)}",
                file=where,
                key="strategies",
                value=label,
                allowed=list_choices(scenario.strategy_labels),
            )
    return labels
