"""Early-exit heads for the split backbones (ResNet-152, DenseNet-201, MobileNetV2).

Placement, after Shallow-Deep Networks (Kaya et al., ICML 2019,
``yigitcankaya/Shallow-Deep-Networks``): internal classifiers at about 15, 30,
45, 60, 75 and 90 % of the backbone's multiply-accumulates. The simulator can
split and exit only at the natural blocks of the model profiles, so each target
fraction goes to the natural block whose cumulative MAC fraction is nearest
(ties to the earlier block); a block within 10 % of the MACs of an exit already
chosen is skipped (DenseNet-201's transitions sit 2-7 % after their dense
blocks), and the last block (the classifier) is never an exit. ResNet-152's blocks are coarse (layer3 alone
is 70 % of the MACs), so its exits land at 6.8, 23.3 and 93.0 %.

Head: global average pooling + one linear layer to the 1,000 ImageNet classes,
the backbone's own classifier design (as PORTEND's exits, a copy of the
classifier; ``instance_folder/codes/EfficientNet.py``). SDN's head pools to
4 x 4 (kernel = feature size / 4) with a learnable max/avg mix; with 1,000
classes that is a 16 x C x 1,000 linear layer: 0.4 M parameters after
MobileNetV2's features.2 up to 28.7 M after DenseNet-201's denseblock3 (16.4 M
after ResNet-152's layer3), several times MobileNetV2's whole 3.5 M, so the
global pool is used instead.

Cost of a head on C input channels, counted as ``torch.utils.flop_counter``
counts it (conv and linear MACs; pooling is not counted):
MACs = C x 1000, parameters = C x 1000 + 1000.

Run as a script (``python calibration/zoo/early_exit.py [--write] [--time] [--boards]``):
prints the placement and costs, ``--write`` puts an ``exits:`` section into
``sim/profiles/data/models/<model>.yaml`` (replacing one already there),
``--time`` times each head on this machine's CPU with torch (skipped without it),
``--boards`` predicts each head on the boards with their fitted cost models
(calibration/cost_model.py, calibration/cost_model_report.json; needs torch for
the operator count). When the simulator resolves a plan it takes a head's time
from the device profile's ``parts_s['<exit>.head']`` if present, else from the
device profile's ``cost_model`` (MACs / throughput + per-block overhead).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

SDN_FRACTIONS = (0.15, 0.30, 0.45, 0.60, 0.75, 0.90)
"""Kaya et al., ICML 2019: internal classifiers at these fractions of the network's FLOPs."""

MIN_GAP = 0.10
"""Exits closer than this fraction of the MACs add a head's cost for almost no new exits (nested)."""

EXIT_MODELS = ("resnet152", "densenet201", "mobilenet_v2")
CLASSES = 1000
REPO = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO / "sim" / "profiles" / "data" / "models"


@dataclass(frozen=True)
class ExitSpec:
    """One exit head after block ``after`` with ``channels`` input channels."""

    after: str
    channels: int
    macs: float
    params: int
    flops_fraction: float


def head_cost(channels: int, classes: int = CLASSES) -> tuple[float, int]:
    """(MACs, parameters) of global-average-pool + Linear(channels, classes)."""
    return float(channels * classes), channels * classes + classes


def place_exits(
    blocks: list[tuple[str, float, int]],
    fractions: tuple[float, ...] = SDN_FRACTIONS,
    min_gap: float = MIN_GAP,
) -> list[ExitSpec]:
    """Exits for ``blocks`` = [(name, MACs, output channels)], the last being the classifier.

    A block nearer than ``min_gap`` (in MAC fraction) to an exit already chosen is skipped.
    """
    total = sum(m for _, m, _ in blocks)
    cumulative = []
    running = 0.0
    for _, macs, _ in blocks:
        running += macs
        cumulative.append(running / total)
    candidates = range(len(blocks) - 1)
    chosen: list[int] = []
    for target in fractions:
        best = min(candidates, key=lambda i: (abs(cumulative[i] - target), i))
        if all(abs(cumulative[best] - cumulative[c]) >= min_gap for c in chosen):
            chosen.append(best)
    exits = []
    for i in sorted(chosen):
        name, _, channels = blocks[i]
        macs, params = head_cost(channels)
        exits.append(ExitSpec(name, channels, macs, params, round(cumulative[i], 6)))
    return exits


def profile_blocks(model: str) -> list[tuple[str, float, int]]:
    """[(block, MACs, output channels)] read from the shipped model profile."""
    import yaml

    data = yaml.safe_load((MODELS_DIR / f"{model}.yaml").read_text(encoding="utf-8"))
    return [(b["name"], float(b["macs"]), int(b["out_shape"][0])) for b in data["blocks"]]


