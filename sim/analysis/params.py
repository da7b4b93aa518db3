"""What a study varies: numeric ranges and categorical choices over dotted scenario keys.

Text forms (the command line's ``--param``)::

    cells.enb.uplink.link.bandwidth_hz=5e6:20e6        uniform in [LOW, HIGH]
    servers.gpu0.background.0.rate_hz=10:300:log       log-uniform (LOW > 0)
    devices.pi.count=10:40:int                         whole numbers in [LOW, HIGH] (optimize)
    strategy=local,offload,bottlefit_c12               categorical (optimize); values as YAML

Every parameter is checked against the scenario before anything runs: its key
must exist in the schema, and its bounds (or every choice) must give a valid
scenario (:func:`check_params`). ``strategy`` is the one key that is not a
scenario key: it sets ``compare`` to the one strategy a trial runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sim.errors import SimInputError
from sim.sweep.spec import check_key, numeric

STRATEGY = "strategy"
"""The pseudo-key of a categorical choice among strategies (sets ``compare: [value]``)."""


@dataclass(frozen=True)
class Range:
    """A numeric parameter in [low, high]; ``log``: sampled uniformly in log; ``integer``:
    whole numbers (optimisation only). ``encode`` maps the sampled number to the value set
    at ``key`` (Python API only, e.g. a number to a profile file); default: the number."""

    key: str
    low: float
    high: float
    log: bool = False
    integer: bool = False
    encode: Callable[[float], Any] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        where = f"{self.key}={self.low:g}:{self.high:g}"
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise SimInputError("bounds must be finite numbers", file="--param", value=where)
        if not self.low < self.high:
            raise SimInputError(
                "LOW must be less than HIGH", file="--param", key=self.key, value=where
            )
        if self.log and self.low <= 0:
            raise SimInputError(
                "a log range needs LOW > 0", file="--param", key=self.key, value=where
            )
        if self.integer and (self.low != int(self.low) or self.high != int(self.high)):
            raise SimInputError(
                "an int range needs whole-number bounds", file="--param", key=self.key, value=where
            )

    @property
    def label(self) -> str:
        flags = (":log" if self.log else "") + (":int" if self.integer else "")
        return f"{self.key}={self.low:g}:{self.high:g}{flags}"

    def value(self, number: float) -> Any:
        """The value written at ``key`` for a sampled number."""
        if self.encode is not None:
            return self.encode(number)
        return round(number) if self.integer else float(number)


@dataclass(frozen=True)
class Choice:
    """A categorical parameter: one of ``values`` (numbers, strings, booleans, lists)."""

    key: str
    values: tuple[Any, ...]

    def __post_init__(self) -> None:
        if len(self.values) < 2:
            raise SimInputError(
                "a categorical parameter needs at least two values",
                file="--param",
                key=self.key,
                value=list(self.values),
            )
        texts = [repr(v) for v in self.values]
        if len(set(texts)) != len(texts):
            raise SimInputError(
                "categorical values repeat", file="--param", key=self.key, value=list(self.values)
            )

    @property
    def label(self) -> str:
        return f"{self.key}={','.join(str(v) for v in self.values)}"

    def value(self, choice: Any) -> Any:
        return choice


Param = Range | Choice


def storable_value(value: Any) -> Any:
    """Optuna stores categorical choices as None, bool, int, float or str: others as YAML text."""
    from sim.sweep.expand import yaml_text

    if value is None or isinstance(value, bool | int | float | str):
        return value
    return yaml_text(value)


def restore_value(param: Param, value: Any) -> Any:
    """The parameter value a stored Optuna value stands for."""
    if isinstance(param, Choice):
        for choice in param.values:
            if storable_value(choice) == value:
                return choice
        return value
    return int(value) if param.integer else float(value)


def parse_param(text: str, *, allow_choice: bool = True, allow_int: bool = True) -> Param:
    """``KEY=LOW:HIGH[:log][:int]`` or ``KEY=A,B,C`` -> a :class:`Range` or :class:`Choice`."""
    from sim.sweep.cli import split_values
    from sim.yamlio import parse_yaml_text

    key, sep, rest = text.partition("=")
    key, rest = key.strip(), rest.strip()
    forms = "KEY=LOW:HIGH[:log]" + ("[:int] or KEY=A,B,C" if allow_choice else "")
    if not sep or not key or not rest:
        raise SimInputError("expected " + forms, file="--param", value=text)
    if key != STRATEGY:
        try:
            check_key(key)
        except ValueError as exc:
            raise SimInputError(str(exc), file="--param", value=text) from None
    if "," in rest or key == STRATEGY:
        if not allow_choice:
            raise SimInputError("categorical values not allowed here", file="--param", value=text)
        items = split_values(rest)
        if any(item == "" for item in items):
            raise SimInputError("empty value in list", file="--param", key=key, value=rest)
        values = tuple(
            numeric(parse_yaml_text(item, source=f"--param {key}").data) for item in items
        )
        return Choice(key, values)
    parts = [p.strip() for p in rest.split(":")]
    flags = parts[2:]
    allowed_flags = {"log", "int"} if allow_int else {"log"}
    bad = [f for f in flags if f not in allowed_flags]
    if len(parts) < 2 or bad or len(set(flags)) != len(flags):
        raise SimInputError("expected " + forms, file="--param", key=key, value=rest)
    try:
        low, high = float(parts[0]), float(parts[1])
    except ValueError:
        raise SimInputError(
            "bounds must be numbers", file="--param", key=key, value=rest, allowed=forms
        ) from None
    return Range(key, low, high, log="log" in flags, integer="int" in flags)


def check_unique(params: Sequence[Param]) -> None:
    """Each key at most once."""
    seen: set[str] = set()
    for param in params:
        if param.key in seen:
            raise SimInputError("parameter given twice", file="--param", key=param.key)
        seen.add(param.key)


def overrides(params: Sequence[Param], values: Sequence[Any]) -> dict[str, Any]:
    """Dotted key -> value for one point (``strategy`` becomes ``compare: [value]``)."""
    out: dict[str, Any] = {}
    for param, value in zip(params, values, strict=True):
        encoded = param.value(value)
        if param.key == STRATEGY:
            out["compare"] = [encoded]
        else:
            out[param.key] = encoded
    return out


def check_params(scenario: Any, params: Sequence[Param]) -> None:
    """Resolve the scenario at each bound and each choice; a bad key or value raises
    :class:`~sim.errors.SimInputError` naming it, before anything runs."""
    from sim.sweep.expand import yaml_text

    check_unique(params)
    if not params:
        raise SimInputError("no parameter given", file="--param", allowed="KEY=LOW:HIGH ...")
    for param in params:
        probes = [param.low, param.high] if isinstance(param, Range) else list(param.values)
        for probe in probes:
            point = overrides([param], [probe])
            assignments = [f"{k}={yaml_text(v)}" for k, v in point.items()]
            try:
                scenario.with_overrides(assignments)
            except SimInputError as exc:
                raise SimInputError(
                    f"{exc.problem} [--param {param.label}]",
                    file=exc.file,
                    key=exc.key,
                    value=exc.value,
                    allowed=exc.allowed,
                ) from None
