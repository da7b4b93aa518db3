"""Command-line overrides ``dotted.key=value`` applied to a scenario's raw data.

List items are addressed by index (``devices.0.count``) or by their ``name``
(``devices.pis.count``). The value is parsed as YAML, so ``5`` is a number,
``[a, b]`` a list and ``'5'`` a string; the schema then checks it like any
other value.
"""

from __future__ import annotations

import copy
from typing import Any

from sim.errors import SimInputError, did_you_mean, list_choices
from sim.yamlio import parse_yaml_text


def _index(node: list, part: str, dotted: str, source: str) -> int:
    if part.lstrip("-").isdigit():
        index = int(part)
        if not -len(node) <= index < len(node):
            raise SimInputError(
                "list index out of range",
                file=source,
                key=dotted,
                value=index,
                allowed=f"0..{len(node) - 1}",
            )
        return index
    names = [item.get("name") for item in node if isinstance(item, dict)]
    if part in names:
        return names.index(part)
    raise SimInputError(
        f"no list item named '{part}'{did_you_mean(part, [n for n in names if n])}",
        file=source,
        key=dotted,
        allowed="an index or one of " + list_choices([n for n in names if n]),
    )


def apply_override(data: dict, assignment: str, source: str = "--set") -> dict:
    """A copy of ``data`` with one ``key=value`` assignment applied."""
    if "=" not in assignment:
        raise SimInputError("override must look like key=value", file=source, value=assignment)
    dotted, _, text = assignment.partition("=")
    dotted = dotted.strip()
    if not dotted or any(not p for p in dotted.split(".")):
        raise SimInputError("empty key in override", file=source, value=assignment)
    value = parse_yaml_text(text, source=f"{source} {dotted}").data
    result = copy.deepcopy(data)
    node: Any = result
    parts = dotted.split(".")
    for depth, part in enumerate(parts[:-1]):
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            node = node[_index(node, part, here, source)]
        elif isinstance(node, dict):
            if part not in node or node[part] is None:
                node[part] = {}
            node = node[part]
        else:
            raise SimInputError("cannot set a key inside a scalar", file=source, key=here)
    last = parts[-1]
    if isinstance(node, list):
        node[_index(node, last, dotted, source)] = value
    elif isinstance(node, dict):
        node[last] = value
    else:
        raise SimInputError("cannot set a key inside a scalar", file=source, key=dotted)
    return result


def apply_overrides(data: dict, assignments: list[str] | None, source: str = "--set") -> dict:
    for assignment in assignments or []:
        data = apply_override(data, assignment, source)
    return data