def exits_yaml(exits: list[ExitSpec]) -> str:
    """The ``exits:`` section of a model profile (appended last)."""
    lines = [
        "exits_provenance: {provenance: derived, source: 'calibration/zoo/early_exit.py: global "
        "average pool + Linear(C, 1000) after the natural block nearest each SDN FLOP fraction "
        "(15-90 %); MACs = C x 1000, params = C x 1000 + 1000 (closed form, as "
        "torch.utils.flop_counter counts linear layers)'}",
        "exits:",
    ]
    for e in exits:
        lines.append(
            f"  {e.after}: {{after: {e.after}, macs: {e.macs:.1f}, params: {e.params}, "
            f"flops_fraction: {e.flops_fraction}}}"
        )
    return "\n".join(lines) + "\n"


_SECTION = re.compile(r"^exits_provenance:.*?(?=^\S|\Z)|^exits:\n(?:^[ \t].*\n?)*", re.M | re.S)


def write_exits(model: str, exits: list[ExitSpec]) -> Path:
    """Replace (or append) the ``exits`` section of the model's profile."""
    path = MODELS_DIR / f"{model}.yaml"
    text = _SECTION.sub("", path.read_text(encoding="utf-8"))
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + exits_yaml(exits), encoding="utf-8")
    return path


def exit_head(channels: int, classes: int = CLASSES):
    """The head as a torch module (needs torch)."""
    from torch import nn

    return nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(channels, classes))


def time_head_s(channels: int, height: int, width: int, repeats: int = 200) -> float:
    """Median CPU time of one head at batch 1, one thread [s] (needs torch).

    One thread: a head is tiny, and on a shared machine more threads only add waiting.
    """
    import time

    import torch

    torch.set_num_threads(1)
    head = exit_head(channels).eval()
    x = torch.randn(1, channels, height, width)
    times = []
    with torch.inference_mode():
        for _ in range(20):
            head(x)
        for _ in range(repeats):
            start = time.perf_counter()
            head(x)
            times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


BOARDS = ("jetson_nano", "jetson_nano_trt", "raspberry_pi4", "raspberry_pi3bplus")
"""Boards of calibration/cost_model_report.json whose fitted cost model predicts head times."""


def board_head_s(channels: int, height: int, width: int) -> dict[str, float]:
    """Predicted batch-1 time of one head on each board [s]: the head's operator work
    (calibration/opcount.py: MACs, bytes moved, operators) through each board's fitted cost
    model (calibration/cost_model.py, rates in cost_model_report.json). Needs torch."""
    import json

    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from calibration.cost_model import CostModel
    from calibration.opcount import op_work

    report = json.loads((REPO / "calibration" / "cost_model_report.json").read_text())
    head = exit_head(channels).to("meta")  # op_work counts on the meta device
    work = op_work(head, (channels, height, width))
    units = {"bytes": 1e-9, "n_ops": 1e-6}
    out = {}
    for board in BOARDS:
        entry = report.get(board)
        if not entry or "columns" not in entry:
            continue
        seconds = []
        for column in entry["columns"]:
            if column.startswith("macs_"):
                rate = entry["rates"][f"{column[5:]}_gmac_per_s"]
                seconds.append(1e-9 / rate if rate and rate != float("inf") else 0.0)
            elif column == "bytes":
                rate = entry["rates"]["bandwidth_gb_per_s"]
                seconds.append(units["bytes"] / rate if rate and rate != float("inf") else 0.0)
            else:
                seconds.append(entry["rates"]["overhead_us_per_op"] * units["n_ops"])
        out[board] = CostModel(tuple(entry["columns"]), tuple(seconds)).predict_s(work)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="write exits into the profiles")
    parser.add_argument("--time", action="store_true", help="time each head on this CPU (torch)")
    parser.add_argument(
        "--boards", action="store_true", help="predict each head on the boards (cost model)"
    )
    args = parser.parse_args(argv)
    for model in EXIT_MODELS:
        blocks = profile_blocks(model)
        exits = place_exits(blocks)
        print(f"{model}:")
        for e in exits:
            line = (
                f"  after {e.after:<14} C={e.channels:<5} {e.macs / 1e6:8.3f} M MACs "
                f"{e.params:>9,} params  at {100 * e.flops_fraction:5.1f} % of the MACs"
            )
            if args.time:
                try:
                    shape = _out_shape(model, e.after)
                    line += f"  CPU {1e6 * time_head_s(*shape):8.1f} us"
                except ImportError:
                    line += "  (no torch: not timed)"
            if args.boards:
                try:
                    predicted = board_head_s(*_out_shape(model, e.after))
                    line += "  " + ", ".join(f"{b} {1e3 * t:.2f} ms" for b, t in predicted.items())
                except ImportError:
                    line += "  (no torch: no board predictions)"
            print(line)
        if args.write:
            print(f"  wrote {write_exits(model, exits)}")
    return 0


def _out_shape(model: str, block: str) -> tuple[int, int, int]:
    import yaml

    data = yaml.safe_load((MODELS_DIR / f"{model}.yaml").read_text(encoding="utf-8"))
    for b in data["blocks"]:
        if b["name"] == block:
            c, h, w = b["out_shape"]
            return int(c), int(h), int(w)
    raise KeyError(block)


if __name__ == "__main__":
    sys.exit(main())
