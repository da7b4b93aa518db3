"""Board calibration: bundle on the host, runner on the "board" (here), host step into profiles the simulator uses.

The runner runs here with the host's Python (its Python 3.6 / torch 1.10
compatibility is checked in test_calib_board_compat.py). With the environment
variable SPLITSIM_LEGACY_PYTHON pointing at a Python 3.6 with torch 1.10, the
runner also runs under that interpreter on the same bundle.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from calibration.board_bundle import build_parser as bundle_parser  # noqa: E402
from calibration.board_bundle import make_bundle  # noqa: E402
from calibration.board_ingest import ingest  # noqa: E402
from calibration.board_runner import main as runner_main  # noqa: E402
from calibration.board_runner import quantize_uint8, summarize  # noqa: E402
from calibration.timing import TimingStats  # noqa: E402
from calibration.zoo.quant import quantize_tensor  # noqa: E402
from sim.profiles.registry import load_profile_file  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")

DATA = Path(__file__).parent / "data"
MODEL, SPLIT = "mobilenet_v2", "features.6"
RUN_ARGS = [
    "--warmup",
    "1",
    "--repeats",
    "3",
    "--batch-sizes",
    "1,2",
    "--sweep-repeats",
    "2",
    "--idle-s",
    "0.2",
    "--min-phase-s",
    "0.03",
    "--tegrastats",
    "off",
]


def test_runner_statistics_equal_the_host_profilers() -> None:
    samples = [5.0, 1.0, 4.0, 2.0, 3.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0]
    stats = summarize(samples)
    assert stats == TimingStats.from_samples(samples).as_dict()
    # by hand: sorted 1..11, median 6, p10 at position 1.0 -> 2, p90 at position 9.0 -> 10
    assert (stats["median_s"], stats["p10_s"], stats["p90_s"], stats["n"]) == (6.0, 2.0, 10.0, 11)
    assert summarize([1.0, 2.0])["p10_s"] == pytest.approx(1.1)


@pytest.mark.parametrize("case", ["normal", "constant", "zeros", "positive"])
def test_runner_quantiser_equals_the_zoo_quantiser(case: str) -> None:
    gen = torch.Generator().manual_seed(7)
    x = {
        "normal": torch.randn((1, 12, 29, 29), generator=gen) * 3,
        "constant": torch.full((1, 3, 5, 5), -2.5),
        "zeros": torch.zeros((1, 3, 5, 5)),
        "positive": torch.rand((2, 6, 7, 7), generator=gen) + 0.5,
    }[case]
    q, scale, zero_point = quantize_uint8(x)
    ref = quantize_tensor(x)
    assert torch.equal(q, ref.tensor) and scale == ref.scale and zero_point == ref.zero_point


def test_onnx_quantiser_codes_are_the_zoo_codes_within_one_step() -> None:
    from calibration.board_export import QuantizeU8

    gen = torch.Generator().manual_seed(3)
    for x in (
        torch.randn((2, 12, 29, 29), generator=gen) * 5,
        torch.full((1, 3, 4, 4), 1.5),
        torch.rand((1, 6, 10, 10), generator=gen),
    ):
        ref = quantize_tensor(x).tensor.int()
        got = QuantizeU8()(x).int()
        assert got.dtype == torch.int32 and got.shape == ref.shape
        assert int((got - ref).abs().max()) <= 1
        assert float((got != ref).float().mean()) < 0.01


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "mnv2"
    args = bundle_parser().parse_args(
        ["--model", MODEL, "--variant", "split", "--split-after", SPLIT, "--out", str(out)]
    )
    make_bundle(args, "calibration/board_bundle.py (test)")
    return out


@pytest.fixture(scope="module")
def board_runs(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The runner with torch and with onnxruntime on the bundle, and the profiles the host step wrote."""
    tmp = tmp_path_factory.mktemp("runs")
    out = tmp / "profiles"
    raws = {}
    for runtime in ("torch", "ort"):
        raw_path = tmp / f"raw_{runtime}.json"
        assert (
            runner_main(
                [
                    str(bundle),
                    "--out",
                    str(raw_path),
                    "--runtime",
                    runtime,
                    "--name",
                    "board",
                    *RUN_ARGS,
                ]
            )
            == 0
        )
        raws[runtime] = json.loads(raw_path.read_text())
        ingest(raws[runtime], out, path=str(raw_path))
    return {"out": out, "raws": raws}


