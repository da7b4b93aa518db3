"""Records bounded by disk, not RAM: arrivals merged a block at a time, the request table on files.

Two pieces the engine uses (``outputs.stream_records``, docs/records.md):

* :class:`ArrivalBlocks` merges every device's arrival times into time order one
  block of rows at a time (ties: device order). Blocks are disjoint time intervals,
  so their rows, one after another, are exactly one stable sort of all arrivals (the
  order the engine has always used); only a block is held merged at once. The
  progressive plans' exit draws come per block from the same per-device streams in
  the same amounts (``Generator.random`` uses one 64-bit draw per value, so drawing
  a device's values in pieces gives the same numbers as drawing them at once).
* :class:`SpillTable` is a :class:`~sim.records.Table` whose columns are file-backed
  memory maps in a private spill folder. The engine writes its cells exactly as
  into an in-memory table (same rows, same code); behind the block being admitted,
  the pages are handed back to the kernel (``madvise(MADV_DONTNEED)``; a shared file
  mapping loses nothing, a later write to an old row reads its page back). Why not
  Parquet row groups as the run goes: a row is not final when its outcome is known
  (its radio tail energy is charged at the device's next transfer) and a request
  that outlives the run never gets an outcome; the file-backed table needs no
  notion of "settled", so streamed records equal in-memory ones by construction.

:class:`RecordStore` is what a streamed run hands on: the table and how to turn a
range of its rows into the request frame, chunk by chunk (Parquet row groups,
:mod:`sim.record_summary` for the summary).
"""

from __future__ import annotations

import contextlib
import mmap
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.records import ColumnKind, Table

BLOCK_ROWS = 1 << 16
"""Rows merged (and laid out in the table) at a time: ~65 k requests, ~10 MiB of records."""

CHUNK_ROWS = 1 << 18
"""Rows per request-frame chunk (one Parquet row group) when a streamed table is read."""

_DONTNEED = getattr(mmap, "MADV_DONTNEED", None)


class ArrivalBlock:
    """Rows ``[start, start + len(times))``: arrival times [s], device indices and, when a
    plan has exits, the exit draws (uniform in [0, 1), the device's arrival number)."""

    __slots__ = ("devices", "exit_sequence", "exit_uniform", "start", "times")

    def __init__(
        self,
        start: int,
        times: np.ndarray,
        devices: np.ndarray,
        exit_uniform: np.ndarray | None,
        exit_sequence: np.ndarray | None,
    ) -> None:
        self.start = start
        self.times = times
        self.devices = devices
        self.exit_uniform = exit_uniform
        self.exit_sequence = exit_sequence

    @property
    def stop(self) -> int:
        return self.start + self.times.size

    def exit_draws(self) -> tuple[BlockDraws, BlockDraws]:
        """(uniforms, arrival numbers) indexed by row, as ``decide_exit`` reads them."""
        assert self.exit_uniform is not None and self.exit_sequence is not None
        return BlockDraws(self.exit_uniform, self.start), BlockDraws(self.exit_sequence, self.start)


