"""No import cycles inside ``sim``.

Every ``import``/``from ... import`` in ``sim/`` counts, at module level or
inside a function (a lazy import still ties two modules together: each needs
the other to be importable and to keep its names); imports under
``if TYPE_CHECKING:`` do not (they never run). An import of a package counts
as an import of its ``__init__``; ``from pkg import name`` counts as an import
of ``pkg.name`` when that is a module, else of ``pkg``.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "sim"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[tuple[str, list[str], int]]:
    """(module, names, level) of every import that can run, skipping TYPE_CHECKING blocks."""
    found: list[tuple[str, list[str], int]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((alias.name, [], 0) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", [a.name for a in node.names], node.level))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the ``sim`` modules it imports."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for target, names, level in _imports(ast.parse(path.read_text(), str(path))):
            if level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (level - 1)]
                target = ".".join([*base, target] if target else base)
            if target != PACKAGE and not target.startswith(PACKAGE + "."):
                continue
            heads = [f"{target}.{n}" for n in names if f"{target}.{n}" in modules]
            if len(heads) < len(names) or not names:
                heads.append(target)
            for head in heads:
                while head not in modules and "." in head:
                    head = head.rsplit(".", 1)[0]
                if head in modules and head != name:
                    graph[name].add(head)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def connect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(found)


def _one_loop(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A concrete loop through the component's first module, for the failure message."""
    members = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph[node] & members):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    return component


def test_the_graph_sees_known_edges():
    graph = import_graph()
    assert "sim.engine" in graph and "sim.errors" in graph
    assert "sim.scenario.load" in graph["sim.api"] or any(
        "sim.scenario" in t for t in graph["sim.api"]
    )


def test_cycle_finder_on_a_hand_made_graph():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e2"}, "e2": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert _one_loop(graph, ["a", "b", "c"]) == ["a", "b", "c", "a"]


def test_type_checking_imports_do_not_count():
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from sim.engine import x\n"
        "def f():\n    import sim.rng\n"
    )
    assert [m for m, _, _ in _imports(tree)] == ["typing", "sim.rng"]


def test_no_import_cycles_in_sim():
    graph = import_graph()
    found = cycles(graph)
    if found:
        lines = [" -> ".join(_one_loop(graph, c)) + f"   ({len(c)} modules)" for c in found]
        pytest.fail("import cycles in sim/:\n" + "\n".join(lines))


def test_sim_sweep_is_a_function_with_the_runners_signature():
    import inspect

    import sim
    import sim.sweep.result as result_module  # loading a submodule must not replace it
    from sim.sweep import load_sweep
    from sim.sweep.runner import sweep as run_sweep

    assert inspect.isfunction(sim.sweep)
    assert inspect.signature(sim.sweep) == inspect.signature(run_sweep)
    assert load_sweep is result_module.load_sweep
    with pytest.raises(FileNotFoundError):  # the older spelling forwards to the same function
        sim.sweep.load_sweep("/nonexistent/sweep")


HEAVY = ("pandas", "pyarrow", "scipy", "matplotlib", "networkx", "numba", "torch", "dask")
"""Libraries that take 0.2-1 s each to import: loaded where a frame, a statistic, a plot or
a cluster is made, never by importing an entry point."""


@pytest.mark.parametrize(
    ("module", "unloaded"),
    [
        ("sim", (*HEAVY, "numpy", "pydantic", "simpy", "yaml")),
        ("sim.cli", (*HEAVY, "numpy", "pydantic", "simpy", "yaml")),
        ("sim.api", HEAVY),  # the engine: numpy, simpy, pydantic settings, yaml
        ("sim.scenario.load", HEAVY),
        ("sim.sweep.plan", HEAVY),
    ],
)
def test_entry_points_import_heavy_libraries_lazily(module, unloaded):
    """``import sim.api`` took 1.3 s when pandas and scipy.stats came with it (issue 16)."""
    code = f"import sys, {module}; print(','.join(m for m in {unloaded!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "", f"import {module} loaded {out.stdout.strip()}"