def test_bundle_holds_every_block_in_both_formats(bundle: Path) -> None:
    manifest = json.loads((bundle / "manifest.json").read_text())
    from calibration.model_profile import block_table

    table = block_table(MODEL)
    assert [b["name"] for b in manifest["blocks"]] == [row["name"] for row in table]
    assert [b["macs"] for b in manifest["blocks"]] == [row["macs"] for row in table]
    for block in manifest["blocks"]:
        entry = manifest["modules"][block["module"]]
        assert (bundle / entry["torchscript"]).is_file() and (bundle / entry["onnx"]).is_file()
    part = manifest["parts"][f"tail_after_{SPLIT}"]
    names = [b["name"] for b in manifest["blocks"]]
    assert part["server"]["chain"] == [f"block.{n}" for n in names[names.index(SPLIT) + 1 :]]
    assert (bundle / "board_runner.py").read_text() == (
        Path(__file__).parents[2] / "calibration" / "board_runner.py"
    ).read_text()


def test_raw_file_has_every_timing_and_phase(board_runs: dict[str, Any]) -> None:
    raw = board_runs["raws"]["torch"]
    names = {p["name"] for p in raw["phases"]}
    blocks = [b["name"] for b in raw["manifest"]["blocks"]]
    assert {f"block/{b}" for b in blocks} | {
        "full",
        "idle",
        "server/full/b2",
        f"server/tail_after_{SPLIT}/b1",
    } <= names
    for name, t in raw["times"].items():
        assert 0 < t["p10_s"] <= t["median_s"] <= t["p90_s"], name
        assert t["n"] >= 3 or name.startswith("server/")
    for phase in raw["phases"]:
        assert phase["t_end"] >= phase["t_start"] and (
            phase["name"] == "idle" or phase["t_end"] - phase["t_start"] >= 0.03
        )
    info = raw["provenance"]
    assert info["tool"] == "calibration/board_runner.py" and info["torch"] == torch.__version__
    assert raw["tegrastats"] is None


def test_host_step_writes_profiles_the_simulator_loads(board_runs: dict[str, Any]) -> None:
    out: Path = board_runs["out"]
    manifest = board_runs["raws"]["torch"]["manifest"]
    for name, runtime in (("board", "torch"), ("board_ort", "ort")):
        device = load_profile_file("device", out / "devices" / f"{name}.yaml")
        server = load_profile_file("server", out / "servers" / f"{name}.yaml")
        times = device.models[MODEL]
        raw = board_runs["raws"][runtime]
        assert list(times.blocks_s) == [b["name"] for b in manifest["blocks"]]
        for block, seconds in times.blocks_s.items():
            assert seconds == pytest.approx(raw["times"][f"block/{block}"]["median_s"], abs=1e-9)
        assert "calibration/board_runner.py" in times.source
        assert set(server.parts) == {f"{MODEL}/full", f"{MODEL}/tail_after_{SPLIT}"}
        assert set(server.parts[f"{MODEL}/full"].batch_s) == {1, 2}
    ort = load_profile_file("device", out / "devices" / "board_ort.yaml")
    assert "ONNX Runtime" in ort.models[MODEL].source and "ONNX Runtime" in ort.display_name


def test_model_profile_equals_the_host_profilers(board_runs: dict[str, Any]) -> None:
    from calibration.model_profile import model_profile_dict

    written = load_profile_file("model", board_runs["out"] / "models" / f"{MODEL}.yaml")
    expected = load_profile_file(
        "model", _write_model(model_profile_dict(MODEL), board_runs["out"])
    )
    assert written == expected


def _write_model(doc: dict[str, Any], out: Path) -> Path:
    from calibration.profile_io import write_profile

    return write_profile("model", doc, out / "expected" / f"{MODEL}.yaml")


def test_rebuild_reproduces_board_profiles(board_runs: dict[str, Any], tmp_path: Path) -> None:
    from calibration.profile_writer import rebuild

    out = tmp_path / "rebuilt"
    shutil.copytree(board_runs["out"], out)
    before = {p.name: p.read_text() for p in (out / "devices").glob("*.yaml")}
    rebuild(out)
    assert {p.name: p.read_text() for p in (out / "devices").glob("*.yaml")} == before


