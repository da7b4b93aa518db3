"""calibration/check_against_torchvision.py: the zoo against torchvision itself.

torchvision does not import beside the torch this project installs, so on CI these tests
skip; on a machine with torchvision (the H100 run in calibration/measurements/h100_check)
the script found all 20 networks identical. Here: the script's contract either way.
"""

from __future__ import annotations

import importlib.util

import pytest

torch = pytest.importorskip("torch")

from calibration import check_against_torchvision as check  # noqa: E402

HAVE_TORCHVISION = importlib.util.find_spec("torchvision") is not None


@pytest.mark.skipif(HAVE_TORCHVISION, reason="torchvision is installed here")
def test_without_torchvision_it_says_so_and_exits_2(capsys):
    assert check.main([]) == 2
    assert "torchvision is not importable" in capsys.readouterr().err


@pytest.mark.skipif(not HAVE_TORCHVISION, reason="torchvision does not import beside this torch")
def test_resnet18_is_torchvisions():
    row = check.compare("resnet18", torch.device("cpu"))
    assert row["same"] and row["params_zoo"] == 11_689_512 and row["max_abs_diff"] == 0.0