class ArrivalBlocks:
    """Every device's sorted arrival times [s] merged into time order, a block at a time.

    ``exit_streams``: per device, the Generator of its exit draws, or None for a device
    whose plans have no exits (its draws are 0, as :func:`sim.exits.draws.exit_draws`);
    None altogether when no plan has exits.
    """

    def __init__(
        self,
        arrivals: Sequence[np.ndarray],
        exit_streams: Sequence[np.random.Generator | None] | None = None,
        block_rows: int | None = None,
    ) -> None:
        self.arrivals = [np.asarray(a, dtype=np.float64) for a in arrivals]
        for d, times in enumerate(self.arrivals):  # sim.workload.arrival_times sorts them
            if times.size > 1 and bool(np.any(times[1:] < times[:-1])):
                raise ValueError(f"arrival times of device {d} are not in time order")
        self.total = int(sum(a.size for a in self.arrivals))
        self.exit_streams = exit_streams
        # Cut times from a sample of every device's arrivals: ~block_rows rows per block.
        stride = max(1, (block_rows or BLOCK_ROWS) // 16)
        sample = [a[::stride] for a in self.arrivals if a.size]
        edges = np.unique(np.concatenate(sample))[16::16] if sample else np.zeros(0)
        self.edges = edges
        # cuts[d][k]: the first arrival of device d at or after edge k (blocks in between).
        self._cuts = [
            np.concatenate(([0], np.searchsorted(a, edges, side="left"), [a.size]))
            for a in self.arrivals
        ]

    def __len__(self) -> int:
        return self.edges.size + 1

    def __iter__(self) -> Iterator[ArrivalBlock]:
        start = 0
        streams = self.exit_streams
        for k in range(len(self)):
            pieces, owners, first = [], [], []
            for d, (times, cuts) in enumerate(zip(self.arrivals, self._cuts, strict=True)):
                lo, hi = int(cuts[k]), int(cuts[k + 1])
                if hi > lo:
                    pieces.append(times[lo:hi])
                    owners.append(np.full(hi - lo, d, dtype=np.int64))
                    first.append(lo)
            if not pieces:
                continue
            times = np.concatenate(pieces)
            order = np.argsort(times, kind="stable")
            devices = np.concatenate(owners)[order]
            uniform = sequence = None
            if streams is not None:
                draws, numbers = [], []
                for piece, owner, lo in zip(pieces, owners, first, strict=True):
                    stream = streams[int(owner[0])]
                    draws.append(
                        np.zeros(piece.size) if stream is None else stream.random(piece.size)
                    )
                    numbers.append(np.arange(lo, lo + piece.size, dtype=np.int64))
                uniform = np.concatenate(draws)[order]
                sequence = np.concatenate(numbers)[order]
            yield ArrivalBlock(start, times[order], devices, uniform, sequence)
            start += times.size


class BlockDraws:
    """One block's exit draws indexed by the table's row (what ``decide_exit`` reads)."""

    __slots__ = ("start", "values")

    def __init__(self, values: np.ndarray, start: int) -> None:
        self.values = values
        self.start = start

    def __getitem__(self, row: int):
        return self.values[row - self.start]


def _missing(dtype: np.dtype) -> Any:
    """A missing cell: NaN, -1 (integers and category codes), else 0 (as Table)."""
    return np.nan if dtype.kind == "f" else (-1 if dtype.kind in "iu" else 0)


class SpillTable(Table):
    """A request table on files: one memory-mapped file per column in ``folder``.

    Laid out for ``capacity`` rows up front (the files are sparse; nothing is touched
    until :meth:`lay_out`); it never grows.
    """

    def __init__(self, spec: Mapping[str, ColumnKind], capacity: int, folder: Path) -> None:
        self.spec = spec
        self.categories: dict[str, list[str]] = {}
        self.columns: dict[str, np.ndarray] = {}
        self.n = 0
        self._capacity = max(int(capacity), 1)
        self.folder = folder
        self._laid_out = 0
        self.block_start = 0  # first row of the block being admitted
        self._released: dict[str, int] = {}  # bytes of each column handed back so far
        for name, kind in spec.items():
            dtype: np.dtype = np.dtype(np.int16)  # category codes
            if isinstance(kind, list | tuple):
                self.categories[name] = list(kind)
            else:
                dtype = np.dtype(kind)  # type: ignore[arg-type]  # a dtype or a scalar type here
            self.columns[name] = np.memmap(
                folder / f"{name}.bin", dtype=dtype, mode="w+", shape=(self._capacity,)
            )

    def _grow(self) -> None:
        raise RuntimeError("a spilled table is laid out for every arrival up front")

    def lay_out(self, stop: int) -> None:
        """Rows up to ``stop`` become missing cells (before their arrivals are written)."""
        for column in self.columns.values():
            column[self._laid_out : stop] = _missing(column.dtype)
        self._laid_out = max(self._laid_out, stop)

    def release(self, below: int) -> None:
        """Hand the pages of rows before ``below`` back to the kernel (kept on disk)."""
        if _DONTNEED is None:
            return
        for name, column in self.columns.items():
            end = below * column.dtype.itemsize // mmap.PAGESIZE * mmap.PAGESIZE
            start = self._released.get(name, 0)
            if end > start:
                column._mmap.madvise(_DONTNEED, start, end - start)  # type: ignore[attr-defined]
                self._released[name] = end

    def read(self, name: str, start: int, stop: int) -> np.ndarray:
        """A copy of rows ``[start, stop)`` of a column (in RAM; the pages read go back)."""
        column = self.columns[name]
        values = np.array(column[start:stop])
        if _DONTNEED is not None:
            size = column.dtype.itemsize
            lo = start * size // mmap.PAGESIZE * mmap.PAGESIZE
            hi = stop * size // mmap.PAGESIZE * mmap.PAGESIZE
            if hi > lo:
                column._mmap.madvise(_DONTNEED, lo, hi - lo)  # type: ignore[attr-defined]
        return values

    def close(self) -> None:
        """Unmap the columns and delete the spill folder."""
        for column in self.columns.values():
            mapping = getattr(column, "_mmap", None)
            if mapping is not None:
                with contextlib.suppress(BufferError):  # a view still exported: unmapped later
                    mapping.close()
        self.columns = {}
        shutil.rmtree(self.folder, ignore_errors=True)


def spill_table(spec: Mapping[str, ColumnKind], capacity: int) -> SpillTable:
    """A :class:`SpillTable` in a new private folder under the temporary directory
    (``TMPDIR``; on a tmpfs it is RAM after all: point ``TMPDIR`` at a disk). The folder is
    deleted when the table is closed or garbage-collected, and at interpreter exit."""
    folder = Path(tempfile.mkdtemp(prefix="splitsim-records-"))
    try:
        table = SpillTable(spec, capacity, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    weakref.finalize(table, shutil.rmtree, folder, ignore_errors=True)
    return table


def lay_out_block(table: Table, block: ArrivalBlock) -> None:
    """Write a block's arrival times and devices into its rows (missing cells first, on a
    spilled table, whose rows before the previous block's go back to the kernel; an
    in-memory table starts all missing)."""
    if isinstance(table, SpillTable):
        table.release(table.block_start)
        table.block_start = block.start
        table.lay_out(block.stop)
    table.columns["t_arrival"][block.start : block.stop] = block.times
    table.columns["device"][block.start : block.stop] = block.devices


class RecordStore:
    """A streamed run's request records: its spilled table and the frame builder.

    ``builder(cols)`` turns equally long column arrays (a range of rows) into the request
    frame of those rows (:class:`sim.collect.FrameBuilder`).
    """

    def __init__(self, table: SpillTable, builder: Any) -> None:
        self.table = table
        self.builder = builder

    @property
    def n(self) -> int:
        """Requests recorded [rows]."""
        return self.table.n

    def columns(self, start: int, stop: int) -> dict[str, np.ndarray]:
        """Copies of every column's rows ``[start, stop)``."""
        return {name: self.table.read(name, start, stop) for name in self.table.columns}

    def chunks(self, rows: int | None = None) -> Iterator[tuple[int, int]]:
        n, rows = self.n, rows or CHUNK_ROWS
        for start in range(0, n, rows):
            yield start, min(n, start + rows)

    def frames(self, rows: int | None = None):
        """The request frame, a chunk of rows at a time (categories fixed for the run)."""
        for start, stop in self.chunks(rows):
            yield self.builder.frame(self.columns(start, stop))

    def frame(self):
        """Every record as one DataFrame (in RAM: what the in-memory path holds)."""
        return self.builder.frame(self.columns(0, self.n))

    def close(self) -> None:
        self.table.close()


def exit_streams(run) -> list[np.random.Generator | None] | None:
    """Per device of ``run``, the Generator of its exit draws (None for a device whose
    plans have no exits); None when no plan has exits. The streams and amounts of
    :func:`sim.exits.draws.exit_draws` (the test oracle), drawn a block at a time."""
    scenario = run.scenario
    wanted = {
        group.index
        for group in scenario.groups
        if any(
            getattr(p, "exits", None) is not None
            for p in scenario.factory(group.spec.name, run.strategy).plans
        )
    }
    if not wanted:
        return None
    return [
        run.streams(f"exits/{scenario.groups[d.group].spec.name}/{d.index_in_group}")
        if d.group in wanted
        else None
        for d in run.devices
    ]
