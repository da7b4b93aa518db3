"""Strict pydantic base model and conversion of pydantic errors to one-line SimInputErrors.

All user-facing configuration (scenarios, profiles) is parsed into frozen
models derived from :class:`Strict`: unknown keys are rejected (with a "did you
mean"), NaN and infinity are refused, and values are checked once, before the
engine sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import SimInputError, did_you_mean, list_choices
from sim.yamlio import YamlDocument

M = TypeVar("M", bound=BaseModel)

Provenance = Literal["measured", "published", "derived", "given", "assumed"]
"""given: a number a user typed in (a command-line option, a hand-written profile)."""

PositiveFloat = Annotated[float, Field(gt=0, allow_inf_nan=False)]
NonNegFloat = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Probability = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegInt = Annotated[int, Field(ge=0)]


def _is_tuple(annotation: Any) -> bool:
    """Whether a field's annotation is a tuple (possibly Optional or Annotated)."""
    if getattr(annotation, "__metadata__", None) is not None:
        annotation = annotation.__origin__
    if getattr(annotation, "__origin__", None) is tuple or annotation is tuple:
        return True
    origin = getattr(annotation, "__origin__", None)
    args = getattr(annotation, "__args__", ()) or ()
    return origin is not list and origin is not dict and any(_is_tuple(a) for a in args)


class Strict(BaseModel):
    """Frozen, no extra keys, no NaN/inf, no coercion between types.

    Strict mode: ``count: yes`` (a YAML boolean) is not the integer 1, ``seed: true``
    is not 1, ``duration_s: "3"`` (a quoted string) is not a number, and 1.7 is not an
    integer. Integers are accepted where a float is expected. YAML has no tuples, so a
    list is accepted for a tuple field (the one conversion made, before validation).
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        allow_inf_nan=False,
        strict=True,
        validate_default=True,
        populate_by_name=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _lists_to_tuples(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        converted = None
        for name, field in cls.model_fields.items():
            for key in (name, field.alias):
                value = data.get(key) if key else None
                if isinstance(value, list) and _is_tuple(field.annotation):
                    converted = dict(data) if converted is None else converted
                    converted[key] = tuple(value)
        return data if converted is None else converted


_PATTERN_HELP = {
    r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$": "a safe file name: letters, digits, '_', '-', '.', "
    "not starting with '.' or '-'",
}


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(item) for item in loc)


def _clean_loc(loc: tuple[Any, ...], data: Any = None) -> tuple[Any, ...]:
    """Drop pydantic's union members from a location: tags ('periodic') and validator names."""
    cleaned: list[Any] = []
    node = data
    for item in loc:
        if isinstance(item, str) and ("[" in item or item.startswith("function-")):
            continue
        if isinstance(node, dict) and item not in node and node.get("kind") == item:
            continue  # discriminated-union tag: the data has no such key
        cleaned.append(item)
        if isinstance(node, dict):
            node = node.get(item)
        elif isinstance(node, list) and isinstance(item, int) and 0 <= item < len(node):
            node = node[item]
        else:
            node = None
    return tuple(cleaned)


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...], data: Any) -> list[str]:
    """Names of the fields of the model that owns the key at ``loc``."""
    current: Any = model
    node: Any = data
    for item in loc[:-1]:
        node = node[item] if isinstance(node, dict | list) and _has(node, item) else None
        current = _step(current, item, node)
        if current is None:
            return []
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _kinds_at(model: type[BaseModel], loc: tuple[Any, ...], data: Any) -> list[str]:
    """The 'kind' values of the union of models expected at ``loc`` (empty if not a union)."""
    if not loc:
        return []
    current: Any = model
    node: Any = data
    for item in loc[:-1]:
        node = node[item] if isinstance(node, dict | list) and _has(node, item) else None
        current = _step(current, item, node)
        if current is None:
            return []
    annotation = None
    if isinstance(current, type) and issubclass(current, BaseModel):
        for name, field in current.model_fields.items():
            if loc[-1] in (name, field.alias):
                annotation = field.annotation
    kinds: list[str] = []
    for member in _flatten_union(annotation) if annotation is not None else []:
        if isinstance(member, type) and issubclass(member, BaseModel):
            kind = member.model_fields.get("kind")
            kinds += [str(k) for k in getattr(kind.annotation, "__args__", ())] if kind else []
    return kinds


def _has(node: Any, item: Any) -> bool:
    if isinstance(node, dict):
        return item in node
    if isinstance(node, list):
        return isinstance(item, int) and 0 <= item < len(node)
    return False


def _step(current: Any, item: Any, node: Any) -> Any:
    """The annotation found one step below ``current`` at key ``item``."""
    if isinstance(current, type) and issubclass(current, BaseModel):
        for name, field in current.model_fields.items():
            if item in (name, field.alias):
                return _resolve(field.annotation, node)
        return None
    origin = getattr(current, "__origin__", None)
    args: tuple[Any, ...] = getattr(current, "__args__", ()) or ()
    if origin in (list, tuple) and args:
        return _resolve(args[0], node)
    if origin is dict and len(args) == 2:
        return _resolve(args[1], node)
    return None


