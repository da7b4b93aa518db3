"""Where a measurement was taken: host, processor, torch, power mode, date, command line."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch


def processor_name(device: torch.device) -> str:
    """GPU name for CUDA devices; otherwise the CPU model from /proc/cpuinfo (or platform)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        text = cpuinfo.read_text(errors="replace")
        for key in ("model name", "Model", "Hardware", "cpu model"):
            match = re.search(rf"^{key}\s*:\s*(.+)$", text, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return platform.processor() or platform.machine()


def power_mode() -> str | None:
    """Jetson ``nvpmodel -q`` mode, else the CPU frequency governor, else None."""
    if shutil.which("nvpmodel"):
        try:
            out = subprocess.run(
                ["nvpmodel", "-q"], capture_output=True, text=True, timeout=10
            ).stdout
        except (OSError, subprocess.SubprocessError):
            out = ""
        match = re.search(r"NV Power Mode:\s*(\S+)", out)
        if match:
            return f"nvpmodel {match.group(1)}"
    governor = Path("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor")
    if governor.exists():
        return f"cpufreq governor {governor.read_text().strip()}"
    return None


def host_info(
    device: torch.device, *, threads: int, precision: str, command: str | None = None
) -> dict[str, object]:
    """Everything needed to say where and how numbers were measured (``command``: the command line;
    default: this process's)."""
    info: dict[str, object] = {
        "host": socket.gethostname(),
        "processor": processor_name(device),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "device": str(device),
        "threads": threads,
        "precision": precision,
        "power_mode": power_mode(),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),  # noqa: UP017 (3.10)
        "command": command or shlex.join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
    }
    if device.type == "cuda":
        info["cuda"] = torch.version.cuda
        info["cudnn"] = torch.backends.cudnn.version()
    return info


def host_summary(info: dict[str, object]) -> str:
    """Host, processor, torch, threads, precision and power mode, in one line."""
    runtime = info.get("runtime") or "torch"
    parts = [
        f"host {info['host']} ({info['processor']}, {info['device']})",
        f"torch {info['torch']}"
        if runtime == "torch"
        else f"{runtime} {info.get('runtime_version')}",
        f"{info['threads']} threads",
        str(info["precision"]),
    ]
    if info.get("power_mode"):
        parts.append(str(info["power_mode"]))
    return ", ".join(parts)


def run_summary(info: dict[str, object]) -> str:
    """Date, background load and command line of one run."""
    text = str(info["date"])
    if info.get("background_cpu_frac") is not None:
        text += f", other processes used {float(info['background_cpu_frac']):.0%} of the CPUs"  # type: ignore[arg-type]
    return f"{text}: {info['command']}"


def describe(info: dict[str, object]) -> str:
    """One-line provenance text for a profile's ``source`` field."""
    return f"{host_summary(info)}; {run_summary(info)}"


class BackgroundLoad:
    """CPU time used by *other* processes while we measure, as a fraction of all CPUs.

    Linux only (``/proc/stat``); elsewhere :meth:`fraction` returns None. Timings
    taken while other work runs are slower and noisier; the profiler records this
    and warns above a few percent.
    """

    def __init__(self) -> None:
        self._start = self._snapshot()

    @staticmethod
    def _snapshot() -> tuple[float, float, float] | None:
        stat = Path("/proc/stat")
        if not stat.exists():
            return None
        fields = [float(v) for v in stat.read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle + iowait
        busy_s = (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")
        return busy_s, time.process_time(), time.monotonic()

    def fraction(self) -> float | None:
        end = self._snapshot()
        if self._start is None or end is None:
            return None
        busy = end[0] - self._start[0]
        ours = end[1] - self._start[1]
        wall = end[2] - self._start[2]
        cpus = os.cpu_count() or 1
        if wall <= 0:
            return None
        return max(0.0, min(1.0, (busy - ours) / (wall * cpus)))


M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024  # glibc's maximum on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX)
TRIM_THRESHOLD_BYTES = 1024 * 1024 * 1024


def steady_allocator() -> str | None:
    """Keep freed activations in the heap (glibc only), so timed calls do not page-fault.

    By default glibc hands large freed blocks back to the OS (``mmap`` and heap
    trimming, with a threshold that moves as the program runs), so a forward pass
    may or may not pay for fresh zeroed pages depending on what ran before it.
    Fixing both thresholds (``mallopt``) keeps the allocator in a steady state,
    as in a long-running inference process. Returns what was set, or None where
    it could not be (not glibc).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if not name or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(name)
        ok = libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) and libc.mallopt(
            M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES
        )
    except (OSError, AttributeError):
        return None
    if not ok:
        return None
    return "glibc mallopt: mmap threshold 32 MiB, trim threshold 1 GiB (freed activations stay in the heap)"
