"""The profiler on CPU: what it measures, the profiles it writes, and a scenario that uses them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")

from calibration.profile_writer import fit_overhead_throughput  # noqa: E402
from calibration.timing import PhaseLog, TimingStats, measure  # noqa: E402
from sim.profiles.registry import load_profile_file  # noqa: E402
from sim.profiles.schema import DeviceProfile, ModelProfile, ServerProfile  # noqa: E402

DENSENET169_BLOCKS = [
    "stem",
    "denseblock1",
    "transition1",
    "denseblock2",
    "transition2",
    "denseblock3",
    "transition3",
    "denseblock4",
    "classifier",
]


def test_timing_stats_quantiles() -> None:
    stats = TimingStats.from_samples([5.0, 1.0, 4.0, 2.0, 3.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0])
    assert stats.median_s == 6.0
    assert stats.p10_s == pytest.approx(2.0)
    assert stats.p90_s == pytest.approx(10.0)
    assert stats.n == 11


def test_measure_runs_warmup_repeats_and_logs_a_long_enough_phase() -> None:
    calls = []
    log = PhaseLog()
    stats = measure(
        lambda: calls.append(1),
        torch.device("cpu"),
        warmup=3,
        repeats=5,
        name="noop",
        log=log,
        min_phase_s=0.02,
    )
    (phase,) = log.phases
    assert phase.name == "noop" and phase.calls == stats.n >= 5
    assert len(calls) == 3 + stats.n
    assert phase.t_end - phase.t_start >= 0.02


def test_block_law_fit_recovers_overhead_and_throughput() -> None:
    macs = [1e6, 5e7, 2e8, 1e9]
    overhead, throughput = fit_overhead_throughput(macs, [2e-4 + m / 4e10 for m in macs])
    assert overhead == pytest.approx(2e-4, rel=1e-6)
    assert throughput == pytest.approx(4e10, rel=1e-6)


def test_raw_measurement_covers_blocks_full_model_and_variant(profiled: dict[str, Any]) -> None:
    raw = profiled["raw"]
    assert [b["name"] for b in raw["blocks"]] == DENSENET169_BLOCKS
    for block in raw["blocks"]:
        t = block["time"]
        assert 0 < t["p10_s"] <= t["median_s"] <= t["p90_s"]
        shape = block["out_shape"]
        numel = 1
        for d in shape:
            numel *= d
        assert block["out_bytes"] == {"fp32": 4 * numel, "fp16": 2 * numel, "uint8": numel + 8}
    assert sum(b["macs"] for b in raw["blocks"]) == raw["full"]["macs"]
    assert raw["full"]["macs"] / 1e9 == pytest.approx(3.36, rel=0.02)
    part = raw["parts"]["bottlefit_c3"]
    assert part["head"]["payload_bytes"] == 3 * 29 * 29 + 8
    assert part["head"]["params"] == 9_664 + 3 * 256
    assert set(map(int, part["server"]["sweep"])) == {1, 2}
    names = [p["name"] for p in raw["phases"]]
    assert names[0] == "idle" and "full" in names and "bottlefit_c3.encoder" in names
    info = raw["provenance"]
    assert info["torch"] == torch.__version__ and info["host"]
    assert info["command"].startswith("calibration/profile_model.py --model densenet169")
    assert "background_cpu_frac" in info


def test_written_profiles_load_with_the_simulator_schema(profiled: dict[str, Any]) -> None:
    out: Path = profiled["out"]
    device = load_profile_file("device", out / "devices" / "test_cpu.yaml")
    server = load_profile_file("server", out / "servers" / "test_cpu.yaml")
    model = load_profile_file("model", out / "models" / "densenet169.yaml")
    assert isinstance(device, DeviceProfile) and isinstance(server, ServerProfile)
    assert isinstance(model, ModelProfile)
    times = device.models["densenet169"]
    assert times.provenance == "measured"
    assert list(times.blocks_s) == DENSENET169_BLOCKS
    assert set(times.parts_s) == {"bottlefit_c3.encoder"}
    assert "torch" in times.source and "runs: [1]" in times.source
    assert (
        "calibration/profile_model.py --model densenet169 --variant bottlefit --channels 3"
        in times.source
    )
    assert device.power.idle_w.provenance == "assumed"  # no power given in this run
    assert device.cost_model.macs_per_s > 0
    assert set(server.parts) == {"densenet169/full", "densenet169/bottlefit_c3"}
    assert set(server.parts["densenet169/full"].batch_s) == {1, 2}
    assert list(model.variants) == ["bottlefit_c3"]
    assert model.variants["bottlefit_c3"].payload_bytes == 2531


def test_a_second_run_merges_into_the_same_profiles(
    profiled: dict[str, Any], tmp_path: Path
) -> None:
    from calibration.profile_model import main

    out = tmp_path / "merged"
    shutil.copytree(profiled["out"], out)
    args = [
        "--model",
        "densenet169",
        "--variant",
        "autoencoder",
        "--channels",
        "3",
        "--device",
        "cpu",
        "--name",
        "test_cpu",
        "--warmup",
        "0",
        "--repeats",
        "1",
        "--no-blocks",
        "--no-server-sweep",
        "--no-progress",
        "--idle-w",
        "1.5",
        "--compute-w",
        "4.5",
        "--power-source",
        "bench supply",
        "--out",
        str(out),
    ]
    assert main(args) == 0
    device = load_profile_file("device", out / "devices" / "test_cpu.yaml")
    times = device.models["densenet169"]
    assert set(times.parts_s) == {"bottlefit_c3.encoder", "ae_c3.encoder"}
    assert list(times.blocks_s) == DENSENET169_BLOCKS  # kept from the first run
    assert (
        device.power.idle_w.value == 1.5 and device.power.idle_w.provenance == "given"
    )  # typed with --idle-w
    model = load_profile_file("model", out / "models" / "densenet169.yaml")
    assert set(model.variants) == {"bottlefit_c3", "ae_c3"}
    assert "blocks_s by run 1" in times.source and "ae_c3.encoder by run 2" in times.source
    assert (
        times.source.count("calibration/profile_model.py --model densenet169") == 2
    )  # both commands


def test_rebuild_from_raw_reproduces_the_profiles(profiled: dict[str, Any], tmp_path: Path) -> None:
    from calibration.profile_writer import rebuild

    out = tmp_path / "rebuilt"
    shutil.copytree(profiled["out"], out)
    before = (out / "devices" / "test_cpu.yaml").read_text()
    rebuild(out)
    assert (out / "devices" / "test_cpu.yaml").read_text() == before


SCENARIO = """\
name: calibrated_device
seed: 3
duration_s: 2.0
warmup_s: 0.0
compare: [local, bottlefit_c3]
devices:
  - name: board
    count: 1
    device: {device}
    model: densenet169
    workload: {{kind: periodic, fps: 2}}
    deadline_s: 5.0
    cell: ap
