"""Per-block latency of one bundle under PyTorch (TorchScript, op by op) and ONNX Runtime on this CPU.

    python calibration/board_compare.py BUNDLE [--calls 15] [--threads 2]

The two runtimes alternate call by call on the same input, so that a change
in the machine's load hits both alike; the table gives, per block, the median
and the fastest call of each [ms] and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from calibration.board_runner import OrtRuntime, TorchRuntime  # noqa: E402
from calibration.board_runner import build_parser as runner_parser  # noqa: E402


def compare(
    bundle: Path, calls: int = 15, threads: int | None = None
) -> list[dict[str, float | str]]:
    """Rows ``{block, torch_median_ms, torch_min_ms, ort_median_ms, ort_min_ms}`` in block order."""
    import numpy as np
    import torch

    manifest = json.loads((bundle / "manifest.json").read_text())
    argv = [str(bundle), "--out", "-"] + (["--threads", str(threads)] if threads else [])
    args = runner_parser().parse_args(argv)
    torch_rt, ort_rt = (
        TorchRuntime(str(bundle), manifest, args),
        OrtRuntime(str(bundle), manifest, args),
    )
    x = np.random.default_rng(0).standard_normal((1, *manifest["input_shape"])).astype(np.float32)
    rows = []
    with torch_rt.session(), torch.inference_mode():
        for block in manifest["blocks"]:
            name = block["module"]
            xt = torch.from_numpy(x.copy())
            ts_module, session = torch_rt.modules[name], ort_rt.sessions[name]
            for _ in range(3):
                ts_module(xt.clone())
                session.run(None, {"input": x})
            t_torch, t_ort = [], []
            for _ in range(calls):
                xc = xt.clone()
                start = time.perf_counter()
                ts_module(xc)
                t_torch.append(time.perf_counter() - start)
                start = time.perf_counter()
                session.run(None, {"input": x})
                t_ort.append(time.perf_counter() - start)
            rows.append(
                {
                    "block": block["name"],
                    "torch_median_ms": statistics.median(t_torch) * 1e3,
                    "torch_min_ms": min(t_torch) * 1e3,
                    "ort_median_ms": statistics.median(t_ort) * 1e3,
                    "ort_min_ms": min(t_ort) * 1e3,
                }
            )
            x = session.run(None, {"input": x})[0]
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "bundle",
        type=Path,
        help="a bundle with TorchScript and ONNX files (calibration/board_bundle.py)",
    )
    p.add_argument("--calls", type=int, default=15)
    p.add_argument("--threads", type=int)
    args = p.parse_args(argv)
    rows = compare(args.bundle, args.calls, args.threads)
    print(
        f"{'block':<16} {'torch median':>12} {'torch min':>10} {'ORT median':>11} {'ORT min':>9} {'ORT/torch':>9}"
    )
    for r in rows:
        print(
            f"{r['block']:<16} {r['torch_median_ms']:12.2f} {r['torch_min_ms']:10.2f} {r['ort_median_ms']:11.2f} "
            f"{r['ort_min_ms']:9.2f} {float(r['ort_median_ms']) / float(r['torch_median_ms']):9.2f}"
        )
    total_t = sum(float(r["torch_median_ms"]) for r in rows)
    total_o = sum(float(r["ort_median_ms"]) for r in rows)
    print(f"{'sum':<16} {total_t:12.2f} {'':>10} {total_o:11.2f} {'':>9} {total_o / total_t:9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
