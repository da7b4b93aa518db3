"""The board runner stays runnable on a stock Jetson Nano: Python 3.6 syntax, torch 1.10 API, no extra packages.

* vermin (PyPI; in the ``calibration`` extra) finds no construct newer than Python 3.6;
* every ``torch.*`` name the runner touches, and every Tensor / Module / CUDA-event method it calls,
  is on an allow-list taken from the torch 1.10 documentation (each entry names its page);
* it imports nothing outside the standard library but torch (and, for ``--runtime ort``, numpy and
  onnxruntime, imported only there).

All names on the allow-lists were also checked present in torch 1.10.2 on Python 3.6.15 (the
test below runs that check when SPLITSIM_LEGACY_PYTHON points at such an interpreter).
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).parents[2] / "calibration" / "board_runner.py"
DOCS = "https://pytorch.org/docs/1.10/"

TORCH_1_10_NAMES: dict[str, str] = {
    "torch.__version__": DOCS + "torch.html (torch.__version__, set by every release)",
    "torch.backends.cudnn.benchmark": DOCS + "backends.html#torch.backends.cudnn.benchmark",
    "torch.backends.cudnn.version": DOCS + "backends.html#torch.backends.cudnn.version",
    "torch.cuda.Event": DOCS + "generated/torch.cuda.Event.html",
    "torch.cuda.get_device_name": DOCS + "generated/torch.cuda.get_device_name.html",
    "torch.cuda.is_available": DOCS + "generated/torch.cuda.is_available.html",
    "torch.cuda.synchronize": DOCS + "generated/torch.cuda.synchronize.html",
    "torch.device": DOCS + "tensor_attributes.html#torch.torch.device",
    "torch.float16": DOCS + "tensor_attributes.html#torch.torch.dtype",
    "torch.float32": DOCS + "tensor_attributes.html#torch.torch.dtype",
    "torch.uint8": DOCS + "tensor_attributes.html#torch.torch.dtype",
    "torch.get_num_threads": DOCS + "generated/torch.get_num_threads.html",
    "torch.set_num_threads": DOCS + "generated/torch.set_num_threads.html",
    "torch.inference_mode": DOCS + "generated/torch.inference_mode.html (new in 1.9)",
    "torch.no_grad": DOCS + "generated/torch.no_grad.html",
    "torch.jit.load": DOCS + "generated/torch.jit.load.html",
    "torch.jit.optimized_execution": "not on the 1.10 HTML pages: torch/jit/_fuser.py of v1.10.0 "
    "(a public context manager since 1.2; present in torch 1.10.2)",
    "torch.manual_seed": DOCS + "generated/torch.manual_seed.html",
    "torch.randn": DOCS + "generated/torch.randn.html",
    "torch.version.cuda": DOCS + "notes/cuda.html (torch.version.cuda)",
}
"""Module-level torch names the runner may use, with the torch 1.10 documentation page of each."""

TORCH_1_10_METHODS: dict[str, str] = {
    "clamp": DOCS + "generated/torch.Tensor.clamp.html",
    "clone": DOCS + "generated/torch.Tensor.clone.html",
    "float": DOCS + "generated/torch.Tensor.float.html and nn.html#torch.nn.Module.float",
    "max": DOCS + "generated/torch.Tensor.max.html",
    "min": DOCS + "generated/torch.Tensor.min.html",
    "round": DOCS + "generated/torch.Tensor.round.html",
    "to": DOCS
    + "generated/torch.Tensor.to.html and generated/torch.nn.Module.html#torch.nn.Module.to",
    "eval": DOCS + "generated/torch.nn.Module.html#torch.nn.Module.eval",
    "record": DOCS + "generated/torch.cuda.Event.html#torch.cuda.Event.record",
    "elapsed_time": DOCS + "generated/torch.cuda.Event.html#torch.cuda.Event.elapsed_time",
    "synchronize": DOCS + "generated/torch.cuda.Event.html#torch.cuda.Event.synchronize",
    "split": DOCS
    + "generated/torch.Tensor.split.html (the runner splits strings; the name is 1.10's too)",
    "values": DOCS
    + "generated/torch.Tensor.values.html (the runner calls dict.values(); 1.10's name too)",
    "wait": DOCS
    + "generated/torch.cuda.Event.html#torch.cuda.Event.wait (the runner waits for tegrastats)",
}
"""Methods of Tensor / nn.Module / cuda.Event (torch 1.10) the runner may call; a method name that is
none of these is a string's, a file's or a process's."""

STDLIB_OK = {
    "argparse",
    "datetime",
    "json",
    "os",
    "platform",
    "re",
    "shlex",
    "shutil",
    "socket",
    "statistics",
    "subprocess",
    "sys",
    "threading",
    "time",
}
OPTIONAL_OK = {"torch", "numpy", "onnxruntime"}


def _tree() -> ast.Module:
    return ast.parse(RUNNER.read_text(), filename=str(RUNNER))


