"""What a sweep varies: the ``sweep:`` block of a scenario, or a sweep file next to one.

A sweep is a set of *points* (each a mapping of dotted scenario keys to values)
times a set of *replications* (explicit seeds). Points come from three kinds
of dimension, combined as a Cartesian product in this order:

* ``grid``: every key is its own dimension (``{a: [1, 2], b: [x, y]}`` gives 4 points);
* ``zip``: keys walked together (``{a: [1, 2], b: [x, y]}`` gives 2 points);
  a list of such mappings gives one dimension per mapping;
* ``random``: ``samples`` points drawn from seeded distributions, walked together.

Seeds are ``seeds`` when given, otherwise ``replications`` seeds derived from
``seed`` (or the scenario's seed) by :func:`sim.rng.replication_seeds`. The same
seeds are used at every point (common random numbers across points).

This module imports only pydantic and :mod:`sim.validation`, so the scenario
schema can embed :class:`SweepSpec` without an import cycle.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sim.validation import NonNegInt, PositiveInt, Strict

_EXP_FLOAT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+$")
_KEY = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
FORBIDDEN_KEYS = ("seed", "sweep")
"""Keys a sweep may not vary: seeds come from replications, and a sweep cannot sweep itself."""


def numeric(value: Any) -> Any:
    """``'1e6'`` -> ``1000000.0``: YAML 1.1 reads exponent numbers without a dot as strings."""
    if isinstance(value, str) and _EXP_FLOAT.match(value.strip()):
        return float(value)
    if isinstance(value, list):
        return [numeric(v) for v in value]
    if isinstance(value, dict):
        return {k: numeric(v) for k, v in value.items()}
    return value


def check_key(key: str) -> str:
    """A dotted scenario key that a sweep may vary (raises ValueError otherwise)."""
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError(f"'{key}' is not a dotted key; allowed: e.g. devices.pi.count")
    if key.split(".")[0] in FORBIDDEN_KEYS:
        raise ValueError(
            f"'{key}' cannot be swept; allowed: any scenario key except seed (use "
            "replications or seeds) and sweep"
        )
    return key


class RandomParam(Strict):
    """One randomly sampled key: ``uniform``/``loguniform``/``integers`` in [low, high]
    (``integers`` inclusive), or ``choice`` among ``values``."""

    kind: Literal["uniform", "loguniform", "integers", "choice"] = Field(
        description="distribution: uniform, loguniform, integers (inclusive) in [low, high], or "
        "choice among values",
    )
    low: float | None = Field(
        default=None, description="lower bound, in the swept key's own unit [key's unit]"
    )
    high: float | None = Field(
        default=None, description="upper bound, in the swept key's own unit [key's unit]"
    )
    values: list[Any] | None = Field(
        default=None, min_length=1, description="choice: the values to pick from"
    )

    @model_validator(mode="after")
    def _bounds(self) -> RandomParam:
        if self.kind == "choice":
            if self.values is None:
                raise ValueError("'choice' needs values; allowed: a non-empty list")
            if self.low is not None or self.high is not None:
                raise ValueError("'choice' takes values, not low/high")
            return self
        if self.values is not None:
            raise ValueError(f"'{self.kind}' takes low and high, not values")
        if self.low is None or self.high is None:
            raise ValueError(f"'{self.kind}' needs low and high")
        if not self.low < self.high:
            raise ValueError(f"low must be less than high (got {self.low}, {self.high})")
        if self.kind == "loguniform" and self.low <= 0:
            raise ValueError(f"loguniform needs low > 0 (got {self.low})")
        if self.kind == "integers" and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("integers needs whole-number low and high")
        return self


class RandomSamples(Strict):
    """``samples`` points, each key drawn from its own named stream of ``seed``."""

    samples: PositiveInt = Field(description="number of random points")
    seed: NonNegInt | None = Field(default=None, description="default: the sweep's base seed")
    params: dict[str, RandomParam] = Field(
        min_length=1, description="dotted scenario key -> its distribution"
    )

    @field_validator("params")
    @classmethod
    def _keys(cls, params: dict[str, RandomParam]) -> dict[str, RandomParam]:
        for key in params:
            check_key(key)
        return params


class SweepSpec(Strict):
    """A sweep over dotted scenario keys, with replications."""

    grid: dict[str, list[Any]] = Field(
        default_factory=dict,
        description="dotted scenario key -> list of values; every key is a dimension (Cartesian "
        "product)",
    )
    zipped: list[dict[str, list[Any]]] = Field(
        default_factory=list,
        alias="zip",
        description="groups of keys walked together (equal-length lists); each group is one "
        "dimension",
    )
    random: RandomSamples | None = Field(default=None, description="seeded random points")
    replications: PositiveInt = Field(
        default=1,
        description="seeds per point (derived from the base seed, the same at every point)",
    )
    seeds: list[NonNegInt] | None = Field(
        default=None, min_length=1, description="explicit seeds (replications = their number)"
    )
    seed: NonNegInt | None = Field(
        default=None, description="base seed for replication seeds (default: the scenario's)"
    )
    strategies: list[str] | None = Field(
        default=None, min_length=1, description="subset of the scenario's compared strategies"
    )
    records: bool = Field(default=True, description="store per-request records, not only summaries")
    max_points: PositiveInt = Field(
        default=10_000,
        description="refuse sweeps with more points (planning resolves each, ~0.1 s a point)",
    )

    @field_validator("zipped", mode="before")
    @classmethod
    def _one_group(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @field_validator("grid", mode="before")
    @classmethod
    def _grid_numbers(cls, value: Any) -> Any:
        return numeric(value) if isinstance(value, dict) else value

    @field_validator("zipped", mode="after")
    @classmethod
    def _zip_numbers(cls, value: list[dict[str, list[Any]]]) -> list[dict[str, list[Any]]]:
        return [numeric(group) for group in value]

    @model_validator(mode="after")
    def _dimensions(self) -> SweepSpec:
        seen: set[str] = set()

        def claim(key: str) -> None:
            check_key(key)
            if key in seen:
                raise ValueError(f"key '{key}' is swept twice; allowed: each key in one dimension")
            seen.add(key)

        for key, values in self.grid.items():
            claim(key)
            if not values:
                raise ValueError(f"grid key '{key}' has no values; allowed: a non-empty list")
        for group in self.zipped:
            lengths = {key: len(values) for key, values in group.items()}
            for key in group:
                claim(key)
            if not group or 0 in lengths.values():
                raise ValueError("a zip group needs at least one key with a non-empty list")
            if len(set(lengths.values())) > 1:
                raise ValueError(
                    f"zipped lists differ in length {lengths}; allowed: lists of equal length"
                )
        if self.random is not None:
            for key in self.random.params:
                claim(key)
        if self.seeds is not None:
            if "replications" in self.model_fields_set and self.replications != len(self.seeds):
                raise ValueError(
                    f"replications ({self.replications}) differs from the number of seeds "
                    f"({len(self.seeds)}); give one or the other"
                )
            if len(set(self.seeds)) != len(self.seeds):
                raise ValueError("seeds repeat; allowed: distinct seeds")
        return self

    @property
    def keys(self) -> list[str]:
        """Every swept key, in dimension order."""
        keys = list(self.grid)
        for group in self.zipped:
            keys += list(group)
        if self.random is not None:
            keys += list(self.random.params)
        return keys

    @property
    def point_count(self) -> int:
        """Points the dimensions give (their product), computed without expanding them."""
        count = 1
        for values in self.grid.values():
            count *= len(values)
        for group in self.zipped:
            count *= len(next(iter(group.values())))
        if self.random is not None:
            count *= self.random.samples
        return count

    @property
    def replication_count(self) -> int:
        return len(self.seeds) if self.seeds is not None else self.replications


class SweepFile(SweepSpec):
    """A sweep kept in its own YAML file: the scenario it varies and base overrides."""

    scenario: str = Field(min_length=1, description="scenario file, relative to this file")
    overrides: list[str] = Field(
        default_factory=list, alias="set", description="'dotted.key=value' applied first"
    )

    def sweep_spec(self) -> SweepSpec:
        data = self.model_dump(by_alias=True, exclude_unset=True, exclude={"scenario", "overrides"})
        return SweepSpec.model_validate(data)
