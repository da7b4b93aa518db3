"""The trtexec path: the printed commands, and the parser on real published trtexec output.

Data: tests/calibration/data/trtexec/ (ResNet-18 FP16 on an RTX 3060 Laptop GPU, from
fuzzylabs/edge-vision-power-estimation, Apache-2.0; see the README there).
"""

from __future__ import annotations

import json
import shutil
import statistics
from pathlib import Path
from typing import Any

import pytest

from calibration.trtexec_profile import commands, parse_log, parse_profile, parse_times, read_phases

DATA = Path(__file__).parent / "data" / "trtexec"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


def test_profile_of_a_real_run_parses() -> None:
    profile = parse_profile(_load("resnet18_fp16.profile.json"))
    assert profile["count"] == 21071
    assert len(profile["layers"]) == 26
    assert profile["layers"][1]["name"] == "/conv1/Conv + /relu/Relu"
    # trtexec's own bookkeeping, independent of the parser: total = average x count, percentages sum to 100
    for layer in profile["layers"]:
        assert layer["total_s"] == pytest.approx(
            layer["average_s"] * profile["count"], rel=2e-3, abs=1e-9
        )
        assert "median_s" in layer  # TensorRT >= 8.4 writes medianMs
    assert sum(layer["percentage"] for layer in profile["layers"]) == pytest.approx(100.0, abs=1e-3)
    # the per-layer run (a sync after every layer) costs more than the timing run's 0.277 ms median
    assert profile["layer_sum_s"] == pytest.approx(0.36351572e-3, rel=1e-6)


def test_profile_without_medians_parses() -> None:
    """TensorRT 8.2 (JetPack 4.6) writes no medianMs: the same real rows with it removed."""
    doc = _load("resnet18_fp16.profile.json")
    for row in doc[1:]:
        del row["medianMs"]
    profile = parse_profile(doc)
    assert len(profile["layers"]) == 26 and all(
        "median_s" not in layer for layer in profile["layers"]
    )


def test_times_of_a_real_run_parse_into_statistics() -> None:
    records = _load("resnet18_fp16.timing.excerpt.json")
    parsed = parse_times(records)
    compute = sorted(r["computeMs"] / 1e3 for r in records)
    # oracle: the standard library's median and a hand-written nearest-rank check of p10
    assert parsed["compute"]["median_s"] == pytest.approx(statistics.median(compute), rel=1e-12)
    assert compute[9] <= parsed["compute"]["p10_s"] <= compute[10]
    assert parsed["compute"]["n"] == 100
    # in this run nothing was copied (h2dMs = d2hMs = 0), so latency equals compute time
    assert parsed["latency"] == parsed["compute"]
    assert (
        0.27e-3 < parsed["compute"]["median_s"] < 0.29e-3
    )  # trtexec's summary: median 0.276855 ms


def test_not_a_trtexec_file_is_one_clear_error() -> None:
    with pytest.raises(SystemExit, match="computeMs"):
        parse_times([{"latency": 1.0}], "x.json")
    with pytest.raises(SystemExit, match="count"):
        parse_profile(_load("resnet18_fp16.timing.excerpt.json"), "x.json")


def test_log_header_gives_version_and_device() -> None:
    log = (
        "&&&& RUNNING TensorRT.trtexec [TensorRT v8201] # /usr/src/tensorrt/bin/trtexec --onnx=a.onnx\n"
        "[06/01/2024-10:00:00] [I] === Device Information ===\n"
        "[06/01/2024-10:00:00] [I] Selected Device: NVIDIA Tegra X1\n"
    )
    assert parse_log(log) == {"tensorrt": "8.2.1", "device": "NVIDIA Tegra X1"}
    assert parse_log("[TensorRT v100200]".join(["TensorRT.trtexec ", ""]))["tensorrt"] == "10.2.0"


MANIFEST = {
    "format": "splitsim-board-bundle/1",
    "model": "densenet201",
    "variant": "bottlefit",
    "channels": [12],
    "split_after": [],
    "input_shape": [3, 224, 224],
    "modules": {
        "block.stem": {"in_shape": [3, 224, 224], "onnx": "onnx/block.stem.onnx"},
        "block.classifier": {"in_shape": [1920, 7, 7], "onnx": "onnx/block.classifier.onnx"},
        "full": {"in_shape": [3, 224, 224], "onnx": "onnx/full.onnx"},
        "bottlefit_c12.encoder": {
            "in_shape": [3, 224, 224],
            "onnx": "onnx/bottlefit_c12.encoder.onnx",
        },
    },
    "blocks": [
        {"name": "stem", "module": "block.stem"},
        {"name": "classifier", "module": "block.classifier"},
    ],
    "full": {"module": "full", "chain": ["block.stem", "block.classifier"]},
    "parts": {
        "bottlefit_c12": {"head": {"module": "bottlefit_c12.encoder"}, "server": {"chain": []}}
    },
}


