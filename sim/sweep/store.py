"""A sweep's output folder: Parquet datasets partitioned by run id, written atomically.

Layout::

    OUT/sweep.json                         the sweep: scenario, spec, points, seeds, runs
    OUT/runs.parquet                       one row per run: run_id, point, replication, seed, params
    OUT/<table>/run_id=<id>/part-0.parquet one partition per run and table
                                           (summary, run_info, requests, devices, servers, ...)
    OUT/aggregate.parquet, aggregate.csv   mean and t-interval per point, strategy, metric
    OUT/plots/*.png

Every file is written to a hidden temporary name in its final folder, flushed
to disk and renamed into place, so a reader sees a whole file or none. Each
partition holds exactly one file with a fixed name, so a run written twice
(a resumed sweep redoing a run whose summary never landed) replaces itself
and is never duplicated. The summary is written last: a run is complete
exactly when ``summary/run_id=<id>/part-0.parquet`` exists. Hidden files are
ignored by Parquet readers and removed when a sweep starts.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.errors import SimInputError
from sim.sweep.worker import COMMIT_TABLE, RunOutput, parquet_bytes

PART = "part-0.parquet"
MANIFEST = "sweep.json"
RUNS = "runs.parquet"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a hidden temporary file and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:12]}")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class SweepStore:
    """The output folder of a sweep (see the module docstring for the layout)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def partition(self, table: str, run_id: str) -> Path:
        return self.root / table / f"run_id={run_id}" / PART

    def completed(self, tables: Sequence[str] = (COMMIT_TABLE,)) -> set[str]:
        """Ids of the runs stored with every one of ``tables`` (default: their summary)."""
        done: set[str] | None = None
        for table in tables:
            folder = self.root / table
            ids = (
                {
                    p.name.partition("=")[2]
                    for p in folder.iterdir()
                    if p.name.startswith("run_id=") and (p / PART).is_file()
                }
                if folder.is_dir()
                else set()
            )
            done = ids if done is None else done & ids
        return done or set()

    def clean_temporary(self) -> int:
        """Remove temporary files a killed sweep left behind; returns how many."""
        if not self.root.is_dir():
            return 0
        removed = 0
        for pattern in (".*.tmp-*", "*/.*.tmp-*", "*/run_id=*/.*.tmp-*"):
            for tmp in self.root.glob(pattern):
                if tmp.is_file():
                    tmp.unlink(missing_ok=True)
                    removed += 1
        return removed

    def check_usable(self) -> None:
        """Refuse a folder that exists, holds files and is not a sweep's (``--out .`` by mistake)."""
        if self.root.exists() and not self.root.is_dir():
            raise SimInputError("sweep output exists and is not a folder", file=self.root)
        if (
            self.root.is_dir()
            and not (self.root / MANIFEST).is_file()
            and any(p.name != "plots" and not p.name.startswith(".") for p in self.root.iterdir())
        ):
            raise SimInputError(
                f"output folder holds other files and no {MANIFEST}",
                file=self.root,
                allowed="a new or empty folder, or one a sweep wrote",
            )

    def write_run(self, output: RunOutput) -> None:
        """Store a finished run's tables, the summary last (the commit)."""
        names = [n for n in output.tables if n != COMMIT_TABLE]
        for name in [*names, COMMIT_TABLE]:
            atomic_write_bytes(self.partition(name, output.run_id), output.tables[name])

    def write_manifest(self, manifest: dict[str, Any], runs: pd.DataFrame) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        text = json.dumps(manifest, indent=2, default=str) + "\n"
        atomic_write_bytes(self.root / MANIFEST, text.encode("utf-8"))
        atomic_write_bytes(self.root / RUNS, parquet_bytes(runs))

    def read_manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"{self.root} holds no sweep ({MANIFEST} is missing)")
        return json.loads(path.read_text())

    def read_runs(self) -> pd.DataFrame:
        return pd.read_parquet(self.root / RUNS)

    def tables(self) -> list[str]:
        """Names of the per-run tables present."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and any(q.name.startswith("run_id=") for q in p.iterdir())
        )

    def read_table(self, table: str, run_ids: Iterable[str] | None = None) -> pd.DataFrame:
        """One table across runs, with a leading ``run_id`` column (only stored runs).

        Schemas are unified across partitions (a column missing in one run is
        null there), so runs whose tables differ slightly still read together.
        """
        folder = self.root / table
        if run_ids is None:
            ids = sorted(
                p.name.partition("=")[2] for p in folder.glob("run_id=*") if (p / PART).is_file()
            )
        else:
            ids = [r for r in run_ids if self.partition(table, r).is_file()]
        pieces = []
        for rid in ids:
            piece = pq.read_table(self.partition(table, rid))
            column = pa.array([rid] * piece.num_rows, pa.string())
            pieces.append(piece.add_column(0, "run_id", column))
        if not pieces:
            return pd.DataFrame({"run_id": pd.Series([], dtype=str)})
        combined = pa.concat_tables(pieces, promote_options="permissive")
        return combined.to_pandas()

    def write_frame(self, name: str, frame: pd.DataFrame, *, csv: bool = False) -> Path:
        """Write a whole-sweep table (``<name>.parquet``, and ``.csv`` if asked) atomically."""
        path = self.root / f"{name}.parquet"
        atomic_write_bytes(path, parquet_bytes(frame))
        if csv:
            atomic_write_bytes(self.root / f"{name}.csv", frame.to_csv(index=False).encode("utf-8"))
        return path
