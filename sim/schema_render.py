"""The scenario reference as text: the terminal form (``python -m sim schema``) and the
Markdown tables of the documentation site (docs/reference/scenario.md)."""

from __future__ import annotations

import html
import json
from typing import Any

from sim.schema_doc import KeyDoc, reference


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, separators=(", ", ": "))


def format_text(docs: list[KeyDoc]) -> str:
    """The terminal form: one paragraph per key."""
    lines = []
    for doc in docs:
        head = doc.path + (f"   (when {doc.variant})" if doc.variant else "")
        lines.append(head)
        facts = [f"type: {doc.type}"]
        if doc.unit:
            facts.append(f"unit: {doc.unit}")
        facts.append("required" if doc.required else f"default: {_value(doc.default) or 'none'}")
        if doc.range:
            facts.append(f"allowed: {doc.range}")
        lines.append("    " + "; ".join(facts))
        if doc.description:
            lines.append(f"    {doc.description}")
        if doc.example is not None and len(_value(doc.example)) <= 80:
            lines.append(f"    example: {doc.lookup.split('.')[-1]}: {_value(doc.example)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def _html(text: str) -> str:
    return html.escape(text, quote=False)


def _html_outside_code(text: str) -> str:
    """Escape ``<``, ``>`` and ``&`` except inside `code spans` (Markdown escapes those)."""
    parts = text.split("`")
    return "`".join(p if i % 2 else _html(p) for i, p in enumerate(parts))


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def reference_markdown() -> str:
    """The scenario reference as Markdown tables, one section per top-level key."""
    sections: dict[str, list[KeyDoc]] = {}
    for doc in reference():
        sections.setdefault(doc.path.split(".")[0].split("[")[0], []).append(doc)
    out = []
    top = [d for d in reference() if "." not in d.path]
    out.append("## Top level\n")
    out.append(_table(top))
    for name, docs in sections.items():
        nested = [d for d in docs if "." in d.path]
        if not nested:
            continue
        out.append(f"## `{name}`\n")
        out.append(_table(nested))
    return "\n".join(out)


def _table(docs: list[KeyDoc]) -> str:
    rows = [
        "| key | type | unit | default | allowed | meaning | example |",
        "|---|---|---|---|---|---|---|",
    ]
    parents = {d.path for d in reference()}
    for doc in docs:
        key = f"`{doc.path}`" + (f"<br>*when {_html(doc.variant)}*" if doc.variant else "")
        nested = any(p.startswith((doc.path + ".", doc.path + "[].")) for p in parents)
        example = "" if nested and isinstance(doc.example, dict | list) else _value(doc.example)
        default = "" if nested and isinstance(doc.default, dict) else _value(doc.default)
        if len(example) > 60:
            example = example[:57] + "..."
        rows.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    key,
                    _html(doc.type),
                    _html(doc.unit or ""),
                    "**required**" if doc.required else f"`{default}`" if default else "",
                    _html_outside_code(doc.range),
                    _html_outside_code(doc.description),
                    f"`{example}`" if example else "",
                )
            )
            + " |"
        )
    return "\n".join(rows) + "\n"