def _resolve(annotation: Any, node: Any) -> Any:
    """Pick the union member matching the node's 'kind' (or the only model member)."""
    metadata_origin = getattr(annotation, "__metadata__", None)
    if metadata_origin is not None:
        annotation = annotation.__origin__
    args = getattr(annotation, "__args__", None)
    origin = getattr(annotation, "__origin__", None)
    if args and origin not in (list, tuple, dict):
        models = [
            a
            for a in _flatten_union(annotation)
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if isinstance(node, dict) and "kind" in node:
            for candidate in models:
                kind_field = candidate.model_fields.get("kind")
                if kind_field is not None and node["kind"] in getattr(
                    kind_field.annotation, "__args__", ()
                ):
                    return candidate
        others = [
            a
            for a in _flatten_union(annotation)
            if not (isinstance(a, type) and issubclass(a, BaseModel))
        ]
        if len(models) == 1:
            return models[0]
        if others and not models:
            return others[0]
        return models[0] if len(models) == 1 else (others[0] if others else None)
    return annotation


def _flatten_union(annotation: Any) -> list[Any]:
    out: list[Any] = []
    for arg in getattr(annotation, "__args__", ()) or ():
        if getattr(arg, "__metadata__", None) is not None:
            arg = arg.__origin__
        if getattr(arg, "__args__", None) and getattr(arg, "__origin__", None) not in (
            list,
            tuple,
            dict,
            Literal,
        ):
            out.extend(_flatten_union(arg))
        else:
            out.append(arg)
    return out


def _problem_text(err: Mapping[str, Any]) -> tuple[str, str | None]:
    """(problem, allowed) in our words for one pydantic error."""
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    msg = err.get("msg", "invalid value")
    if kind == "greater_than":
        return "value out of range", f"> {ctx.get('gt')}"
    if kind == "greater_than_equal":
        return "value out of range", f">= {ctx.get('ge')}"
    if kind == "less_than":
        return "value out of range", f"< {ctx.get('lt')}"
    if kind == "less_than_equal":
        return "value out of range", f"<= {ctx.get('le')}"
    if kind == "finite_number":
        return "not a finite number", "a finite number (no NaN or infinity)"
    if kind in ("float_parsing", "float_type"):
        return "not a number", "a number"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "not an integer", "an integer"
    if kind in ("bool_parsing", "bool_type"):
        return "not a boolean", "true or false"
    if kind in ("string_type",):
        return "not a string", "a string"
    if kind in ("list_type", "tuple_type"):
        return "not a list", "a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "not a mapping", "a mapping of keys to values"
    if kind == "missing":
        return "required key is missing", None
    if kind == "literal_error":
        return "value not allowed", str(ctx.get("expected", "")).replace("'", "")
    if kind == "union_tag_invalid":
        return "unknown kind", str(ctx.get("expected_tags", "")).replace("'", "")
    if kind == "union_tag_not_found":
        return "missing 'kind'", None
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        if pattern in _PATTERN_HELP:
            return "not a safe file name", _PATTERN_HELP[pattern]
        return "text of the wrong form", f"text matching {pattern}"
    if kind == "string_too_long":
        return "too long", f"at most {ctx.get('max_length')} characters"
    if kind == "string_too_short":
        return "too short", f"at least {ctx.get('min_length')} character(s)"
    if kind == "too_short":
        return "too few items", f"at least {ctx.get('min_length')}"
    if kind == "too_long":
        return "too many items", f"at most {ctx.get('max_length')}"
    if kind == "value_error":
        text = str(ctx.get("error", msg))
        if "; allowed: " in text:
            problem, allowed = text.split("; allowed: ", 1)
            return problem, allowed
        return text, None
    return msg, None


def validate_data(
    model: type[M],
    data: Any,
    *,
    file: str | Path | None = None,
    doc: YamlDocument | None = None,
    key_prefix: str | None = None,
    context: dict[str, Any] | None = None,
) -> M:
    """Validate ``data`` into ``model``; the first problem becomes a one-line SimInputError."""
    try:
        return model.model_validate(data, context=context)
    except SimInputError as exc:
        raise exc.located(file=file, key_prefix=key_prefix) from None
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # Prefer the most specific (deepest) error; unions report one error per member.
        # A misspelt key shows up as 'unknown key' plus 'missing'; the first explains both.
        extra = [e for e in errors if e.get("type") == "extra_forbidden"]
        err = max(extra or errors, key=lambda e: len(_clean_loc(tuple(e["loc"]), data)))
        loc = _clean_loc(tuple(err["loc"]), data)
        dotted = _dotted(loc)
        if key_prefix:
            dotted = f"{key_prefix}.{dotted}" if dotted else key_prefix
        value = err.get("input", ...)
        if err.get("type") == "extra_forbidden":
            name = str(loc[-1]) if loc else "?"
            fields = _fields_at(model, loc, data)
            hint = did_you_mean(name, fields)
            problem = f"unknown key{hint}"
            allowed = list_choices(fields) if fields else None
            value = ...
        elif err.get("type") == "missing":
            problem, allowed = _problem_text(err)
            value = ...
        else:
            problem, allowed = _problem_text(err)
            if problem == "not a mapping":
                fields = _fields_at(model, (*loc, ""), data)
                kinds = _kinds_at(model, loc, data)
                if kinds:
                    allowed = "a mapping with 'kind': " + ", ".join(kinds)
                elif fields:
                    allowed = "a mapping with keys " + list_choices(fields, limit=20)
            if isinstance(value, bool) and problem in ("not an integer", "not a number"):
                problem += " (YAML reads yes/no/on/off/true/false as booleans)"
        line = doc.line_of(loc) if doc is not None else None
        raise SimInputError(
            problem, file=file, key=dotted or None, value=value, allowed=allowed, line=line
        ) from None
