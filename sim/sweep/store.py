"""A sweep's output folder: Parquet datasets partitioned by run id, written atomically.

Layout::

    OUT/sweep.json                         the sweep: scenario, spec, points, seeds, runs
    OUT/runs.parquet                       one row per run: run_id, point, replication, seed, params
    OUT/<table>/run_id=<id>/part-0.parquet one partition per run and table
                                           (summary, run_info, requests, devices, servers, ...)
    OUT/aggregate.parquet, aggregate.csv   mean and t-interval per point, strategy, metric
    OUT/plots/*.png

    OUT/_runs/<id>.json                    the run's manifest: per table, bytes, rows, BLAKE2b

Every file is written to a hidden temporary name in its final folder, flushed
to disk and renamed into place, so a reader sees a whole file or none. Each
partition holds exactly one file with a fixed name, so a run written twice
(a resumed sweep redoing a run whose files never all landed) replaces itself
and is never duplicated. The run's manifest is written last (the commit): a
run is complete only when its manifest exists and every file it lists
verifies (size, row count in the Parquet footer, checksum); anything else is
recomputed on resume. Hidden and ``_`` files are ignored by Parquet readers;
hidden temporary files are removed when a sweep starts.

A folder holds one sweep: a sweep whose runs do not include every run stored
there (another scenario, another spec) is refused, so reading
``OUT/summary`` never mixes two sweeps. Resuming, or extending a sweep with
more points or replications, is allowed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.atomic_io import atomic_write_bytes
from sim.errors import SimInputError
from sim.sweep.worker import COMMIT_TABLE, RunOutput, parquet_bytes

PART = "part-0.parquet"
MANIFEST = "sweep.json"
RUNS = "runs.parquet"
RUN_MANIFESTS = "_runs"
RUN_MANIFEST_FORMAT = "splitsim-sweep-run/1"


def _checksum(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _file_checksum(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SweepStore:
    """The output folder of a sweep (see the module docstring for the layout)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self._good: set[tuple[str, int, int]] = set()  # (file, size, mtime) verified whole

    def partition(self, table: str, run_id: str) -> Path:
        return self.root / table / f"run_id={run_id}" / PART

    def run_manifest(self, run_id: str) -> Path:
        return self.root / RUN_MANIFESTS / f"{run_id}.json"

    def _verified(self, run_id: str) -> dict[str, Any] | None:
        """The run's manifest if every file it lists is whole, else None."""
        path = self.run_manifest(run_id)
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            for table, entry in manifest["tables"].items():
                part = self.partition(table, run_id)
                stat = part.stat()
                key = (str(part), stat.st_size, stat.st_mtime_ns)
                if key in self._good:
                    continue
                if stat.st_size != entry["bytes"]:
                    return None
                if pq.read_metadata(part).num_rows != entry["rows"]:
                    return None
                if _file_checksum(part) != entry["blake2b"]:
                    return None
                self._good.add(key)
        except (OSError, ValueError, KeyError, TypeError, pa.ArrowException):
            return None
        return manifest

    def completed(self, tables: Sequence[str] = (COMMIT_TABLE,)) -> set[str]:
        """Ids of the runs stored whole with every one of ``tables`` (default: their summary).

        Whole means: the run's manifest exists and each file it lists has its recorded
        size, row count (Parquet footer) and checksum. An empty, truncated or altered
        partition, or one without a manifest, does not count (a resume recomputes it).
        """
        folder = self.root / RUN_MANIFESTS
        if not folder.is_dir():
            return set()
        done: set[str] = set()
        for path in folder.glob("*.json"):
            manifest = self._verified(path.stem)
            if manifest is not None and all(t in manifest["tables"] for t in tables):
                done.add(path.stem)
        return done

    def stored_ids(self) -> set[str]:
        """Ids of every run with anything in the folder (whole or not)."""
        ids: set[str] = set()
        if not self.root.is_dir():
            return ids
        for table in self.root.iterdir():
            if table.is_dir() and not table.name.startswith((".", "_")):
                ids |= {
                    p.name.partition("=")[2]
                    for p in table.iterdir()
                    if p.name.startswith("run_id=")
                }
        folder = self.root / RUN_MANIFESTS
        if folder.is_dir():
            ids |= {p.stem for p in folder.glob("*.json")}
        return ids

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

    def check_usable(self, run_ids: Iterable[str] | None = None) -> None:
        """Refuse a place that is not a sweep folder (``--out .`` or a user's folder by
        mistake), and, given the planned ``run_ids``, a folder holding another sweep's runs."""
        from sim.output_target import check_place

        allowed = "a new or empty folder, or one this sweep wrote (to resume or extend it)"
        if self.root.is_symlink() and self.root.is_dir():
            pass  # a link to a scratch folder: the sweep only adds files inside it
        else:
            check_place(self.root, what="sweep output", allowed=allowed)
        if (
            self.root.is_dir()
            and not (self.root / MANIFEST).is_file()
            and any(
                p.name != "plots" and not p.name.startswith((".", "_")) for p in self.root.iterdir()
            )
        ):
            raise SimInputError(
                f"output folder holds other files and no {MANIFEST}; nothing was changed",
                file=self.root,
                allowed=allowed,
            )
        if run_ids is None or not (self.root / MANIFEST).is_file():
            return
        foreign = self.stored_ids() - set(run_ids)
        if foreign:
            try:
                old = self.read_manifest()
                what = f"scenario '{old.get('scenario')}', {len(old.get('runs', []))} runs"
            except (OSError, ValueError):
                what = "an unreadable sweep.json"
            raise SimInputError(
                f"output folder holds another sweep ({what}; {len(foreign)} stored runs are "
                "not in this sweep); nothing was changed",
                file=self.root,
                allowed="another --out for this sweep, or the same sweep (same scenario and "
                "spec, or more points or replications) to resume or extend it",
            )

    def write_run(self, output: RunOutput) -> None:
        """Store a finished run's tables, then its manifest (the commit).

        A run written again (its earlier files did not verify) first loses its manifest
        and any partition the new output does not replace."""
        self.run_manifest(output.run_id).unlink(missing_ok=True)
        if self.root.is_dir():
            for table in self.root.iterdir():
                if (
                    table.is_dir()
                    and table.name not in output.tables
                    and not table.name.startswith((".", "_"))
                ):
                    (table / f"run_id={output.run_id}" / PART).unlink(missing_ok=True)
        names = [n for n in output.tables if n != COMMIT_TABLE]
        entries = {}
        for name in [*names, COMMIT_TABLE]:
            data = output.tables[name]
            atomic_write_bytes(self.partition(name, output.run_id), data)
            rows = pq.read_metadata(pa.BufferReader(data)).num_rows
            entries[name] = {"bytes": len(data), "rows": rows, "blake2b": _checksum(data)}
        manifest = {"format": RUN_MANIFEST_FORMAT, "run_id": output.run_id, "tables": entries}
        atomic_write_bytes(
            self.run_manifest(output.run_id), (json.dumps(manifest, indent=1) + "\n").encode()
        )

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
        """One table across runs, with a leading ``run_id`` column (only runs stored whole).

        Schemas are unified across partitions (a column missing in one run is
        null there), so runs whose tables differ slightly still read together.
        """
        whole = self.completed((table,))
        if run_ids is None:
            ids = sorted(whole)
        else:
            ids = [r for r in run_ids if r in whole]
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
