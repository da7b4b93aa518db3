"""Record ``tegrastats`` while the profiler runs, stamping each line with the Unix time.

tegrastats on JetPack 4 prints no times, and on JetPack 5+ only whole seconds;
the recorder reads its output line by line as it arrives and writes
``<Unix time [s]> <line>`` to the log, the first format that
:mod:`calibration.power.tegrastats` reads. The stamp is the time the line was
read, at most a pipe-flush later than the sample.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType


class TegrastatsRecorder:
    """Context manager: start ``tegrastats --interval <ms>``, log stamped lines, stop it on exit.

    Entering waits for the first sample and leaving waits for one more, so that
    everything run inside the ``with`` block lies within the recorded trace.

    ``command`` replaces the tegrastats command line (any program that prints
    tegrastats-format lines; the tests use a stand-in).
    """

    def __init__(
        self, log_path: Path, interval_ms: int = 100, command: list[str] | None = None
    ) -> None:
        self.log_path = log_path
        self.command = command or ["tegrastats", "--interval", str(interval_ms)]
        self._proc: subprocess.Popen[str] | None = None
        self._thread: threading.Thread | None = None
        self.lines = 0
        self.last_stamp_s = 0.0
        self.timeout_s = 5.0

    @staticmethod
    def available() -> bool:
        """True when a ``tegrastats`` executable is on the PATH (a Jetson)."""
        return shutil.which("tegrastats") is not None

    def _pump(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        with open(self.log_path, "w", encoding="utf-8") as log:
            for line in self._proc.stdout:
                stamp = time.time()
                log.write(f"{stamp:.4f} {line.rstrip()}\n")
                log.flush()
                self.lines += 1
                self.last_stamp_s = stamp

    def __enter__(self) -> TegrastatsRecorder:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._proc = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1
        )
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()
        # The profiler's first phase must lie inside the trace: wait for the first sample.
        if not self._wait_for_sample_after(0.0):
            self.__exit__(None, None, None)
            raise RuntimeError(
                f"{' '.join(self.command)} printed nothing within {self.timeout_s:g} s"
            )
        return self

    def _wait_for_sample_after(self, t: float) -> bool:
        deadline = time.monotonic() + self.timeout_s
        while self.last_stamp_s <= t and time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                break
            time.sleep(0.005)
        return self.last_stamp_s > t

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None and self._proc.poll() is None:
            # ... and the last phase too: wait for one sample after it ended.
            self._wait_for_sample_after(time.time())
            self._proc.terminate()
            try:
                self._proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        if self._thread is not None:
            self._thread.join(timeout=5)