def test_commands_build_and_time_every_engine() -> None:
    lines = commands(MANIFEST)
    script = "\n".join(lines)
    for module, shape in (
        ("block.stem", "1x3x224x224"),
        ("block.classifier", "1x1920x7x7"),
        ("full", "1x3x224x224"),
        ("bottlefit_c12.encoder", "1x3x224x224"),
    ):
        assert (
            f"$TRTEXEC --onnx=onnx/{module}.onnx --fp16 --shapes=input:{shape} "
            f"--saveEngine=trt/{module}.engine"
        ) in script
        assert (
            f"--loadEngine=trt/{module}.engine --shapes=input:{shape} --warmUp=2000 --duration=10 "
            f"--dumpProfile --separateProfileRun --exportProfile=trt/{module}.profile.json "
            f"--exportTimes=trt/{module}.times.json"
        ) in script
    assert lines[0] == "#!/bin/bash" and "tegrastats --interval 100" in script
    assert script.count("\tstart\t") == 4 and script.count("\tend\t") == 4


def test_trtexec_outputs_become_a_trt_profile(tmp_path: Path) -> None:
    pytest.importorskip("pydantic")
    from calibration.board_ingest import ingest
    from calibration.trtexec_profile import board_raw
    from sim.profiles.registry import load_profile_file

    pytest.importorskip("torch")  # the writer builds the model profile from the zoo
    bundle = tmp_path / "bundle"
    results = bundle / "trt"
    results.mkdir(parents=True)
    manifest = json.loads(json.dumps(MANIFEST))
    manifest["blocks"][0].update(
        macs=118013952.0,
        params=9472,
        out_shape=[64, 56, 56],
        out_bytes={"fp32": 802816, "fp16": 401408, "uint8": 200712},
    )
    manifest["blocks"][1].update(
        macs=1921920.0,
        params=1921000,
        out_shape=[1000],
        out_bytes={"fp32": 4000, "fp16": 2000, "uint8": 1008},
    )
    manifest["full"].update(macs=119935872.0, params=1930472)
    manifest["parts"]["bottlefit_c12"] = {
        "kind": "bottlefit",
        "channels": 12,
        "replaces_through": "transition2",
        "head": {
            "module": "bottlefit_c12.encoder",
            "in_shape": [3, 224, 224],
            "macs": 1.0e8,
            "params": 12736,
            "out_shape": [12, 29, 29],
            "payload_bytes": 10100,
        },
        "server": {"chain": [], "macs": 1.0e9, "params": 1000, "in_shape": [12, 29, 29]},
    }
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    for module in manifest["modules"]:  # the real ResNet-18 output stands in for each engine's
        shutil.copy(DATA / "resnet18_fp16.timing.excerpt.json", results / f"{module}.times.json")
        shutil.copy(DATA / "resnet18_fp16.profile.json", results / f"{module}.profile.json")
    (results / "phases.tsv").write_text(
        "block/stem\tstart\t1700000000.0\nblock/stem\tend\t1700000010.5\n"
    )
    raw = board_raw(bundle, results, name="nano")
    assert (
        raw["times"]["block/stem"]
        == parse_times(_load("resnet18_fp16.timing.excerpt.json"))["compute"]
    )
    assert raw["extra"]["full"]["layer_profile"]["layers"] == 26
    assert read_phases(results / "phases.tsv")[0][0]["t_end"] == 1700000010.5
    out = tmp_path / "profiles"
    ingest(raw, out, path=str(results))
    device = load_profile_file("device", out / "devices" / "nano_trt.yaml")
    times = device.models["densenet201"]
    assert times.blocks_s["stem"] == pytest.approx(raw["times"]["block/stem"]["median_s"], abs=1e-9)
    assert "TensorRT" in times.source and "quantiser is not in the engine" in times.source
    assert device.processor == "gpu"
