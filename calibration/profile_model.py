"""Per-block profiler: latency, FLOPs, parameters, output sizes and server batch sweeps.

    python calibration/profile_model.py --model densenet201 --variant bottlefit --channels 12 \\
        --device cpu --out OUT [--name my_board]

Measures, on ``cpu`` or ``cuda``, every natural block of the model, the whole
model, and for each requested variant its device part (encoder + 8-bit
quantiser) and its server part (decoder + tail, or the tail of a vanilla
split) over a batch-size sweep. Latency: warm-up calls, then the median and
p10/p90 of timed calls (CUDA events on GPUs, see :mod:`calibration.timing`).
MACs = FLOPs / 2 from ``torch.utils.flop_counter``. Writes, under ``OUT``:

* ``devices/<name>.yaml`` (device-profile/1: per-block and encoder times),
* ``servers/<name>.yaml`` (server-profile/1: S(b) of the full model and server parts),
* ``models/<model>.yaml`` (model-profile/1 with the measured variants),
* ``raw/<name>__<model>__<what>.json`` (every sample summary and the phase timestamps
  that :mod:`calibration.power_profile` aligns with a power log).

Runs for other models or variants into the same ``OUT`` are merged into the same files.
A scenario uses the device profile as ``device: OUT/devices/<name>.yaml``.
"""

from __future__ import annotations

import argparse
import functools
import io
import math
import re
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from calibration.hostinfo import BackgroundLoad, host_info, steady_allocator  # noqa: E402
from calibration.model_profile import INPUT_SHAPE, block_table, macs_and_shape  # noqa: E402
from calibration.timing import PhaseLog, TimingStats, measure_samples  # noqa: E402
from calibration.zoo import (  # noqa: E402
    AE_SPLIT_AFTER,
    REPLACES_THROUGH,
    SPLIT_MODELS,
    Chain,
    build,
    build_variant,
    count_params,
    load_torchvision_checkpoint,
    payload_bytes,
)
from calibration.zoo.quant import DTYPE_BYTES, quantize_tensor  # noqa: E402

RAW_FORMAT = "calibration-raw/1"
BUSY_WARNING = 0.05
"""Fraction of CPU time used by other processes above which the profiler warns."""