def _dotted(node: ast.expr) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def torch_names(tree: ast.Module) -> set[str]:
    """The longest ``torch.a.b`` chains in the source (``torch.cuda.Event``, not also ``torch.cuda``)."""
    chains = {
        d
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and (d := _dotted(node)) and d.startswith("torch.")
    }
    return {c for c in chains if not any(other.startswith(c + ".") for other in chains)}


def called_methods(tree: ast.Module) -> set[str]:
    """Names of methods called on objects that are not modules imported by name (``x.clamp(...)``)."""
    modules = STDLIB_OK | OPTIONAL_OK
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            root = _dotted(node.func)
            if root is None or root.split(".")[0] not in modules:
                out.add(node.func.attr)
    return out


def test_allow_list_is_what_the_runner_uses() -> None:
    used = torch_names(_tree())
    assert used - set(TORCH_1_10_NAMES) == set(), "torch names outside the torch 1.10 allow-list"
    assert used, "the walk found no torch names at all"


def test_runner_calls_only_torch_1_10_methods() -> None:
    torch = pytest.importorskip("torch")
    surfaces = (torch.Tensor, torch.nn.Module, torch.jit.ScriptModule, torch.cuda.Event)
    torchy = {m for m in called_methods(_tree()) if any(hasattr(s, m) for s in surfaces)}
    assert torchy - set(TORCH_1_10_METHODS) == set(), (
        "Tensor/Module/Event methods outside the allow-list"
    )


def test_the_walk_catches_a_newer_api() -> None:
    """The checks are not vacuous: names from torch >= 1.11 are caught."""
    tree = ast.parse(
        "import torch\ny = torch.compile(m)\nz = x.nan_to_num_().scatter_reduce(0, i, s, 'sum')\n"
    )
    assert torch_names(tree) - set(TORCH_1_10_NAMES) == {"torch.compile"}
    assert {"scatter_reduce", "nan_to_num_"} <= called_methods(tree) - set(TORCH_1_10_METHODS)


def test_runner_imports_only_the_standard_library_and_torch() -> None:
    top_level, nested = set(), set()
    tree = _tree()
    for node in tree.body:
        if isinstance(node, ast.Import):
            top_level |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.Try):
            for inner in node.body:
                if isinstance(inner, ast.Import):
                    top_level |= {a.name.split(".")[0] for a in inner.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            nested |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            nested.add((node.module or "").split(".")[0])
    assert top_level <= STDLIB_OK | {"torch"}, top_level
    assert nested <= STDLIB_OK | OPTIONAL_OK, nested - STDLIB_OK
    assert (
        "__future__" not in nested
    )  # "from __future__ import annotations" is a SyntaxError on 3.6


def _vermin() -> str:
    exe = shutil.which("vermin")
    if exe is None:
        pytest.skip("vermin is not installed (pip install -e '.[calibration]')")
    return exe


def test_runner_needs_at_most_python_3_6() -> None:
    proc = subprocess.run(
        [_vermin(), "-t=3.6-", "--no-tips", "--violations", "--eval-annotations", str(RUNNER)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_vermin_catches_a_python_3_8_construct(tmp_path: Path) -> None:
    newer = tmp_path / "newer.py"
    newer.write_text("import sys\nif (n := len(sys.argv)) > 1:\n    print(f'{n=}')\n")
    proc = subprocess.run(
        [_vermin(), "-t=3.6-", "--no-tips", "--violations", str(newer)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0


@pytest.mark.skipif(
    not os.environ.get("SPLITSIM_LEGACY_PYTHON"),
    reason="set SPLITSIM_LEGACY_PYTHON to a Python 3.6 with torch 1.10 to check the names there",
)
def test_allow_list_exists_in_torch_1_10() -> None:
    check = (
        "import sys, torch, torch.backends.cudnn\n"
        "names = sys.argv[1].split(',')\nmethods = sys.argv[2].split(',')\n"
        "bad = []\nfor n in names:\n    o = torch\n    for p in n.split('.')[1:]:\n"
        "        o = getattr(o, p, None)\n    bad += [n] if o is None else []\n"
        "surf = (torch.Tensor, torch.nn.Module, torch.cuda.Event)\n"
        "bad += [m for m in methods if not any(hasattr(s, m) for s in surf)]\n"
        "assert torch.__version__.startswith('1.10'), torch.__version__\n"
        "assert sys.version_info[:2] == (3, 6), sys.version\nprint(','.join(bad))\n"
    )
    proc = subprocess.run(
        [
            os.environ["SPLITSIM_LEGACY_PYTHON"],
            "-c",
            check,
            ",".join(TORCH_1_10_NAMES),
            ",".join(TORCH_1_10_METHODS),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "", f"missing in torch 1.10: {proc.stdout}"
    assert sys.version_info >= (3, 11)  # the host side runs the rest
