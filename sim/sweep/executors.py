"""Where runs execute: in this process, in local worker processes, or on a Dask cluster.

All three take the same :class:`~sim.sweep.worker.RunTask` objects and yield
``(task, RunOutput | exception)`` as runs finish, in completion order; the
sweep driver does the rest (writing, progress), so there is one code path.

* :class:`InlineExecutor`: one run after another in this process (debugging, tiny sweeps).
* :class:`ProcessExecutor`: ``workers`` spawned processes
  (:class:`concurrent.futures.ProcessPoolExecutor`); they ignore Ctrl-C, and
  the driver terminates them when it is interrupted.
* :class:`DaskExecutor`: futures on a ``distributed`` cluster, at a scheduler
  address (``tcp://host:8786``) or a :class:`distributed.LocalCluster` started
  here; failed runs are retried by Dask (``retries``).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from sim.errors import SimInputError
from sim.sweep.worker import RunInterrupted, RunOutput, RunTask, execute_run

Finished = tuple[RunTask, RunOutput | BaseException]


class Executor(Protocol):
    """Runs tasks and yields them back with their output or their exception."""

    description: str

    def run(self, tasks: Sequence[RunTask]) -> Iterator[Finished]: ...

    def close(self) -> None: ...


class InlineExecutor:
    """Runs every task in this process, in order."""

    description = "this process"

    def run(self, tasks: Sequence[RunTask]) -> Iterator[Finished]:
        for task in tasks:
            try:
                output: RunOutput | BaseException = execute_run(task)
            except RunInterrupted:
                # Ctrl-C reached the run in this process: stop the sweep, not just this run.
                raise KeyboardInterrupt from None
            except Exception as exc:
                output = exc
            yield task, output

    def close(self) -> None:
        return None


@contextlib.contextmanager
def _unreadable_main_hidden() -> Iterator[None]:
    """Spawned workers re-import the driver's ``__main__`` from its file; a script read
    from stdin has the file name '<stdin>', which cannot be re-imported and would kill
    every worker. The workers need nothing from it (they run
    :func:`~sim.sweep.worker.execute_run`), so hide that name while they start."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or os.path.isfile(path):
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = path


def _exit_with_driver(driver_pid: int) -> None:
    """Stop this worker when the driver process is gone (killed with SIGKILL, say)."""
    if sys.platform.startswith("linux"):
        try:  # the kernel sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG = 1)
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
        except (OSError, AttributeError):
            pass

    def watch() -> None:  # portable fallback: poll the parent's pid
        while True:
            if os.getppid() != driver_pid:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, name="driver-watch", daemon=True).start()


def _worker_init(driver_pid: int) -> None:
    """Worker initializer: Ctrl-C is the driver's to handle (it terminates the workers), and
    a worker never outlives its driver."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _exit_with_driver(driver_pid)


class ProcessExecutor:
    """``workers`` local processes (spawned: no state inherited from the driver)."""

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise SimInputError(
                "not a number of worker processes",
                file="workers",
                value=workers,
                allowed="an integer >= 1",
            )
        self.workers = workers
        self.description = f"{workers} local process{'es' if workers > 1 else ''}"
        self._pool: ProcessPoolExecutor | None = None

    def run(self, tasks: Sequence[RunTask]) -> Iterator[Finished]:
        if not tasks:
            return
        self._pool = ProcessPoolExecutor(
            max_workers=min(self.workers, len(tasks)),
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )
        with _unreadable_main_hidden():  # workers start as tasks are submitted
            pending: dict[Future[RunOutput], RunTask] = {
                self._pool.submit(execute_run, task): task for task in tasks
            }
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                task = pending.pop(future)
                try:
                    output: RunOutput | BaseException = future.result()
                except BrokenProcessPool as exc:
                    raise RuntimeError(
                        "a local worker process died (killed, out of memory, or it could not "
                        "start: a script file that sweeps must call sim.sweep under "
                        "'if __name__ == \"__main__\":')"
                    ) from exc
                except Exception as exc:
                    output = exc
                yield task, output

    def close(self) -> None:
        """Stop at once: cancel queued runs and terminate the worker processes."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        processes = list(getattr(pool, "_processes", {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)


class DaskExecutor:
    """Runs on a Dask cluster: ``address`` of a scheduler, or a LocalCluster of ``workers``."""

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        retries: int = 1,
        connect_timeout_s: float = 15.0,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                "the Dask executor needs dask.distributed: pip install 'dask[distributed]'"
            ) from exc
        self.retries = retries
        self._cluster = None
        if address is None:
            count = workers or os.cpu_count() or 1
            self._cluster = LocalCluster(
                n_workers=count,
                threads_per_worker=1,
                processes=True,
                dashboard_address=":0",  # any free port: 8787 may be taken
            )
            self.client = Client(self._cluster)
            self.description = f"a Dask LocalCluster of {count} worker processes"
        else:
            try:
                self.client = Client(address, timeout=connect_timeout_s)
            except (OSError, TimeoutError, ValueError) as exc:
                from sim.errors import SimInputError

                raise SimInputError(
                    f"cannot reach a Dask scheduler there ({type(exc).__name__})",
                    file="--scheduler",
                    value=address,
                    allowed="the address 'dask scheduler' prints, e.g. tcp://10.0.0.5:8786",
                ) from None
            self.description = f"the Dask cluster at {address}"
        self._futures: list = []

    def run(self, tasks: Sequence[RunTask]) -> Iterator[Finished]:
        from distributed import as_completed

        by_key: dict[Any, RunTask] = {}  # by Dask future key
        for task in tasks:
            future = self.client.submit(
                execute_run,
                task,
                key=f"sim-run-{task.run_id}",
                pure=False,
                retries=self.retries,
            )
            by_key[future.key] = task
            self._futures.append(future)
        for future in as_completed(self._futures):
            task = by_key[future.key]
            try:
                output: RunOutput | BaseException = future.result()
            except Exception as exc:
                output = exc
            future.release()
            yield task, output

    def close(self) -> None:
        futures, self._futures = self._futures, []
        if futures:
            self.client.cancel(futures)
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def make_executor(
    workers: int | None = None,
    *,
    scheduler: str | None = None,
    local_cluster: bool = False,
    retries: int = 1,
) -> Executor:
    """The executor a sweep asked for: Dask if ``scheduler`` or ``local_cluster``, else local.

    ``workers``: processes (default: the number of CPUs); 0 runs in this process.
    """
    if workers is not None and (
        isinstance(workers, bool) or not isinstance(workers, int) or workers < 0
    ):
        raise SimInputError(
            "not a number of workers",
            file="--workers",
            value=workers,
            allowed="an integer >= 0 (0: run in this process)",
        )
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise SimInputError(
            "not a number of retries", file="--retries", value=retries, allowed="an integer >= 0"
        )
    if scheduler is not None or local_cluster:
        return DaskExecutor(scheduler, workers=workers or None, retries=retries)
    count = (os.cpu_count() or 1) if workers is None else workers
    if count == 0:
        return InlineExecutor()
    return ProcessExecutor(count)