def progress(total: int, desc: str, enabled: bool = True) -> Any:
    """A tqdm bar, or a plain stand-in when tqdm is not installed (boards with only torch)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        tqdm = None
    if tqdm is not None:
        return tqdm(total=total, desc=desc, unit="step", disable=not enabled, leave=False)

    class _Plain:
        def __init__(self) -> None:
            self.n = 0

        def update(self, k: int = 1) -> None:
            self.n += k
            if enabled:
                print(f"\r{desc}: {self.n}/{total}", end="", file=sys.stderr, flush=True)

        def set_postfix_str(self, text: str) -> None:
            pass

        def close(self) -> None:
            if enabled:
                print(file=sys.stderr)

    return _Plain()


def default_name(device: torch.device) -> str:
    """A profile name from the host name and device type, e.g. ``myboard_cpu``."""
    host = re.sub(r"[^a-z0-9_]+", "_", socket.gethostname().lower()).strip("_") or "host"
    return f"{host}_{device.type}"


def parse_ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    p.add_argument("--model", required=True, choices=SPLIT_MODELS)
    p.add_argument(
        "--variant",
        default="none",
        choices=["none", "bottlefit", "autoencoder", "split"],
        help="split variant to profile besides the blocks and the whole model",
    )
    p.add_argument("--channels", default="12", help="bottleneck channels, e.g. 12 or 1,2,3,6,9,12")
    p.add_argument(
        "--split-after", default="", help="vanilla split point(s): block names, comma-separated"
    )
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    p.add_argument(
        "--out", type=Path, required=True, help="output folder (devices/, servers/, models/, raw/)"
    )
    p.add_argument("--name", help="profile name (default: <hostname>_<device type>)")
    p.add_argument("--display-name", help="human-readable device name for the profile")
    p.add_argument("--precision", default="fp32", choices=["fp32", "fp16"])
    p.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls before each measurement")
    p.add_argument(
        "--repeats", type=int, default=30, help="timed calls per block / part at batch 1"
    )
    p.add_argument(
        "--sweep-repeats", type=int, default=10, help="timed calls per batch size in the sweep"
    )
    p.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the whole measurement list this many times, splitting the calls between rounds",
    )
    p.add_argument(
        "--batch-sizes", help="server sweep, e.g. 1,2,4,8 (default cpu: 1,2,4,8; cuda: 1..128)"
    )
    p.add_argument(
        "--no-server-sweep", action="store_true", help="skip the batch sweep of server parts"
    )
    p.add_argument(
        "--no-blocks",
        action="store_true",
        help="skip per-block timing (whole model and parts only)",
    )
    p.add_argument(
        "--min-phase-s",
        type=float,
        default=0.0,
        help="run every timed loop at least this long [s] (power logging needs a few seconds)",
    )
    p.add_argument(
        "--idle-s", type=float, default=0.0, help="idle phase before measuring [s] (power baseline)"
    )
    p.add_argument(
        "--checkpoint", type=Path, help="torchvision .pth file to load into the backbone (optional)"
    )
    p.add_argument("--idle-w", type=float, help="idle power [W] to record in the device profile")
    p.add_argument(
        "--compute-w", type=float, help="power while computing [W] to record in the device profile"
    )
    p.add_argument(
        "--power-provenance",
        default="given",
        choices=["measured", "published", "derived", "given", "assumed"],
    )
    p.add_argument("--power-source", default="", help="where --idle-w/--compute-w come from")
    p.add_argument(
        "--jpeg",
        default="camera",
        choices=["camera", "measure"],
        help="device JPEG encode time: 'camera' = 0 s (camera delivers JPEG), 'measure' = Pillow",
    )
    p.add_argument("--no-progress", action="store_true")
    return p


def resolve_device(text: str) -> torch.device:
    device = torch.device(text)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda requested but torch.cuda.is_available() is False")
    if device.type not in ("cpu", "cuda"):
        raise SystemExit(f"--device must be cpu or cuda, not '{text}'")
    return device


@dataclass
class Job:
    """One thing to time: a callable, its calls per round, and its batch size."""

    name: str
    fn: Callable[[], object]
    repeats: int
    batch: int = 1
    samples: list[float] = field(default_factory=list)

    def stats(self) -> dict[str, float]:
        return TimingStats.from_samples(self.samples).as_dict()


class Profiler:
    """Runs the measurements of one invocation and collects them as a raw dict.

    Everything to time is first set up as a list of :class:`Job`; the list is then
    run ``--rounds`` times, each job getting its share of the calls per round, and
    the samples are pooled. Spreading every job over the whole run keeps slow
    drifts (thermal throttling, a shared host) from favouring some blocks.
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.device = resolve_device(args.device)
        if args.threads:
            torch.set_num_threads(args.threads)
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        self.allocator = steady_allocator()
        self.dtype = torch.float16 if args.precision == "fp16" else torch.float32
        self.log = PhaseLog()
        self.channels = (
            parse_ints(args.channels) if args.variant in ("bottlefit", "autoencoder") else []
        )
        self.split_after = (
            [s for s in args.split_after.split(",") if s] if args.variant == "split" else []
        )
        if args.variant == "split" and not self.split_after:
            raise SystemExit("--variant split needs --split-after BLOCK[,BLOCK...]")
        if args.rounds < 1:
            raise SystemExit("--rounds must be at least 1")
        default_sweep = "1,2,4,8" if self.device.type == "cpu" else "1,2,4,8,16,32,64,128"
        self.batch_sizes = (
            [] if args.no_server_sweep else parse_ints(args.batch_sizes or default_sweep)
        )
        self.jobs: dict[str, Job] = {}
        torch.manual_seed(0)

    # ---------------------------------------------------------------- set-up

    def _input(self, shape: Iterable[int], batch: int = 1) -> torch.Tensor:
        return torch.randn((batch, *shape), device=self.device, dtype=self.dtype)

    def _prepare(self, module: torch.nn.Module) -> torch.nn.Module:
        return module.to(self.device, self.dtype).eval()

    def _job(
        self, name: str, fn: Callable[[], object], *, sweep: bool = False, batch: int = 1
    ) -> None:
        repeats = self.args.sweep_repeats if sweep else self.args.repeats
        self.jobs[name] = Job(name, fn, repeats, batch)

    def _sweep_jobs(
        self, module: Callable[[torch.Tensor], object], in_shape: tuple[int, ...], part: str
    ) -> None:
        """Batch-size sweep of a server-side part: one job per batch size."""
        for batch in self.batch_sizes:
            x = self._input(in_shape, batch)
            self._job(f"server/{part}/b{batch}", lambda x=x: module(x), sweep=True, batch=batch)

    def _sweep_result(self, part: str) -> dict[int, dict[str, float]]:
        return {b: self.jobs[f"server/{part}/b{b}"].stats() for b in self.batch_sizes}

    def _set_up_blocks(self, net: torch.nn.Module) -> list[dict[str, Any]]:
        table = {row["name"]: row for row in block_table(self.args.model)}
        rows = []
        x = self._input(INPUT_SHAPE)
        for block in net.natural_blocks():
            self._job(f"block/{block.name}", lambda m=block.module, x=x: m(x))
            with torch.inference_mode():
                x = block.module(x.clone())  # some blocks start with an in-place ReLU
            shape = tuple(x.shape[1:])
            ref = table[block.name]
            rows.append(
                {
                    "name": block.name,
                    "macs": ref["macs"],
                    "params": ref["params"],
                    "out_shape": list(shape),
                    "out_bytes": {d: payload_bytes(shape, d) for d in DTYPE_BYTES},
                }
            )
        return rows

    def _set_up_variant(
        self, net: torch.nn.Module, kind: str, channels: int
    ) -> tuple[str, dict[str, Any]]:
        model = self.args.model
        positions = REPLACES_THROUGH if kind == "bottlefit" else AE_SPLIT_AFTER
        if model not in positions:
            raise SystemExit(f"--variant {kind} exists for {', '.join(positions)}, not {model}")
        variant = self._prepare(build_variant(model, net, kind, channels=channels))
        name = f"bottlefit_c{channels}" if kind == "bottlefit" else f"ae_c{channels}"
        enc_in = INPUT_SHAPE if kind == "bottlefit" else tuple(variant.split_shape)
        encoder, server = variant.encoder, Chain(variant.server_parts()).eval()

        def head(x: torch.Tensor) -> Any:
            return quantize_tensor(encoder(x).float())  # the device sends 8-bit codes (-bq configs)

        x = self._input(enc_in)
        self._job(f"{name}.encoder", lambda: head(x))
        self._job(f"{name}.encoder_noquant", lambda: encoder(x))
        with torch.inference_mode():
            q = head(x)
        code_shape = tuple(q.tensor.shape[1:])
        self._sweep_jobs(server, code_shape, name)
        enc_macs, server_macs = variant_macs(model, kind, channels)
        replaces = variant.replaces_through if kind == "bottlefit" else variant.split_after
        return name, {
            "kind": kind,
            "channels": channels,
            "replaces_through": replaces,
            "head": {
                "macs": enc_macs,
                "params": count_params(encoder),
                "out_shape": list(code_shape),
                "payload_bytes": q.nbytes,
            },
            "server": {
                "macs": server_macs,
                "params": count_params(server),
                "in_shape": list(code_shape),
            },
        }

    def _set_up_vanilla(self, net: torch.nn.Module, block: str) -> tuple[str, dict[str, Any]]:
        split = build_variant(self.args.model, net, "split", split_after=block)
        with torch.inference_mode():
            shape = tuple(split.head(self._input(INPUT_SHAPE)).shape[1:])
        tail = split.tail.eval()
        macs, _ = macs_and_shape(tail, shape)
        name = f"tail_after_{block}"
        self._sweep_jobs(tail, shape, name)
        return name, {
            "kind": "split",
            "split_after": block,
            "in_shape": list(shape),
            "payload_bytes": {d: payload_bytes(shape, d) for d in DTYPE_BYTES},
            "server": {"macs": macs, "params": count_params(tail), "in_shape": list(shape)},
        }

    # ---------------------------------------------------------------- the run

    def _run_jobs(self) -> None:
        a = self.args
        bar = progress(a.rounds * len(self.jobs), f"profile {a.model}", enabled=not a.no_progress)
        try:
            for _ in range(a.rounds):
                for job in self.jobs.values():
                    bar.set_postfix_str(job.name)
                    job.samples += measure_samples(
                        job.fn,
                        self.device,
                        warmup=a.warmup,
                        repeats=math.ceil(job.repeats / a.rounds),
                        name=job.name,
                        log=self.log,
                        min_phase_s=a.min_phase_s,
                        batch=job.batch,
                    )
                    bar.update(1)
        finally:
            bar.close()

    def run(self) -> dict[str, Any]:
        a = self.args
        info = host_info(
            self.device,
            threads=torch.get_num_threads(),
            precision=a.precision,
            command=getattr(a, "command_line", None),
        )
        info["allocator"] = self.allocator
        raw: dict[str, Any] = {
            "format": RAW_FORMAT,
            "device_name": a.name or default_name(self.device),
            "display_name": a.display_name,
            "model": a.model,
            "variant": a.variant,
            "channels": self.channels,
            "split_after": self.split_after,
            "provenance": info,
            "settings": {
                "warmup": a.warmup,
                "repeats": a.repeats,
                "rounds": a.rounds,
                "sweep_repeats": a.sweep_repeats,
                "batch_sizes": self.batch_sizes,
                "min_phase_s": a.min_phase_s,
                "precision": a.precision,
            },
        }
        load = BackgroundLoad()
        if a.idle_s > 0:
            self.log.idle(a.idle_s)
        net = build(a.model)
        if a.checkpoint:
            load_torchvision_checkpoint(net, a.checkpoint)
        net = self._prepare(net)
        blocks = [] if a.no_blocks else self._set_up_blocks(net)
        x = self._input(INPUT_SHAPE)
        self._job("full", lambda: net(x))
        self._sweep_jobs(net, INPUT_SHAPE, "full")
        parts = dict(self._set_up_variant(net, a.variant, c) for c in self.channels)
        parts.update(self._set_up_vanilla(net, b) for b in self.split_after)
        self._run_jobs()
        for row in blocks:
            row["time"] = self.jobs[f"block/{row['name']}"].stats()
        raw["blocks"] = blocks
        raw["full"] = {
            "macs": sum(float(r["macs"]) for r in block_table(a.model)),  # type: ignore[arg-type]
            "params": count_params(net),
            "time": self.jobs["full"].stats(),
            "sweep": self._sweep_result("full"),
        }
        for name, part in parts.items():
            if "head" in part:
                part["head"]["time"] = self.jobs[f"{name}.encoder"].stats()
                part["head"]["time_without_quantizer"] = self.jobs[
                    f"{name}.encoder_noquant"
                ].stats()
            part["server"]["sweep"] = self._sweep_result(name)
        raw["parts"] = parts
        raw["jpeg"] = jpeg_times(measure_encode=a.jpeg == "measure")
        background = load.fraction()
        info["background_cpu_frac"] = None if background is None else round(background, 4)
        if background is not None and background > BUSY_WARNING:
            print(
                f"warning: other processes used {background:.0%} of the CPUs during the run; "
                "the timings are inflated and noisy: rerun on a quiet machine",
                file=sys.stderr,
            )
        raw["phases"] = [p.as_dict() for p in self.log.phases]
        return raw


