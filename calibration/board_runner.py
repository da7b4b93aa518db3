#!/usr/bin/env python3
"""Board-side timer: times a bundle's blocks and model parts and writes one raw JSON file.

Runs on the board with nothing but the standard library and torch (or, with
``--runtime ort``, onnxruntime and numpy instead of torch). It works on a stock
Jetson Nano (JetPack 4.6: Python 3.6.9, NVIDIA's torch 1.10 wheel) as on a
Raspberry Pi OS 64-bit (Python 3.11, torch 2.x): the syntax is Python 3.6 and
the torch calls are those of torch 1.10 (both checked in CI, see
tests/calibration/test_calib_board_compat.py). The networks come from the
bundle that ``calibration/board_bundle.py`` built on the host (TorchScript
traced from the zoo, or ONNX), so no model code runs here.

    python3 board_runner.py BUNDLE --device cuda --precision fp16 --out raw.json

What it times is what calibration/profile_model.py times: every natural block
(fed the previous block's output), the whole model, each variant's device part
(encoder + 8-bit quantiser, and without the quantiser) and the batch sweep of
the whole model and of every server part; warm-up calls, then the median and
p10/p90 of the timed calls (CUDA events on GPUs), every timed loop a phase with
Unix start/end times for power alignment. Where ``tegrastats`` exists (Jetson)
its lines are recorded with Unix times alongside. On the host,
``python calibration/board_ingest.py raw.json --out OUT`` turns the file into
device, server and model profiles.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

try:
    import torch
except ImportError:  # an onnxruntime-only board
    torch = None

BUNDLE_FORMAT = "splitsim-board-bundle/1"
RAW_FORMAT = "splitsim-board-raw/1"
INPUT_NAME = "input"
"""Name of the input of every ONNX file of a bundle."""


# ------------------------------------------------------------------ statistics


def quantile(ordered, q):
    """Linear-interpolation quantile of sorted samples (numpy's default; as calibration/timing.py)."""
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def summarize(samples_s):
    """Median, p10, p90, mean and count of latency samples [s] (the keys of TimingStats)."""
    if not samples_s:
        raise ValueError("no timing samples")
    ordered = sorted(samples_s)
    return {
        "median_s": statistics.median(ordered),
        "p10_s": quantile(ordered, 0.10),
        "p90_s": quantile(ordered, 0.90),
        "mean_s": sum(ordered) / len(ordered),
        "n": len(ordered),
    }


# ------------------------------------------------------------------ the 8-bit quantiser


def quantize_uint8(x):
    """torchdistill's per-tensor 8-bit quantisation, as calibration/zoo/quant.py ``quantize_tensor``.

    Returns (uint8 tensor, scale, zero point); the same arithmetic, so the same
    host-device synchronisations (``float(x.min())``), as the host profiler times.
    """
    qmin, qmax = 0.0, 255.0
    min_val, max_val = float(x.min()), float(x.max())
    scale = (max_val - min_val) / (qmax - qmin)
    if scale == 0.0:
        scale = abs(min_val) / qmax if min_val != 0.0 else 1.0
    zero_point = int(min(max(qmin - min_val / scale, qmin), qmax))
    q = (zero_point + x / scale).clamp(qmin, qmax).round().to(torch.uint8)
    return q, scale, zero_point


# ------------------------------------------------------------------ where we run


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def processor_name(device):
    """GPU name on CUDA, else the CPU model from /proc/cpuinfo (or platform)."""
    if device == "cuda":
        return torch.cuda.get_device_name(0)
    text = read_text("/proc/cpuinfo") or ""
    for key in ("model name", "Model", "Hardware", "cpu model"):
        match = re.search(r"^" + key + r"\s*:\s*(.+)$", text, re.MULTILINE)
        if match:
            return match.group(1).strip()
    return platform.processor() or platform.machine()


def power_mode():
    """Jetson ``nvpmodel -q`` mode, else the CPU frequency governor, else None."""
    if shutil.which("nvpmodel"):
        try:
            out = subprocess.run(
                ["nvpmodel", "-q"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                universal_newlines=True,  # noqa: UP021 (text= is 3.7)
                timeout=10,
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        match = re.search(r"NV Power Mode:\s*(\S+)", out)
        if match:
            return "nvpmodel " + match.group(1)
    governor = read_text("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    if governor:
        return "cpufreq governor " + governor.strip()
    return None


def cpu_busy_s():
    """(CPU time of all processes [s], ours [s], monotonic [s]) from /proc/stat; None elsewhere."""
    text = read_text("/proc/stat")
    if not text:
        return None
    fields = [float(v) for v in text.splitlines()[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
    return (
        (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK"),
        time.process_time(),
        time.monotonic(),
    )


def background_fraction(start, end):
    """Share of all CPUs that other processes used between two :func:`cpu_busy_s` snapshots."""
    if start is None or end is None or end[2] <= start[2]:
        return None
    others = (end[0] - start[0]) - (end[1] - start[1])
    return round(max(0.0, min(1.0, others / ((end[2] - start[2]) * (os.cpu_count() or 1)))), 4)


def host_info(args, runtime_version, threads):
    """Where and how the numbers were measured (the keys calibration/hostinfo.py records)."""
    info = {
        "host": socket.gethostname(),
        "processor": processor_name(args.device),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__ if torch is not None else None,
        "device": args.device,
        "threads": threads,
        "precision": args.precision,
        "power_mode": power_mode(),
        "runtime": args.runtime,
        "runtime_version": runtime_version,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017
        "command": " ".join(shlex.quote(a) for a in ["calibration/board_runner.py", *sys.argv[1:]]),
        "tool": "calibration/board_runner.py",
    }
    if args.device == "cuda":
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


# ------------------------------------------------------------------ tegrastats


class Tegrastats:
    """``tegrastats`` running beside the measurement; every line stored with its Unix time [s].

    The stamped lines are what calibration/power/tegrastats.py reads (a leading Unix time).
    """

    def __init__(self, interval_ms, executable="tegrastats"):
        self.lines = []
        self.interval_ms = interval_ms
        self.proc = subprocess.Popen(
            [executable, "--interval", str(interval_ms)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            universal_newlines=True,
        )
        self.thread = threading.Thread(target=self._read)
        self.thread.daemon = True
        self.thread.start()
        deadline = (
            time.time() + 10.0
        )  # the first phase must lie inside the trace: wait for a sample
        while not self.lines and time.time() < deadline and self.proc.poll() is None:
            time.sleep(0.05)
        if not self.lines:
            self.stop()
            raise SystemExit(f"{executable} printed nothing within 10 s")

    def _read(self):
        for line in self.proc.stdout:
            line = line.strip()
            if line:
                self.lines.append(f"{time.time():.4f} {line}")

    def stop(self):
        """Stop after one more sample, so that the last phase lies inside the trace."""
        end = time.time()
        deadline = end + 5.0 + self.interval_ms / 1000.0
        while (
            time.time() < deadline
            and self.proc.poll() is None
            and (not self.lines or float(self.lines[-1].split(" ", 1)[0]) <= end)
        ):
            time.sleep(0.02)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.thread.join(timeout=5)
        return {"interval_ms": self.interval_ms, "lines": self.lines}


# ------------------------------------------------------------------ the two runtimes


class TorchRuntime:
    """TorchScript modules on ``cpu`` or ``cuda`` in fp32 or fp16; CUDA times from events."""

    name = "torch"

    def __init__(self, bundle_dir, manifest, args):
        if torch is None:
            raise SystemExit("--runtime torch needs torch; install it or use --runtime ort")
        if args.device == "cuda" and not torch.cuda.is_available():
            raise SystemExit("--device cuda requested but torch.cuda.is_available() is False")
        if args.threads:
            torch.set_num_threads(args.threads)
        if args.device == "cuda":
            torch.backends.cudnn.benchmark = True
        self.device = torch.device(args.device)
        self.dtype = torch.float16 if args.precision == "fp16" else torch.float32
        self.version = torch.__version__
        self.threads = torch.get_num_threads()
        self.modules = {}
        if not any(entry.get("torchscript") for entry in manifest["modules"].values()):
            raise SystemExit(
                "this bundle has no TorchScript files (built with --no-torchscript): "
                "use --runtime ort, or trtexec"
            )
        for name, entry in manifest["modules"].items():
            if entry.get("torchscript"):
                module = torch.jit.load(
                    os.path.join(bundle_dir, entry["torchscript"]), map_location="cpu"
                )
                self.modules[name] = module.to(self.device, self.dtype).eval()
        torch.manual_seed(0)

    def grad_off(self):
        return torch.inference_mode() if hasattr(torch, "inference_mode") else torch.no_grad()

    def session(self):
        """Run TorchScript op by op, as eager torch does: the JIT's profiling executor would
        otherwise re-optimise at every new input shape, inside the timed calls."""
        return torch.jit.optimized_execution(False)

    def input(self, shape, batch=1):
        return torch.randn([batch, *list(shape)], device=self.device, dtype=self.dtype)

    def chain(self, names):
        modules = [self.modules[n] for n in names]

        def run(x):
            for module in modules:
                x = module(x)
            return x

        return run

    def call(self, name, x):
        with self.grad_off():
            return self.modules[name](x.clone())  # some blocks start with an in-place ReLU

    def encoder_jobs(self, name, x):
        encoder = self.modules[name]

        def head():
            q, _, _ = quantize_uint8(
                encoder(x).float()
            )  # the device sends 8-bit codes (-bq configs)
            return q

        return head, lambda: encoder(x)

    def sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize()

    def time_call(self, fn):
        if self.device.type == "cuda":
            start = torch.cuda.Event(enable_timing=True)
            end = torch.cuda.Event(enable_timing=True)
            torch.cuda.synchronize()
            start.record()
            fn()
            end.record()
            end.synchronize()
            return start.elapsed_time(end) / 1000.0
        begin = time.perf_counter()
        fn()
        return time.perf_counter() - begin


class OrtRuntime:
    """The bundle's ONNX files with onnxruntime's CPU execution provider (fp32)."""

    name = "ort"

    def __init__(self, bundle_dir, manifest, args):
        try:
            import numpy
            import onnxruntime
        except ImportError:
            raise SystemExit("--runtime ort needs onnxruntime (pip install onnxruntime)") from None
        if args.device != "cpu" or args.precision != "fp32":
            raise SystemExit("--runtime ort measures --device cpu --precision fp32 only")
        self.np = numpy
        options = onnxruntime.SessionOptions()
        if args.threads:
            options.intra_op_num_threads = args.threads
        self.version = onnxruntime.__version__
        self.threads = args.threads or os.cpu_count()
        self.sessions = {}
        if not any(entry.get("onnx") for entry in manifest["modules"].values()):
            raise SystemExit(
                "this bundle has no ONNX files (built with --no-onnx): use --runtime torch"
            )
        for name, entry in manifest["modules"].items():
            if entry.get("onnx"):
                self.sessions[name] = onnxruntime.InferenceSession(
                    os.path.join(bundle_dir, entry["onnx"]),
                    options,
                    providers=["CPUExecutionProvider"],
                )
        self.rng = numpy.random.RandomState(0)

    def grad_off(self):
        return _NoContext()

    def session(self):
        return _NoContext()

    def input(self, shape, batch=1):
        return self.rng.standard_normal([batch, *list(shape)]).astype(self.np.float32)

    def _run(self, name, x):
        return self.sessions[name].run(None, {INPUT_NAME: x})[0]

    def chain(self, names):
        def run(x):
            for name in names:
                x = self._run(name, x)
            return x

        return run

    def call(self, name, x):
        return self._run(name, x)

    def encoder_jobs(self, name, x):
        quant = name + "_quant"
        return (lambda: self._run(quant, x)), (lambda: self._run(name, x))

    def sync(self):
        pass

    def time_call(self, fn):
        begin = time.perf_counter()
        fn()
        return time.perf_counter() - begin


class _NoContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


# ------------------------------------------------------------------ the run


class Job:
    """One thing to time: a callable, its calls per round, and its batch size."""

    def __init__(self, name, fn, repeats, batch=1):
        self.name, self.fn, self.repeats, self.batch = name, fn, repeats, batch
        self.samples = []


def measure(runtime, job, warmup, repeats, min_phase_s, phases):
    """Warm up, then time ``repeats`` calls (more if ``min_phase_s`` asks); one phase per loop."""
    with runtime.grad_off():
        for _ in range(warmup):
            job.fn()
        runtime.sync()
        samples = []
        start = time.time()
        while len(samples) < repeats or time.time() - start < min_phase_s:
            samples.append(runtime.time_call(job.fn))
        runtime.sync()
        end = time.time()
    phases.append(
        {
            "name": job.name,
            "t_start": start,
            "t_end": end,
            "calls": len(samples),
            "batch": job.batch,
        }
    )
    return samples


def plan_jobs(runtime, manifest, args, batch_sizes):
    """Every measurement of the run, in profile_model.py's order."""
    jobs = []

    def add(name, fn, sweep=False, batch=1):
        jobs.append(Job(name, fn, args.sweep_repeats if sweep else args.repeats, batch))

    def sweep(run, in_shape, part):
        for batch in batch_sizes:
            x = runtime.input(in_shape, batch)
            add(f"server/{part}/b{batch}", (lambda run=run, x=x: run(x)), sweep=True, batch=batch)

    shape = manifest["input_shape"]
    if not args.no_blocks:
        x = runtime.input(shape)
        for block in manifest["blocks"]:
            module = block["module"]
            add("block/" + block["name"], (lambda m=module, x=x: runtime.call(m, x)))
            x = runtime.call(module, x)
    full = manifest["full"]
    if isinstance(runtime, OrtRuntime) and full.get("module") in runtime.sessions:
        whole = runtime.chain([full["module"]])
    else:
        whole = runtime.chain(full["chain"])
    x_full = runtime.input(shape)
    add("full", lambda: whole(x_full))
    sweep(whole, shape, "full")
    for name, part in manifest["parts"].items():
        if "head" in part:
            x = runtime.input(part["head"]["in_shape"])
            with_quant, without = runtime.encoder_jobs(part["head"]["module"], x)
            add(name + ".encoder", with_quant)
            add(name + ".encoder_noquant", without)
        sweep(runtime.chain(part["server"]["chain"]), part["server"]["in_shape"], name)
    return jobs


def run(args):
    bundle_dir = args.bundle
    with open(os.path.join(bundle_dir, "manifest.json")) as handle:
        manifest = json.load(handle)
    if manifest.get("format") != BUNDLE_FORMAT:
        raise SystemExit(
            "{}/manifest.json: format {!r}, expected {!r}".format(
                bundle_dir, manifest.get("format"), BUNDLE_FORMAT
            )
        )
    runtime = (TorchRuntime if args.runtime == "torch" else OrtRuntime)(bundle_dir, manifest, args)
    if args.rounds < 1:
        raise SystemExit("--rounds must be at least 1")
    default_sweep = "1,2,4,8" if args.device == "cpu" else "1,2,4,8,16,32,64,128"
    batch_sizes = (
        []
        if args.no_server_sweep
        else [int(v) for v in (args.batch_sizes or default_sweep).split(",") if v.strip()]
    )
    info = host_info(args, runtime.version, runtime.threads)
    recorder = None
    if args.tegrastats != "off":
        executable = "tegrastats" if args.tegrastats == "auto" else args.tegrastats
        if shutil.which(executable):
            recorder = Tegrastats(args.tegrastats_interval_ms, executable)
        elif args.tegrastats != "auto":
            raise SystemExit(f"--tegrastats {args.tegrastats}: not found")
    if recorder is not None:  # power samples need an idle baseline and phases of a few seconds
        args.idle_s = 10.0 if args.idle_s is None else args.idle_s
        args.min_phase_s = 5.0 if args.min_phase_s is None else args.min_phase_s
    args.idle_s = args.idle_s or 0.0
    args.min_phase_s = args.min_phase_s or 0.0
    load_start = cpu_busy_s()
    phases = []
    try:
        if args.idle_s > 0:
            start = time.time()
            time.sleep(args.idle_s)
            phases.append(
                {"name": "idle", "t_start": start, "t_end": time.time(), "calls": 0, "batch": 1}
            )
        with runtime.session():
            jobs = plan_jobs(runtime, manifest, args, batch_sizes)
            for round_index in range(args.rounds):
                for job in jobs:
                    calls = -(-job.repeats // args.rounds)  # ceil, as profile_model.py
                    job.samples += measure(
                        runtime, job, args.warmup, calls, args.min_phase_s, phases
                    )
                if args.progress:
                    sys.stderr.write(f"round {round_index + 1}/{args.rounds} done\n")
    finally:
        power = recorder.stop() if recorder is not None else None
    info["background_cpu_frac"] = background_fraction(load_start, cpu_busy_s())
    if info["background_cpu_frac"] is not None and info["background_cpu_frac"] > 0.05:
        sys.stderr.write(
            "warning: other processes used %.0f%% of the CPUs during the run; the timings are "
            "inflated and noisy: rerun on a quiet board\n" % (100 * info["background_cpu_frac"])
        )
    return {
        "format": RAW_FORMAT,
        "runtime": runtime.name,
        "device_name": args.name,
        "display_name": args.display_name,
        "manifest": manifest,
        "provenance": info,
        "settings": {
            "warmup": args.warmup,
            "repeats": args.repeats,
            "rounds": args.rounds,
            "sweep_repeats": args.sweep_repeats,
            "batch_sizes": batch_sizes,
            "min_phase_s": args.min_phase_s,
            "precision": args.precision,
            "blocks": not args.no_blocks,
        },
        "times": dict((job.name, summarize(job.samples)) for job in jobs),
        "phases": phases,
        "tegrastats": power,
    }


def write_atomic(path, text):
    """Write via a temporary file and a rename: a failed run leaves no half-written file."""
    tmp = path + ".part"
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def build_parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "bundle", help="folder made by calibration/board_bundle.py (holds manifest.json)"
    )
    p.add_argument("--out", required=True, help="raw JSON file to write (copy it back to the host)")
    p.add_argument(
        "--runtime",
        default="torch",
        choices=["torch", "ort"],
        help="torch: the TorchScript files; ort: the ONNX files with onnxruntime (CPU)",
    )
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--precision", default="fp32", choices=["fp32", "fp16"])
    p.add_argument("--name", help="profile name (default: <hostname>_<device>[_ort])")
    p.add_argument("--display-name", help="human-readable board name for the profile")
    p.add_argument("--threads", type=int, help="CPU threads (default: the runtime's choice)")
    p.add_argument("--warmup", type=int, default=5, help="untimed calls before each measurement")
    p.add_argument(
        "--repeats", type=int, default=30, help="timed calls per block / part at batch 1"
    )
    p.add_argument(
        "--sweep-repeats", type=int, default=10, help="timed calls per batch size in the sweep"
    )
    p.add_argument(
        "--rounds", type=int, default=1, help="run the whole list this many times, calls split"
    )
    p.add_argument(
        "--batch-sizes", help="server sweep, e.g. 1,2,4,8 (default cpu: 1,2,4,8; cuda: 1..128)"
    )
    p.add_argument("--no-server-sweep", action="store_true", help="skip the batch sweeps")
    p.add_argument("--no-blocks", action="store_true", help="skip per-block timing")
    p.add_argument(
        "--min-phase-s",
        type=float,
        help="every timed loop at least this long [s] (default 0; 5 while tegrastats records)",
    )
    p.add_argument(
        "--idle-s",
        type=float,
        help="idle phase before measuring [s] (power baseline; default 0; 10 while tegrastats records)",
    )
    p.add_argument(
        "--tegrastats",
        default="auto",
        help="auto (record it where it exists), off, or the path of the tegrastats binary",
    )
    p.add_argument("--tegrastats-interval-ms", type=int, default=100)
    p.add_argument("--progress", action="store_true", help="print a line per round on stderr")
    return p


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.name is None:
        host = re.sub(r"[^a-z0-9_]+", "_", socket.gethostname().lower()).strip("_") or "board"
        args.name = host + "_" + args.device + ("_ort" if args.runtime == "ort" else "")
    raw = run(args)
    write_atomic(args.out, json.dumps(raw, indent=1) + "\n")
    for name, stats in raw["times"].items():
        if "/b" not in name or name.endswith("/b1"):
            print(
                f"  {name:<34} {stats['median_s'] * 1e3:9.3f} ms  "
                f"[p10 {stats['p10_s'] * 1e3:.3f}, p90 {stats['p90_s'] * 1e3:.3f}]"
            )
    print("wrote " + args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
