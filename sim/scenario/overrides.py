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


def apply_override(
    data: dict, assignment: str, source: str = "--set", applied: dict[str, str] | None = None
) -> dict:
    """A copy of ``data`` with one ``key=value`` assignment applied.

    ``applied`` (if given) receives the key as resolved (list items by index) -> ``source``,
    so later errors about the value blame the override and not the file's line."""
    if not isinstance(assignment, str):
        raise SimInputError("override must be a 'key=value' string", file=source, value=assignment)
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
    resolved: list[str] = []
    for depth, part in enumerate(parts[:-1]):
        here = ".".join(parts[: depth + 1])
        if isinstance(node, list):
            index = _index(node, part, here, source) % len(node)
            node = node[index]
            resolved.append(str(index))
        elif isinstance(node, dict):
            if part not in node or node[part] is None:
                node[part] = {}
            node = node[part]
            resolved.append(part)
        else:
            raise SimInputError("cannot set a key inside a scalar", file=source, key=here)
    last = parts[-1]
    if isinstance(node, list):
        index = _index(node, last, dotted, source) % len(node)
        node[index] = value
        resolved.append(str(index))
    elif isinstance(node, dict):
        node[last] = value
        resolved.append(last)
    else:
        raise SimInputError("cannot set a key inside a scalar", file=source, key=dotted)
    if applied is not None:
        applied[".".join(resolved)] = source
    return result


def apply_overrides(
    data: dict,
    assignments: list[str] | None,
    source: str = "--set",
    applied: dict[str, str] | None = None,
) -> dict:
    """``data`` with every assignment applied in order (see :func:`apply_override`)."""
    if assignments is not None and (
        isinstance(assignments, str) or not isinstance(assignments, list | tuple)
    ):
        raise SimInputError(
            "overrides must be a list of 'key=value' strings",
            file=source,
            value=assignments,
            allowed=f"a list, e.g. [{assignments!r}]"
            if isinstance(assignments, str)
            else "a list of str",
        )
    for assignment in assignments or []:
        data = apply_override(data, assignment, source, applied)
    return data


def blamed_on_override(
    exc: SimInputError, file: str | None, applied: dict[str, str] | None
) -> SimInputError:
    """``exc`` re-addressed to the override that set its key (no file line), if one did."""
    if not applied or exc.key is None or exc.file != file:
        return exc
    for dotted, source in applied.items():
        if (
            exc.key == dotted
            or exc.key.startswith(dotted + ".")
            or dotted.startswith(exc.key + ".")
        ):
            return SimInputError(
                exc.problem,
                file=source,
                key=exc.key,
                value=exc.value,
                allowed=exc.allowed,
            )
    return exc
