"""From a :class:`~sim.sweep.spec.SweepSpec` to parameter points and replication seeds.

Points are the Cartesian product of the dimensions (each grid key, each zip
group, the random samples), the first dimension varying slowest, as
:func:`itertools.product` orders them. Random samples come from one named
stream per key (:func:`sim.rng.stream`), so adding a key does not change the
values drawn for the others.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import yaml

from sim.rng import replication_seeds, stream
from sim.sweep.spec import RandomParam, RandomSamples, SweepSpec


@dataclass(frozen=True)
class Point:
    """One parameter point: dotted scenario key -> value, in dimension order."""

    index: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``key=value, ...`` for tables and errors ('baseline' when nothing varies)."""
        if not self.params:
            return "baseline"
        return ", ".join(f"{key}={format_value(value)}" for key, value in self.params.items())

    def overrides(self) -> list[str]:
        """The point as ``dotted.key=value`` overrides (values as YAML flow text)."""
        return [f"{key}={yaml_text(value)}" for key, value in self.params.items()]


def format_value(value: Any) -> str:
    """A short, stable text for a parameter value (JSON for lists and mappings)."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str | int | bool) or value is None:
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def yaml_text(value: Any) -> str:
    """YAML flow text that :func:`yaml.safe_load` reads back as ``value`` exactly."""
    text = yaml.safe_dump(value, default_flow_style=True, width=2**31 - 1).strip()
    return text.removesuffix("...").strip()


def _draw(param: RandomParam, samples: int, seed: int, key: str) -> list[Any]:
    gen = stream(seed, f"sweep.random.{key}")
    if param.kind in ("uniform", "loguniform", "integers"):
        low, high = param.low, param.high
        assert low is not None and high is not None  # the schema requires them
        if param.kind == "uniform":
            return [float(v) for v in gen.uniform(low, high, samples)]
        if param.kind == "loguniform":
            logs = gen.uniform(math.log(low), math.log(high), samples)
            return [float(v) for v in np.exp(logs)]
        return [int(v) for v in gen.integers(int(low), int(high) + 1, samples)]
    assert param.values is not None
    picks = gen.integers(0, len(param.values), samples)
    return [param.values[int(i)] for i in picks]


def random_points(random: RandomSamples, base_seed: int) -> list[dict[str, Any]]:
    """``random.samples`` mappings key -> drawn value."""
    seed = random.seed if random.seed is not None else base_seed
    columns = {key: _draw(param, random.samples, seed, key) for key, param in random.params.items()}
    return [{key: column[i] for key, column in columns.items()} for i in range(random.samples)]


def dimensions(spec: SweepSpec, base_seed: int) -> list[list[dict[str, Any]]]:
    """Each dimension as its list of partial points (mappings key -> value)."""
    dims: list[list[dict[str, Any]]] = [
        [{key: value} for value in values] for key, values in spec.grid.items()
    ]
    for group in spec.zipped:
        length = len(next(iter(group.values())))
        dims.append([{key: values[i] for key, values in group.items()} for i in range(length)])
    if spec.random is not None:
        dims.append(random_points(spec.random, base_seed))
    return dims


def expand_points(spec: SweepSpec, base_seed: int) -> list[Point]:
    """Every point of the sweep; a sweep without dimensions has one empty point."""
    points = []
    for index, parts in enumerate(itertools.product(*dimensions(spec, base_seed))):
        params: dict[str, Any] = {}
        for part in parts:
            params.update(part)
        points.append(Point(index, params))
    return points


def sweep_seeds(spec: SweepSpec, base_seed: int) -> list[int]:
    """The replication seeds: ``spec.seeds``, or derived from the base seed."""
    if spec.seeds is not None:
        return list(spec.seeds)
    return replication_seeds(base_seed, spec.replications)
