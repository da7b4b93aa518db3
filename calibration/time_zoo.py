"""Whole-model batch-1 latency of every zoo network on this host (cost-model data).

    python calibration/time_zoo.py --device cpu --out calibration/measurements/x86_2core_cpu/zoo_latency.json

The published board figures (devices.md) are whole-model latencies of many
torchvision networks; this script measures the same thing here, so the cost
model can be fitted to, and checked against, a machine whose per-block times
are also measured (calibration/build_device_profiles.py reports both).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from calibration.hostinfo import BackgroundLoad, host_info, steady_allocator  # noqa: E402
from calibration.profile_model import progress, resolve_device  # noqa: E402
from calibration.timing import TimingStats, measure_samples  # noqa: E402
from calibration.zoo import BUILDERS, build  # noqa: E402


def time_models(
    names: list[str],
    device: torch.device,
    *,
    warmup: int,
    repeats: int,
    rounds: int = 1,
    show_progress: bool = True,
) -> dict[str, dict[str, float]]:
    """Median/p10/p90 latency [s] of each named zoo model at batch 1 (random weights, eval mode).

    All models are built first, then timed ``rounds`` times in turn, ``repeats / rounds``
    calls each, and the samples pooled, so that slow drifts of the host hit every model alike.
    """
    nets, inputs = {}, {}
    for name in names:
        torch.manual_seed(0)
        nets[name] = build(name).to(device)
        inputs[name] = torch.randn(1, 3, 224, 224, device=device)
    samples: dict[str, list[float]] = {name: [] for name in names}
    bar = progress(rounds * len(names), "time zoo", enabled=show_progress)
    for _ in range(rounds):
        for name in names:
            bar.set_postfix_str(name)
            samples[name] += measure_samples(
                lambda n=nets[name], x=inputs[name]: n(x),
                device,
                warmup=warmup,
                repeats=math.ceil(repeats / rounds),
                name=name,
            )
            bar.update(1)
    bar.close()
    return {name: TimingStats.from_samples(values).as_dict() for name, values in samples.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cpu")
    p.add_argument("--models", default=",".join(BUILDERS), help="comma-separated zoo names")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument(
        "--rounds", type=int, default=1, help="time the whole list this many times, pooling samples"
    )
    p.add_argument("--threads", type=int)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    device = resolve_device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    allocator = steady_allocator()
    load = BackgroundLoad()
    times = time_models(
        args.models.split(","), device, warmup=args.warmup, repeats=args.repeats, rounds=args.rounds
    )
    info = host_info(device, threads=torch.get_num_threads(), precision="fp32")
    info["allocator"] = allocator
    background = load.fraction()
    info["background_cpu_frac"] = None if background is None else round(background, 4)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "provenance": info,
                "input_shape": [3, 224, 224],
                "batch": 1,
                "warmup": args.warmup,
                "repeats": args.repeats,
                "rounds": args.rounds,
                "latency": times,
            },
            indent=1,
        )
    )
    for name, stats in times.items():
        print(f"{name:<20} {stats['median_s'] * 1e3:9.2f} ms")
    print(f"wrote {args.out} (other processes used {background or 0:.0%} of the CPUs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
