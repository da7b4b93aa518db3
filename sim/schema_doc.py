"""The scenario reference, generated from the schema (pydantic's JSON Schema).

Every key of a scenario file with its type, default, unit, allowed range,
meaning and an example. The descriptions are the ``Field(description=...)``
of the schema models; the unit comes from the key's suffix (``_s``, ``_bps``,
...) or, for keys without one, from a ``[unit]`` in the description (``[1]``:
dimensionless). Examples are the first value found in the shipped scenarios
(``scenarios/``), else the default. ``python -m sim schema [dotted.key]``
prints it, ``python -m sim schema --json`` writes the JSON Schema for editors,
and the documentation site renders :func:`reference_markdown`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sim.schema_examples import EXTRA_EXAMPLES

UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_w_per_mbps", "W/(Mbit/s)"),
    ("_per_db", "1/dB"),
    ("_mbps", "Mbit/s"),
    ("_dbm", "dBm"),
    ("_db", "dB"),
    ("_bps", "bit/s"),
    ("_khz", "kHz"),
    ("_mhz", "MHz"),
    ("_ghz", "GHz"),
    ("_hz", "Hz"),
    ("_mps", "m/s"),
    ("_ms", "ms"),
    ("_s", "s"),
    ("_m", "m"),
    ("_w", "W"),
    ("_j", "J"),
    ("_bytes", "B"),
    ("_deg", "degrees"),
)
"""Key suffix -> unit, longest first (the project's naming rule: the unit is in the key)."""

_BRACKET_UNIT = re.compile(r"\[([^\[\]]+)\]\s*$")


def unit_of(key: str, description: str | None) -> str | None:
    """The unit of ``key``: from its suffix, else a trailing ``[unit]`` of its description."""
    for suffix, unit in UNIT_SUFFIXES:
        if key.endswith(suffix):
            return unit
    if description:
        match = _BRACKET_UNIT.search(description)
        if match:
            return match.group(1)
    return None


@dataclass
class KeyDoc:
    """One key of the scenario file."""

    path: str  # display path: devices[].workload.fps
    variant: str | None  # the ``kind`` this key belongs to ("workload.kind: periodic")
    type: str
    default: Any
    required: bool
    unit: str | None
    range: str
    description: str
    example: Any = None
    numeric: bool = False
    children: list[str] = field(default_factory=list)

    @property
    def lookup(self) -> str:
        """The path without list markers, as typed after ``sim schema`` (``devices.workload.fps``)."""
        return self.path.replace("[]", "").replace("{name}", "")


def _clean(description: str) -> str:
    """One line, Markdown code marks instead of reST's double backquotes."""
    return " ".join(description.split()).replace("``", "`")


def _resolve(schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = defs[schema["$ref"].split("/")[-1]]
    return schema


def _options(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of an anyOf/oneOf, without null."""
    alternatives = schema.get("anyOf") or schema.get("oneOf")
    if not alternatives:
        return [schema]
    out: list[dict[str, Any]] = []
    for alt in alternatives:
        if alt.get("type") == "null":
            continue
        out.extend(_options(alt) if ("anyOf" in alt or "oneOf" in alt) else [alt])
    return out


def _type_name(schema: dict[str, Any], defs: dict[str, Any]) -> str:
    if "$ref" in schema:
        target = _resolve(schema, defs)
        kind = target.get("properties", {}).get("kind", {})
        if "const" in kind:
            return f"mapping (kind: {kind['const']})"
        return "mapping"
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    if "anyOf" in schema or "oneOf" in schema:
        options = _options(schema)
        kinds = [
            _resolve(alt, defs).get("properties", {}).get("kind", {}).get("const")
            for alt in options
            if "$ref" in alt
        ]
        if len(kinds) > 1 and len(kinds) == len(options) and all(kinds):
            nullable = any(a.get("type") == "null" for a in schema.get("anyOf", []))
            text = f"mapping (kind: {' | '.join(kinds)})"
            return f"{text} or null" if nullable else text
        names = [_type_name(alt, defs) for alt in options]
        nullable = any(a.get("type") == "null" for a in schema.get("anyOf", []))
        text = " or ".join(dict.fromkeys(names))
        return f"{text} or null" if nullable else text
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        if isinstance(items, dict) and items:
            return f"list of {_type_name(items, defs)}"
        prefix = schema.get("prefixItems")
        if prefix:
            return "[" + ", ".join(_type_name(p, defs) for p in prefix) + "]"
        return "list"
    if kind == "object":
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            return f"mapping of name to {_type_name(extra, defs)}"
        return "mapping"
    return str(kind or "any")


def _range(schema: dict[str, Any]) -> str:
    parts = []
    for alt in _options(schema):
        bounds = []
        if "exclusiveMinimum" in alt:
            bounds.append(f"> {alt['exclusiveMinimum']:g}")
        if "minimum" in alt:
            bounds.append(f">= {alt['minimum']:g}")
        if "exclusiveMaximum" in alt:
            bounds.append(f"< {alt['exclusiveMaximum']:g}")
        if "maximum" in alt:
            bounds.append(f"<= {alt['maximum']:g}")
        if "minLength" in alt:
            bounds.append(f"at least {alt['minLength']} characters")
        if "pattern" in alt:
            bounds.append(f"matching `{alt['pattern']}`")
        if "minItems" in alt:
            bounds.append(f"at least {alt['minItems']} items")
        if "maxItems" in alt:
            bounds.append(f"at most {alt['maxItems']} items")
        items = alt.get("items")
        if isinstance(items, dict) and alt.get("type") == "array":
            inner = _range(items)
            if inner:
                bounds.append(f"each {inner}")
        if bounds:
            parts.append(", ".join(bounds))
    return "; ".join(dict.fromkeys(parts))


def _is_numeric(schema: dict[str, Any]) -> bool:
    for alt in _options(schema):
        if alt.get("type") == "number":
            return True
        items = alt.get("items")
        if (
            alt.get("type") == "array"
            and isinstance(items, dict)
            and any(a.get("type") == "number" for a in _options(items))
        ):
            return True
    return False


def _walk(
    schema: dict[str, Any],
    defs: dict[str, Any],
    prefix: str,
    variant: str | None,
    out: list[KeyDoc],
    seen: tuple[str, ...],
) -> None:
    """Append a KeyDoc for every property of the object ``schema`` (and below)."""
    required = set(schema.get("required", []))
    for key, prop in schema.get("properties", {}).items():
        path = f"{prefix}{key}"
        description = prop.get("description", "")
        if not description and "$ref" in prop:
            description = _resolve(prop, defs).get("description", "")
        if not description:
            # a nullable object: the description sits on the referenced model
            objects = [a for a in _options(prop) if "$ref" in a]
            if len(objects) == 1:
                description = _resolve(objects[0], defs).get("description", "")
        if not description and key == "kind" and "const" in prop:
            description = f"selects this variant: {schema.get('description', '')}".rstrip(": ")
        doc = KeyDoc(
            path=path,
            variant=variant,
            type=_type_name(prop, defs),
            default=prop.get("default"),
            required=key in required,
            unit=unit_of(key, description),
            range=_range(prop),
            description=_clean(description),
            numeric=_is_numeric(prop),
        )
        out.append(doc)
        _descend(prop, defs, path, out, seen)


def _descend(
    prop: dict[str, Any],
    defs: dict[str, Any],
    path: str,
    out: list[KeyDoc],
    seen: tuple[str, ...],
) -> None:
    """Walk into the objects a property can hold (models, lists of them, maps of them)."""
    targets: dict[str, list[dict[str, Any]]] = {}
    for alt in _options(prop):
        if alt.get("type") == "array" and isinstance(alt.get("items"), dict):
            targets.setdefault("[]", []).extend(_options(alt["items"]))
        elif alt.get("type") == "object" and isinstance(alt.get("additionalProperties"), dict):
            targets.setdefault(".{name}", []).extend(_options(alt["additionalProperties"]))
        else:
            targets.setdefault("", []).append(alt)
    for suffix, alternatives in targets.items():
        refs = [a for a in alternatives if "$ref" in a]
        tagged = len(refs) > 1
        for ref in refs:
            name = ref["$ref"].split("/")[-1]
            if name in seen:
                continue
            model = defs[name]
            kind = model.get("properties", {}).get("kind", {}).get("const")
            variant = None
            if tagged:
                variant = f"{path.split('.')[-1]}.kind: {kind}" if kind else name
            _walk(model, defs, f"{path}{suffix}.", variant, out, (*seen, name))


@cache
def json_schema() -> dict[str, Any]:
    """The scenario file's JSON Schema (draft 2020-12), as editors read it."""
    from sim.schema import ROOT  # every settings model, re-exported in one place

    schema = ROOT.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "splitsim scenario"
    return schema


def _scenario_examples(root: Path) -> dict[str, Any]:
    """normalised dotted key (``|kind`` inside a mapping with that kind) -> first value found
    in the shipped scenarios."""
    import yaml

    found: dict[str, Any] = {}

    def visit(value: Any, path: str) -> None:
        if isinstance(value, dict):
            kind = value.get("kind")
            for k, v in value.items():
                key = f"{path}.{k}" if path else str(k)
                found.setdefault(key, v)
                if isinstance(kind, str):
                    found.setdefault(f"{key}|{kind}", v)
                visit(v, key)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, dict):
                    visit(item, path)

    for file in sorted([*root.glob("*.yaml"), *root.glob("*/*.yaml")]):
        try:
            data = yaml.safe_load(file.read_text())
        except (OSError, yaml.YAMLError):
            continue
        if isinstance(data, dict):
            visit(data, "")
    return found


def _scenarios_dir() -> Path:
    return Path(__file__).resolve().parents[1] / "scenarios"


@cache
def reference() -> tuple[KeyDoc, ...]:
    """Every key of the scenario file, in schema order."""
    schema = json_schema()
    out: list[KeyDoc] = []
    _walk(schema, schema.get("$defs", {}), "", None, out, ("ScenarioSpec",))
    examples = _scenario_examples(_scenarios_dir())
    for key, value in EXTRA_EXAMPLES.items():
        examples.setdefault(key, value)
    for doc in out:
        kind = doc.variant.split("kind: ")[-1] if doc.variant and "kind: " in doc.variant else None
        if doc.path.endswith(".kind") and kind:
            doc.example = kind
            continue
        lookup = doc.lookup
        candidates = [f"{lookup}|{kind}", lookup] if kind else [lookup]
        value = None
        for wanted in candidates:
            if ".." in wanted:
                # strategies.{name}.x is written under the strategy's own name
                head, _, tail = wanted.partition("..")
                value = next(
                    (
                        v
                        for k, v in examples.items()
                        if k.startswith(head + ".") and k.endswith("." + tail)
                    ),
                    None,
                )
            else:
                value = examples.get(wanted)
            if value is not None:
                break
        if value is None and kind is not None and lookup in examples:
            value = None  # a value of another kind's key of the same name is no example
        doc.example = value if value is not None else doc.default
    return tuple(out)


_LISTS = ("devices", "cells", "servers", "strategies")


def readable_key(dotted: str) -> str:
    """An axis label for a dotted scenario key: ``devices.pi.workload.fps`` -> ``pi: workload
    fps [1/s]``, ``cells.0.uplink.rate_bps`` -> ``uplink rate [bit/s]``."""
    parts = [p for p in dotted.split(".") if p]
    if not parts:
        return dotted
    last = parts[-1]
    matches = lookup(dotted) if _normalise(dotted) else []
    exact = [d for d in matches if d.lookup.split(".")[-1] == last and d.unit]
    unit = exact[0].unit if exact else unit_of(last, None)
    name = last
    for suffix, _ in UNIT_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    item = None
    context = []
    for i, part in enumerate(parts[:-1]):
        if i == 1 and parts[0] in _LISTS and not part.isdigit():
            item = part
        elif not part.isdigit() and not (i == 0 and part in _LISTS):
            context.append(part)
    text = " ".join([*context, name]).replace("_", " ")
    if item:
        text = f"{item}: {text}"
    return f"{text} [{unit}]" if unit else text


def _normalise(query: str) -> str:
    """``devices.0.workload.fps`` or ``devices[].workload.fps`` -> ``devices.workload.fps``."""
    parts = [p for p in query.replace("[]", "").split(".") if p and not p.isdigit()]
    return ".".join(parts)


def lookup(query: str) -> list[KeyDoc]:
    """The keys at or below ``query`` (list indices and names of list items are ignored)."""
    wanted = _normalise(query)
    docs = reference()
    if not wanted:
        return list(docs)
    normalised = [(_normalise(d.lookup.replace("..", ".")), d) for d in docs]
    exact = [d for n, d in normalised if n == wanted or n.startswith(wanted + ".")]
    if exact:
        return exact
    # strategies.adaptive.min_accuracy: the middle part names a mapping entry
    parts = wanted.split(".")
    return [
        d
        for n, d in normalised
        if any(n == ".".join(parts[:i] + parts[i + 1 :]) for i in range(1, len(parts)))
        or any(
            n.startswith(".".join(parts[:i] + parts[i + 1 :]) + ".") for i in range(1, len(parts))
        )
    ]


def write_json_schema(path: str | Path | None) -> str:
    """The JSON Schema as text; written to ``path`` when given."""
    text = json.dumps(json_schema(), indent=2) + "\n"
    if path is not None:
        Path(path).write_text(text)
    return text


def missing_documentation() -> list[str]:
    """Keys without a description, and numeric keys without a unit (what the docs test checks)."""
    problems = []
    for doc in reference():
        where = doc.path + (f" ({doc.variant})" if doc.variant else "")
        if not doc.description:
            problems.append(f"{where}: no description")
        if doc.numeric and doc.unit is None:
            problems.append(f"{where}: a number without a unit (suffix or '[unit]')")
    return problems
