"""Fixtures of the calibration tests: one small profiler run shared by several tests.

Nothing here imports torch at module level, so collection works without it;
each test module skips itself when torch is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"

# A fast but complete run: every block of DenseNet-169, the whole model, the BottleFit C = 3
# encoder and server side, a two-point batch sweep, and phases long enough for power samples.
PROFILER_ARGS = [
    "--model",
    "densenet169",
    "--variant",
    "bottlefit",
    "--channels",
    "3",
    "--device",
    "cpu",
    "--name",
    "test_cpu",
    "--warmup",
    "0",
    "--repeats",
    "2",
    "--batch-sizes",
    "1,2",
    "--sweep-repeats",
    "1",
    "--idle-s",
    "0.2",
    "--min-phase-s",
    "0.03",
    "--no-progress",
]


@pytest.fixture(scope="session")
def profiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Run the profiler once; returns its output folder and raw measurement."""
    pytest.importorskip("torch")
    import json

    from calibration.profile_model import main

    out = tmp_path_factory.mktemp("profile")
    assert main([*PROFILER_ARGS, "--out", str(out)]) == 0
    raw = json.loads((out / "raw" / "test_cpu__densenet169__bottlefit_c3.json").read_text())
    return {"out": out, "raw": raw}
