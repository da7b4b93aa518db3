"""Strict pydantic base model and conversion of pydantic errors to one-line SimInputErrors.

All user-facing configuration (scenarios, profiles) is parsed into frozen
models derived from :class:`Strict`: unknown keys are rejected (with a "did you
mean"), NaN and infinity are refused, and values are checked once, before the
engine sees them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

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
    """Base of every settings model: frozen, unknown keys refused, NaN/inf refused, strict types.

    ``model_config`` sets pydantic's ``strict=True``: no value is coerced to another type, so
    ``count: yes`` (a YAML boolean) and ``seed: true`` are not the integer 1,
    ``duration_s: "3"`` (a quoted string) is not a number, and 1.7 is not an integer. The
    exceptions are pydantic's own strict-mode rules (an integer is accepted where a float is
    expected) and one conversion made here before validation: YAML has no tuples, so a list
    is accepted for a tuple field. Defaults are validated too; fields may be given by name or
    alias. Unknown keys become "unknown key (did you mean ...)" in :func:`validate_data`.
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


def _models_in(annotation: Any, depth: int = 0) -> list[tuple[type[BaseModel], int]]:
    """The pydantic models a field may hold, each with how many lists/tuples/dicts lie above it.

    Looks through Annotated and unions; a dict's models are its values'.
    """
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, depth)]
    origin = get_origin(annotation)
    if origin is Literal:
        return []
    args = get_args(annotation)
    if origin is dict:
        args = args[1:]
    below = depth + 1 if origin in (list, tuple, dict) else depth
    return [found for arg in args for found in _models_in(arg, below)]


def _kinds(model: type[BaseModel]) -> list[str]:
    """The 'kind' tags a member of a discriminated union accepts (empty if it has none)."""
    kind = model.model_fields.get("kind")
    return [str(tag) for tag in get_args(kind.annotation)] if kind is not None else []


def _field(model: type[BaseModel], key: Any) -> FieldInfo | None:
    """The field ``key`` names in ``model`` (by name or alias)."""
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field
    return None


def _pick(models: list[type[BaseModel]], node: Any) -> type[BaseModel] | None:
    """The model of ``models`` the data ``node`` is for: the one its 'kind' names, or the only one."""
    if isinstance(node, dict) and "kind" in node:
        for model in models:
            if node["kind"] in _kinds(model):
                return model
    return models[0] if len(models) == 1 else None


def _owner(model: type[BaseModel], loc: tuple[Any, ...], data: Any) -> list[type[BaseModel]]:
    """The models that may hold the key at ``loc`` (a union's members while no 'kind' picks one).

    Follows ``loc`` through the models' ``model_fields``; a step into a list, tuple or dict
    the field's type puts above its models (``dict[str, StrategyConfig]``) is an index or a
    mapping key and keeps those models.
    """
    candidates: list[tuple[type[BaseModel], int]] = [(model, 0)]
    node: Any = data
    for item in loc[:-1]:
        if not _has(node, item):
            return []
        owner = _pick([m for m, depth in candidates if depth == 0], node)
        field = _field(owner, item) if owner is not None else None
        candidates = [(m, depth - 1) for m, depth in candidates if depth > 0]
        candidates += _models_in(field.annotation) if field is not None else []
        node = node[item]
        if not candidates:
            return []
    return [m for m, depth in candidates if depth == 0]


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...], data: Any) -> list[str]:
    """Names (aliases where set) of the fields of the model that owns the key at ``loc``."""
    node = _node_at(data, loc[:-1])
    owner = _pick(_owner(model, loc, data), node)
    return [f.alias or n for n, f in owner.model_fields.items()] if owner is not None else []


def _kinds_at(model: type[BaseModel], loc: tuple[Any, ...], data: Any) -> list[str]:
    """The 'kind' values of the union of models expected at ``loc`` (empty if not a union)."""
    if not loc:
        return []
    owner = _pick(_owner(model, loc, data), _node_at(data, loc[:-1]))
    field = _field(owner, loc[-1]) if owner is not None else None
    members = _models_in(field.annotation) if field is not None else []
    return [kind for member, depth in members if depth == 0 for kind in _kinds(member)]


def _named_kinds_at(model: type[BaseModel], loc: tuple[Any, ...], data: Any) -> list[str]:
    """The 'kind' values of a ``dict[str, union]`` field's entries at ``loc`` (else empty)."""
    if not loc:
        return []
    owner = _pick(_owner(model, loc, data), _node_at(data, loc[:-1]))
    field = _field(owner, loc[-1]) if owner is not None else None
    if field is None or get_origin(field.annotation) is not dict:
        return []
    members = _models_in(field.annotation)
    return [kind for member, depth in members if depth == 1 for kind in _kinds(member)]


def _node_at(data: Any, loc: tuple[Any, ...]) -> Any:
    for item in loc:
        data = data[item] if _has(data, item) else None
    return data


def _has(node: Any, item: Any) -> bool:
    if isinstance(node, dict):
        return item in node
    if isinstance(node, list):
        return isinstance(item, int) and 0 <= item < len(node)
    return False


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


def _cross_reference_error(
    cause: SimInputError,
    loc: tuple[Any, ...],
    file: str | Path | None,
    doc: YamlDocument | None,
    key_prefix: str | None,
) -> SimInputError:
    """A model validator's SimInputError (its key relative to the model at ``loc``), located.

    Validators that compare several fields (a group's cell must name a cell) raise
    SimInputError with the dotted key of the offending value, e.g. ``devices.0.cell``.
    """
    inner = tuple(int(p) if p.isdigit() else p for p in cause.key.split(".")) if cause.key else ()
    full = (*loc, *inner)
    line = doc.line_of(full) if doc is not None and full else None
    key = _dotted(full) or None
    if key_prefix:
        key = f"{key_prefix}.{key}" if key else key_prefix
    return SimInputError(
        cause.problem,
        file=cause.file or file,
        key=key,
        value=cause.value,
        allowed=cause.allowed,
        line=line if line is not None else cause.line,
    )


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
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, SimInputError):
            raise _cross_reference_error(cause, loc, file, doc, key_prefix) from None
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
                named_kinds = _named_kinds_at(model, loc, data)
                if kinds:
                    allowed = "a mapping with 'kind': " + ", ".join(kinds)
                elif named_kinds:
                    allowed = "a mapping of names to mappings with 'kind': " + ", ".join(
                        named_kinds
                    )
                elif fields:
                    allowed = "a mapping with keys " + list_choices(fields, limit=20)
            if isinstance(value, bool) and problem in ("not an integer", "not a number"):
                problem += " (YAML reads yes/no/on/off/true/false as booleans)"
        line = doc.line_of(loc) if doc is not None else None
        raise SimInputError(
            problem, file=file, key=dotted or None, value=value, allowed=allowed, line=line
        ) from None
