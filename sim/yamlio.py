"""Safe YAML reading for user files: data only, bounded size, line numbers for errors.

Scenario and profile files are data. They are parsed with PyYAML's SafeLoader
(no tags that import or call code) after two guards: a byte limit on the file
and a limit on the size of the document once aliases are expanded, which stops
an alias/anchor "billion laughs" bomb before it is built. A key written twice
in one mapping is an error naming both lines (YAML says keys are unique;
PyYAML would silently keep the last). Numbers in exponent form without a dot
(``1e6``) are numbers, as in YAML 1.2, not strings.
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path
from typing import Any

import yaml

from sim.errors import SimInputError

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Largest YAML text read [bytes]: parsing takes ~2 s per MiB with libyaml (~10 s without)
and ~300 bytes of memory per number, so a 30 MB list would stall the load for minutes."""
MAX_EXPANDED_NODES = 2_000_000
_SECONDS_PER_MIB = 2.0 if getattr(yaml, "__with_libyaml__", False) else 10.0

_Base = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """SafeLoader (libyaml's when installed) that reads ``1e6`` and ``-2E-3`` as floats
    (YAML 1.2 core schema)."""


_Loader.yaml_implicit_resolvers = {
    first: list(resolvers) for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _duplicate_keys(root: yaml.Node, where: str) -> None:
    """Raise for the first mapping that holds the same key twice (with both lines)."""
    stack = [root]
    seen_nodes: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[tuple[str, str], int] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                    ident = (key_node.tag, key_node.value)
                    line = key_node.start_mark.line + 1
                    if ident in first:
                        raise SimInputError(
                            f"key '{key_node.value}' appears twice in one mapping "
                            f"(lines {first[ident]} and {line})",
                            file=where,
                            line=line,
                            allowed="each key once (YAML would silently keep the last)",
                        )
                    first[ident] = line
                stack.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


def _expanded_size(node: yaml.Node, memo: dict[int, int], depth: int = 0) -> int:
    """Number of nodes the document would have with every alias expanded."""
    key = id(node)
    if key in memo:
        return memo[key]
    if depth > 200:
        raise SimInputError("YAML nesting deeper than 200 levels", allowed="at most 200 levels")
    memo[key] = 1  # a cycle counts once; PyYAML rejects recursive objects later anyway
    if isinstance(node, yaml.SequenceNode):
        size = 1 + sum(_expanded_size(child, memo, depth + 1) for child in node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(
            _expanded_size(k, memo, depth + 1) + _expanded_size(v, memo, depth + 1)
            for k, v in node.value
        )
    else:
        size = 1
    memo[key] = size
    return size


class _LineIndex:
    """Maps a dotted key path to the line where it appears in the YAML source."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        node = self.root
        line = None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                found = None
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(part):
                        found = (key_node, value_node)
                        break
                if found is None:
                    return line
                line = found[0].start_mark.line + 1
                node = found[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
                if not 0 <= part < len(node.value):
                    return line
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                return line
        return line


class YamlDocument:
    """A parsed YAML file: its data, where it came from, and line lookup for errors."""

    def __init__(self, data: Any, path: Path | None, root: yaml.Node | None) -> None:
        self.data = data
        self.path = path
        self._lines = _LineIndex(root)

    def line_of(self, path: tuple[Any, ...]) -> int | None:
        return self._lines.line_of(path)


def _too_large(size: int, where: str | Path) -> SimInputError:
    mib = size / 2**20
    return SimInputError(
        f"YAML text too large ({mib:.1f} MiB; parsing it would take about "
        f"{mib * _SECONDS_PER_MIB:.0f} s and {size * 40 / 2**30:.1f} GiB)",
        file=where,
        allowed=f"at most {MAX_FILE_BYTES // 2**20} MiB; long series belong in a trace file "
        "(cells.N.uplink kind: trace) or a shorter list",
    )


def parse_yaml_text(text: str, source: str | Path | None = None) -> YamlDocument:
    """Parse YAML text safely; errors name ``source``."""
    where = str(source) if source is not None else "<input>"
    if not isinstance(text, str):
        raise SimInputError("YAML input must be text", file=where, value=type(text).__name__)
    size = len(text.encode("utf-8", errors="replace"))
    if size > MAX_FILE_BYTES:
        raise _too_large(size, where)
    # Parse once: compose the node graph, check its expanded size, then construct the data
    # from those nodes (SafeLoader: plain data only, tags that build objects are errors).
    loader = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
        if root is not None:
            _duplicate_keys(root, where)
            size = _expanded_size(root, {})
            if size > MAX_EXPANDED_NODES:
                raise SimInputError(
                    "YAML expands to too many nodes (alias/anchor bomb?)",
                    file=where,
                    value=size,
                    allowed=f"at most {MAX_EXPANDED_NODES:,} nodes after alias expansion",
                )
        data = loader.construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise SimInputError(
            f"malformed YAML: {problem}",
            file=where,
            line=mark.line + 1 if mark is not None else None,
        ) from None
    except RecursionError:
        raise SimInputError("YAML nested too deeply", file=where) from None
    finally:
        if loader is not None:
            loader.dispose()
    return YamlDocument(data, Path(source) if source is not None else None, root)


def read_yaml(path: str | Path) -> YamlDocument:
    """Read and parse a YAML file; a missing or unreadable file is a SimInputError."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise _too_large(size, path)
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if path.is_symlink():
            raise SimInputError(
                f"broken symbolic link (to {os.readlink(path)})", file=path
            ) from None
        raise SimInputError("file not found", file=path) from None
    except IsADirectoryError:
        raise SimInputError("expected a file, found a directory", file=path) from None
    except PermissionError:
        raise SimInputError("file not readable (permission denied)", file=path) from None
    except UnicodeDecodeError:
        raise SimInputError("file is not UTF-8 text", file=path) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SimInputError(
                "symbolic link loop (the link points back to itself)", file=path
            ) from None
        raise SimInputError(f"cannot read file: {exc.strerror}", file=path) from None
    return parse_yaml_text(text, path)


def dump_yaml(data: Any) -> str:
    """YAML text for plain data (dicts, lists, scalars), keys in insertion order."""
    return yaml.safe_dump(
        data, sort_keys=False, default_flow_style=None, width=100, allow_unicode=True
    )
