"""No silent wrong answers (issue 13): what the user wrote is what runs, or an error says why.

Duplicate YAML keys name both lines; no coercion between types; every profile
number has a physical range; misspelt block and variant names are errors with
a "did you mean"; an interrupted run records and counts only what it simulated.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim
from sim.engine import Run
from sim.errors import SimInputError
from sim.profiles.registry import load_profile_file
from sim.yamlio import parse_yaml_text
from tests.conftest import PROFILES, REPO, toy_spec

SCENARIO = REPO / "scenarios" / "congested_lte.yaml"


def one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text
    return text


# ---------------------------------------------------------------- duplicate keys


@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        ("name: a\nseed: 1\nseed: 2\n", "seed", (2, 3)),
        ("servers:\n  - name: s\n    workers: 1\n    node: n\n    workers: 4\n", "workers", (3, 5)),
        ("a: {x: 1, x: 2}\n", "x", (1, 1)),
    ],
)
def test_duplicate_keys_name_both_lines(text, key, lines):
    with pytest.raises(SimInputError) as exc:
        parse_yaml_text(text, "s.yaml")
    message = one_line(exc)
    assert f"key '{key}' appears twice" in message
    assert f"lines {lines[0]} and {lines[1]}" in message and message.startswith("s.yaml:")


def test_duplicate_key_in_a_scenario_file(tmp_path):
    text = SCENARIO.read_text().replace("warmup_s: 5\n", "warmup_s: 5\nwarmup_s: 50\n")
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(SimInputError, match=r"s\.yaml:13: key 'warmup_s' appears twice"):
        sim.load(path)


def test_duplicate_key_in_a_profile(tmp_path):
    text = (PROFILES / "toy_device.yaml").read_text()
    path = tmp_path / "dev.yaml"
    path.write_text(text.replace("processor: cpu\n", "processor: cpu\nprocessor: gpu\n"))
    with pytest.raises(SimInputError, match=r"dev\.yaml:\d+: key 'processor' appears twice"):
        load_profile_file("device", path)


def test_duplicate_key_in_a_sweep_file(tmp_path):
    path = tmp_path / "sw.yaml"
    path.write_text(
        f"scenario: {SCENARIO}\nreplications: 2\ngrid: {{devices.pi.count: [1, 2]}}\n"
        "replications: 5\n"
    )
    with pytest.raises(
        SimInputError, match=r"key 'replications' appears twice in one mapping \(lines 2 and 4\)"
    ):
        sim.sweep(path, workers=0, progress=False, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_merge_keys_are_not_duplicates():
    doc = parse_yaml_text("base: &b {x: 1}\nthing:\n  <<: *b\n  y: 2\n")
    assert doc.data["thing"] == {"x": 1, "y": 2}


# ---------------------------------------------------------------- no coercion


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ("devices.0.count=yes", "not an integer (YAML reads yes/no"),
        ("seed=true", "not an integer"),
        ('duration_s="3"', "not a number"),
        ("devices.0.count=2.5", "not an integer"),
        ("outputs.plots=1", "not a boolean"),
        ("name=12", "not a string"),
    ],
)
def test_no_coercion_between_types(override, needle):
    with pytest.raises(SimInputError) as exc:
        sim.load(SCENARIO, [override])
    assert needle in one_line(exc)


def test_exponent_numbers_are_numbers():
    scenario = sim.load(SCENARIO, ["cells.0.downlink_bps=2e7", "duration_s=1e1", "warmup_s=1"])
    assert scenario.spec.cells[0].downlink_bps == 2e7 and scenario.spec.duration_s == 10.0


@pytest.mark.parametrize("seed", [1.7, True, "abc", -1, 2.0])
def test_python_seeds_are_checked_not_truncated(seed):
    scenario = sim.loads(json.dumps(toy_spec()))
    with pytest.raises(SimInputError, match="seed"):
        sim.run(scenario, seed=seed)
    with pytest.raises(SimInputError, match="seed"):
        sim.load(SCENARIO, seed=seed)


# ---------------------------------------------------------------- profile ranges


def edited_profile(tmp_path: Path, name: str, old: str, new: str) -> Path:
    text = (PROFILES / name).read_text()
    assert old in text, old
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("name", "kind", "old", "new", "needles"),
    [
        (
            "toy_device.yaml",
            "device",
            "idle_w: {value: 1.0",
            "idle_w: {value: -2.2",
            ["power.idle_w.value", ">= 0"],
        ),
        (
            "toy_device.yaml",
            "device",
            "compute_w: {value: 5.0",
            "compute_w: {value: 5000",
            ["power.compute_w.value", "<= 1000"],
        ),
        (
            "toy_device.yaml",
            "device",
            "jpeg_encode_s: {value: 0.0",
            "jpeg_encode_s: {value: -0.01",
            ["jpeg_encode_s.value", ">= 0"],
        ),
        (
            "toy_server.yaml",
            "server",
            "jpeg_decode_s: {value: 0.001",
            "jpeg_decode_s: {value: -1",
            ["jpeg_decode_s.value", ">= 0"],
        ),
        (
            "toy_server.yaml",
            "server",
            "idle_w: {value: 50.0",
            "idle_w: {value: -50",
            ["idle_w.value", ">= 0"],
        ),
        (
            "toy_model.yaml",
            "model",
            "jpeg_bytes: {value: 5000",
            "jpeg_bytes: {value: 0",
            ["jpeg_bytes.value", "> 0"],
        ),
        (
            "toy_model.yaml",
            "model",
            "jpeg_bytes: {value: 5000",
            "jpeg_bytes: {value: 5000.5",
            ["jpeg_bytes.value", "whole number of bytes"],
        ),
        (
            "toy_model.yaml",
            "model",
            "accuracy_top1: {value: 0.9,",
            "accuracy_top1: {value: 7.69,",
            ["accuracy_top1.value", "<= 1"],
        ),
        (
            "toy_model.yaml",
            "model",
            "payload_bytes: 1000",
            "payload_bytes: 1234",
            ["payload_bytes 1234 disagrees with out_shape [2, 10, 50]", "1008 (uint8"],
        ),
        ("toy_model.yaml", "model", "channels: 2", "channels: 3", ["channels says 3"]),
    ],
)
def test_profile_numbers_have_physical_ranges(tmp_path, name, kind, old, new, needles):
    path = edited_profile(tmp_path, name, old, new)
    with pytest.raises(SimInputError) as exc:
        load_profile_file(kind, path)
    message = one_line(exc)
    assert name in message
    for needle in needles:
        assert needle in message, (needle, message)


def test_a_misspelt_block_in_blocks_s_is_an_error(tmp_path):
    device = edited_profile(tmp_path, "toy_device.yaml", "{a: 0.1, b: 0.2", "{a: 0.1, bb: 0.2")
    with pytest.raises(SimInputError) as exc:
        sim.loads(json.dumps(toy_spec(devices__0__device=str(device))))
    message = one_line(exc)
    assert "toy_device.yaml" in message and "models.toy.blocks_s.bb" in message
    assert "did you mean 'b'" in message


def test_a_misspelt_encoder_in_parts_s_is_an_error(tmp_path):
    device = edited_profile(
        tmp_path, "toy_device.yaml", "bottlefit_c2.encoder", "botlefit_c2.encoder"
    )
    with pytest.raises(SimInputError, match=r"did you mean 'bottlefit_c2\.encoder'"):
        sim.loads(json.dumps(toy_spec(devices__0__device=str(device))))


def test_a_misspelt_variant_in_accuracy_is_an_error():
    spec = toy_spec(devices__0__accuracy={"botlefit_c2": 0.5})
    with pytest.raises(SimInputError) as exc:
        sim.loads(json.dumps(spec))
    message = one_line(exc)
    assert "devices.0.accuracy.botlefit_c2" in message and "did you mean 'bottlefit_c2'" in message
    ok = sim.loads(json.dumps(toy_spec(devices__0__accuracy={"bottlefit_c2": 0.5, "local": 0.8})))
    assert ok.factory("dev", "bottlefit_c2").plans[0].accuracy == 0.5


# ---------------------------------------------------------------- interrupted runs


def stop_at(t_s: float):
    def progress(now_s: float) -> None:
        if now_s >= t_s:
            raise KeyboardInterrupt

    return progress


def test_an_interrupted_run_records_only_what_it_simulated():
    scenario = sim.load(SCENARIO, ["duration_s=20", "warmup_s=2", "devices.pi.count=3"])
    full = Run(scenario, "offload", 1).run()
    cut = Run(scenario, "offload", 1).run(stop_at(8.0))
    assert cut.interrupted and 7.9 <= cut.end_s <= 8.2
    simulated = full.requests[full.requests["t_arrival"] <= cut.end_s]
    assert len(cut.requests) == len(simulated) < len(full.requests)
    assert cut.requests["t_arrival"].max() <= cut.end_s
    assert cut.window.end_s == pytest.approx(cut.end_s)