@functools.cache
def variant_macs(model: str, kind: str, channels: int) -> tuple[float, float]:
    """(device-side encoder MACs, server-side decoder + tail MACs) of a variant, traced on meta."""
    variant = build_variant(model, build(model, device="meta"), kind, channels=channels)
    enc_in = INPUT_SHAPE if kind == "bottlefit" else tuple(variant.split_shape)
    enc_macs, code_shape = macs_and_shape(variant.encoder, enc_in)
    server_macs, _ = macs_and_shape(Chain(variant.server_parts()), code_shape)
    return enc_macs, server_macs


def jpeg_times(*, measure_encode: bool, repeats: int = 30) -> dict[str, Any]:
    """JPEG encode/decode time of a 224 x 224 RGB frame with Pillow (libjpeg), if installed [s]."""
    try:
        from PIL import Image
    except ImportError:
        return {"available": False}
    gen = torch.Generator().manual_seed(0)
    # A smooth synthetic frame (gradients plus mild noise): closer to a photo than white noise.
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 224), torch.linspace(0, 1, 224), indexing="ij")
    base = (
        torch.stack([xx, yy, (xx + yy) / 2]) * 200 + torch.rand((3, 224, 224), generator=gen) * 40
    )
    image = Image.fromarray(base.clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy())
    quality = 90

    def encode() -> bytes:
        buf = io.BytesIO()
        image.save(buf, format="JPEG", quality=quality)
        return buf.getvalue()

    blob = encode()

    def decode() -> None:
        Image.open(io.BytesIO(blob)).convert("RGB").load()

    def timed(fn: Callable[[], object]) -> dict[str, float]:
        samples = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        return TimingStats.from_samples(samples).as_dict()

    out: dict[str, Any] = {
        "available": True,
        "quality": quality,
        "bytes": len(blob),
        "decode": timed(decode),
    }
    if measure_encode:
        out["encode"] = timed(encode)
    return out