SCENARIO = """\
name: board_profile
seed: 3
duration_s: 2.0
warmup_s: 0.0
compare: [local, split_{split}_uint8]
devices:
  - name: board
    count: 1
    device: {device}
    model: {model}
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


def test_the_simulator_uses_the_board_profile(board_runs: dict[str, Any], tmp_path: Path) -> None:
    import sim

    device_path = board_runs["out"] / "devices" / "board.yaml"
    path = tmp_path / "scenario.yaml"
    path.write_text(SCENARIO.format(device=device_path, model=MODEL, split=SPLIT))
    results = sim.run(sim.load(path), progress=False)
    requests = results.requests
    times = load_profile_file("device", device_path).models[MODEL]
    head_s = (requests["t_head_end"] - requests["t_head_start"]).to_numpy()
    local = (requests["strategy"] == "local").to_numpy()
    split = (requests["strategy"] == f"split_{SPLIT}_uint8").to_numpy()
    assert local.any() and split.any()
    blocks = list(times.blocks_s)
    assert head_s[local] == pytest.approx(sum(times.blocks_s.values()), rel=1e-9)
    assert head_s[split] == pytest.approx(
        sum(times.blocks_s[b] for b in blocks[: blocks.index(SPLIT) + 1]), rel=1e-6
    )


def _fake_tegrastats(tmp_path: Path) -> Path:
    """An executable that prints real Jetson Nano tegrastats lines (data/tegrastats_nano_jp4_stamped.log,
    stamps removed) every --interval ms, as tegrastats does."""
    lines = [
        line.split(" ", 1)[1]
        for line in (DATA / "tegrastats_nano_jp4_stamped.log").read_text().splitlines()
        if line.strip()
    ]
    script = tmp_path / "tegrastats"
    script.write_text(
        f"#!{sys.executable}\nimport sys, time\nlines = {lines!r}\n"
        "ms = int(sys.argv[sys.argv.index('--interval') + 1])\ni = 0\n"
        "while True:\n    print(lines[i % len(lines)], flush=True)\n    i += 1\n"
        "    time.sleep(ms / 1000)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def test_tegrastats_lines_become_measured_power(bundle: Path, tmp_path: Path) -> None:
    raw_path = tmp_path / "raw.json"
    args = [
        str(bundle),
        "--out",
        str(raw_path),
        "--name",
        "nano",
        "--warmup",
        "0",
        "--repeats",
        "1",
        "--no-server-sweep",
        "--tegrastats",
        str(_fake_tegrastats(tmp_path)),
        "--tegrastats-interval-ms",
        "20",
        "--idle-s",
        "0.3",
        "--min-phase-s",
        "0.1",
    ]
    assert runner_main(args) == 0
    raw = json.loads(raw_path.read_text())
    lines = raw["tegrastats"]["lines"]
    assert len(lines) >= 10 and all(float(line.split()[0]) > 1.6e9 for line in lines)
    out = tmp_path / "profiles"
    ingest(raw, out, path=str(raw_path))
    device = load_profile_file("device", out / "devices" / "nano.yaml")
    assert device.power.idle_w.provenance == "measured"
    assert "tegrastats rail POM_5V_IN" in device.power.idle_w.source
    # the fake board's rail reads between the smallest and largest POM_5V_IN in the log
    from calibration.power import parse_lines

    watts = [s.rails_mw["POM_5V_IN"] / 1000 for s in parse_lines(lines)]
    assert min(watts) <= device.power.idle_w.value <= max(watts)
    assert min(watts) <= device.power.compute_w.value <= max(watts)


def test_runner_times_what_the_host_profiler_times(bundle: Path) -> None:
    """Each block as the runner runs it (TorchScript from the bundle, op by op) against the eager zoo
    module the host profiler times, alternating call by call so that the shared machine's load hits
    both alike; the fastest of several calls estimates each one's cost without the load."""
    import time

    from calibration.board_runner import TorchRuntime, build_parser
    from calibration.zoo import build

    manifest = json.loads((bundle / "manifest.json").read_text())
    runtime = TorchRuntime(
        str(bundle), manifest, build_parser().parse_args([str(bundle), "--out", "x"])
    )
    torch.manual_seed(0)
    eager = {f"block.{b.name}": b.module for b in build(MODEL).eval().natural_blocks()}

    def fastest(fn: Any, x: Any) -> float:
        start = time.perf_counter()
        fn(x)
        return time.perf_counter() - start

    x = torch.randn((1, *manifest["input_shape"]))
    ratios = {}
    with runtime.session(), torch.inference_mode():
        for block in manifest["blocks"]:
            name = block["module"]
            for _ in range(2):
                runtime.modules[name](x)
                eager[name](x)
            pairs = [(fastest(runtime.modules[name], x), fastest(eager[name], x)) for _ in range(7)]
            ratios[name] = min(p[0] for p in pairs) / min(p[1] for p in pairs)
            x = eager[name](x)
    # the median over the 20 blocks: one block hit by a burst of load (or, with these random weights,
    # features.2's erratic slow arithmetic) cannot decide it; a systematic overhead moves every block
    assert 0.8 < statistics.median(ratios.values()) < 1.25, ratios