cells:
  - name: ap
    node: ap
    radio: none
    uplink: {{kind: constant, rate_bps: 20.0e6}}
    downlink_bps: 20.0e6
    propagation_s: 0.001
network:
  links:
    - {{a: ap, b: edge, latency_s: 0.002, capacity_bps: 1.0e9}}
servers:
  - name: gpu
    node: edge
    profile: h100_eager_pytorch
    workers: 1
"""


def test_the_simulator_loads_and_uses_the_profile(profiled: dict[str, Any], tmp_path: Path) -> None:
    import sim

    device_path = profiled["out"] / "devices" / "test_cpu.yaml"
    scenario_path = tmp_path / "scenario.yaml"
    scenario_path.write_text(SCENARIO.format(device=device_path))
    scenario = sim.load(scenario_path)
    results = sim.run(scenario, progress=False)
    requests = results.requests
    device = load_profile_file("device", device_path)
    times = device.models["densenet169"]
    head_s = requests["t_head_end"] - requests["t_head_start"]
    local = requests["strategy"] == "local"
    split = requests["strategy"] == "bottlefit_c3"
    assert local.any() and split.any()
    assert head_s[local].to_numpy() == pytest.approx(sum(times.blocks_s.values()), rel=1e-9)
    assert head_s[split].to_numpy() == pytest.approx(
        times.parts_s["bottlefit_c3.encoder"], rel=1e-9
    )
    assert set(requests["outcome"]) <= {"completed", "completed_late", "dropped", "failed"}
