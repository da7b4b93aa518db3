"""A configuration found by a study, written back as a ready scenario file.

The file is the original scenario's YAML data with the study's overrides and
the configuration's values applied, its ``sweep:`` block dropped, a new name,
and every path that pointed next to the original file (profiles, traces,
profile folders) rewritten relative to the new file. It is checked by loading
it before it is put in place.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.scenario.overrides import apply_overrides
from sim.sweep.expand import yaml_text


def _rebase(node: Any, source_dir: Path, target_dir: Path) -> Any:
    """Relative path strings that exist beside the source, made relative to the target."""
    if isinstance(node, dict):
        return {k: _rebase(v, source_dir, target_dir) for k, v in node.items()}
    if isinstance(node, list):
        return [_rebase(v, source_dir, target_dir) for v in node]
    if isinstance(node, str) and node and not os.path.isabs(node) and "\n" not in node:
        candidate = source_dir / node
        try:
            exists = candidate.exists() and ("/" in node or "." in node)
        except OSError:
            exists = False
        if exists:
            return os.path.relpath(candidate.resolve(), target_dir.resolve())
    return node


def write_scenario(
    scenario: Any,
    point: Mapping[str, Any],
    path: Path,
    *,
    header: Sequence[str] = (),
    suffix: str = "best",
) -> Path:
    """Write ``scenario`` with ``point`` (dotted key -> value) applied to ``path``; returns it.

    Raises :class:`~sim.errors.SimInputError` (and writes nothing) if the result
    does not load.
    """
    from sim.scenario.load import load
    from sim.sweep.store import atomic_write_bytes

    data = apply_overrides(
        copy.deepcopy(scenario.raw), [f"{k}={yaml_text(v)}" for k, v in point.items()], "study"
    )
    data.pop("sweep", None)
    data["name"] = f"{data.get('name', 'scenario')}_{suffix}"
    source_dir = Path(scenario.path).parent if scenario.path is not None else Path.cwd()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = _rebase(data, source_dir, path.parent)
    text = "".join(f"# {line}\n" for line in header)
    text += yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    probe = path.with_name(f".{path.name}.check.yaml")
    try:
        probe.write_text(text, encoding="utf-8")
        load(probe)
    finally:
        probe.unlink(missing_ok=True)
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