def test_board_and_host_profiles_agree_end_to_end(
    board_runs: dict[str, Any], tmp_path: Path
) -> None:
    """The same blocks, MACs-based cost-model form and sweeps in both profiles; total block time of the
    same order (one run each on a shared machine: the per-block comparison is the test above)."""
    from calibration.profile_model import main as profiler_main

    out = tmp_path / "host"
    assert (
        profiler_main(
            [
                "--model",
                MODEL,
                "--variant",
                "split",
                "--split-after",
                SPLIT,
                "--device",
                "cpu",
                "--name",
                "host",
                "--warmup",
                "1",
                "--repeats",
                "3",
                "--batch-sizes",
                "1,2",
                "--sweep-repeats",
                "2",
                "--no-progress",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    host = load_profile_file("device", out / "devices" / "host.yaml")
    board = load_profile_file("device", board_runs["out"] / "devices" / "board.yaml")
    assert list(host.models[MODEL].blocks_s) == list(board.models[MODEL].blocks_s)
    host_server = load_profile_file("server", out / "servers" / "host.yaml")
    board_server = load_profile_file("server", board_runs["out"] / "servers" / "board.yaml")
    assert set(host_server.parts) == set(board_server.parts)
    ratio = sum(board.models[MODEL].blocks_s.values()) / sum(host.models[MODEL].blocks_s.values())
    assert (
        0.05 < ratio < 20.0
    )  # catches a unit slip (x1000), not noise: one run each, 2-thread torch swings 5x here


def test_bad_board_file_is_one_clear_error(board_runs: dict[str, Any]) -> None:
    from calibration.board_ingest import convert

    raw = json.loads(json.dumps(board_runs["raws"]["torch"]))
    del raw["times"]["full"]
    with pytest.raises(SystemExit, match=r"raw\.json: times\.full is missing"):
        convert(raw, path="raw.json")
    with pytest.raises(SystemExit, match="format"):
        convert({"format": "something-else"}, path="raw.json")


@pytest.mark.skipif(
    not os.environ.get("SPLITSIM_LEGACY_PYTHON"),
    reason="set SPLITSIM_LEGACY_PYTHON to a Python 3.6 with torch 1.10 to run the runner under it",
)
def test_runner_under_python36_and_torch110(bundle: Path, tmp_path: Path) -> None:
    legacy = os.environ["SPLITSIM_LEGACY_PYTHON"]
    raw_path = tmp_path / "raw36.json"
    subprocess.run(
        [
            legacy,
            str(bundle / "board_runner.py"),
            str(bundle),
            "--out",
            str(raw_path),
            "--name",
            "legacy",
            *RUN_ARGS,
        ],
        check=True,
        capture_output=True,
        timeout=900,
    )
    raw = json.loads(raw_path.read_text())
    assert raw["provenance"]["python"].startswith("3.6") and raw["provenance"]["torch"].startswith(
        "1.10"
    )
    out = tmp_path / "profiles"
    ingest(raw, out, path=str(raw_path))
    assert list(load_profile_file("device", out / "devices" / "legacy.yaml").models[MODEL].blocks_s)