def summary_lines(raw: dict[str, Any]) -> Iterator[str]:
    """Human-readable summary of a raw measurement."""
    yield f"{raw['model']} on {raw['provenance']['processor']} ({raw['provenance']['device']})"
    for row in raw.get("blocks", []):
        t = row["time"]
        yield (
            f"  {row['name']:<14} {t['median_s'] * 1e3:9.3f} ms  [p10 {t['p10_s'] * 1e3:.3f}, "
            f"p90 {t['p90_s'] * 1e3:.3f}]  {row['macs'] / 1e6:9.1f} MMAC  out {row['out_shape']} "
            f"= {row['out_bytes']['uint8']:,} B uint8"
        )
    full = raw["full"]["time"]
    yield f"  {'full model':<14} {full['median_s'] * 1e3:9.3f} ms  {raw['full']['macs'] / 1e6:9.1f} MMAC"
    for name, part in raw["parts"].items():
        if "head" in part:
            h = part["head"]
            yield (
                f"  {name}: device {h['time']['median_s'] * 1e3:.3f} ms ({h['macs'] / 1e6:.1f} MMAC, "
                f"{h['params']:,} params, payload {h['payload_bytes']:,} B)"
            )
        sweep = part["server"]["sweep"]
        if sweep:
            yield "    server: " + ", ".join(
                f"b{b} {s['median_s'] * 1e3:.2f} ms" for b, s in sweep.items()
            )


def command_line(argv: list[str]) -> str:
    """The profiler's command line as run from the repository root (recorded as provenance)."""
    import shlex

    return shlex.join(["calibration/profile_model.py", *argv])


def main(argv: list[str] | None = None) -> int:
    from calibration.profile_writer import write_all

    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.command_line = command_line(argv)
    raw = Profiler(args).run()
    for line in summary_lines(raw):
        print(line)
    for path in write_all(raw, args):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
