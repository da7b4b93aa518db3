"""Per-sample replay of a user's confidence file: correlation between exits is exact.

The file is a CSV with a header. For each exit ``E`` of the model it has
``E.confidence`` (the exit's confidence for that sample, in [0, 1]: top-1
softmax, or whatever the user's exit rule compares with the threshold) and
``E.correct`` (1 if the exit's top-1 is right, else 0); ``final.correct`` is
the final classifier's. One row per sample, e.g. from running the model with
its heads over a validation set. A request replays one row: with ``order:
sequential`` request number ``seq`` of its device replays row ``seq mod N``,
with ``order: random`` the row ``floor(u x N)``. It leaves at the first exit
with confidence >= the threshold; its accuracy is that exit's 0/1 correctness.
Columns for exits the plan does not use are ignored.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from sim.errors import SimInputError, list_choices
from sim.exits.behaviour import ExitBehaviour

MAX_ROWS = 5_000_000


def _read(path: Path) -> tuple[tuple[str, ...], np.ndarray]:
    """(header, values as float array (rows, columns)); read again only if the file changed."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise SimInputError("confidence file not found", file=path) from None
    return _read_version(path, stat.st_mtime_ns, stat.st_size)


@cache
def _read_version(path: Path, _mtime_ns: int, _size: int) -> tuple[tuple[str, ...], np.ndarray]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = tuple(h.strip() for h in next(reader, []))
            rows = []
            for i, row in enumerate(reader, start=2):
                if not row or all(not cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise SimInputError(
                        f"line {i} has {len(row)} fields, the header {len(header)}",
                        file=path,
                        allowed="one value per header column",
                    )
                try:
                    values = [float(cell) for cell in row]
                except ValueError:
                    raise SimInputError(
                        f"line {i} has a value that is not a number", file=path, value=row
                    ) from None
                rows.append(values)
                if len(rows) > MAX_ROWS:
                    raise SimInputError("too many samples", file=path, allowed=f"<= {MAX_ROWS:,}")
    except FileNotFoundError:
        raise SimInputError("confidence file not found", file=path) from None
    if not header or not rows:
        raise SimInputError("confidence file has no header or no samples", file=path)
    return header, np.array(rows, dtype=float)


class ReplayExits(ExitBehaviour):
    """Exits decided by replaying per-sample confidence vectors."""

    def __init__(
        self, path: Path, names: Sequence[str], order: str = "random", *, key: str = ""
    ) -> None:
        self.path = path
        self.names = tuple(names)
        self.order = order
        self.label = f"replay of {path.name}"
        header, values = _read(path)
        needed = [f"{n}.confidence" for n in self.names]
        needed += [f"{n}.correct" for n in self.names] + ["final.correct"]
        for column in needed:
            if column not in header:
                raise SimInputError(
                    "confidence file lacks a column",
                    file=path,
                    key=key,
                    value=column,
                    allowed="columns " + list_choices(needed, limit=30),
                )
        col = {name: i for i, name in enumerate(header)}
        self.confidence = values[:, [col[f"{n}.confidence"] for n in self.names]].reshape(
            values.shape[0], len(self.names)
        )
        self.correct = values[:, [col[f"{n}.correct"] for n in [*self.names, "final"]]]
        bad = ~((self.confidence >= 0.0) & (self.confidence <= 1.0))
        if bad.any():
            r, c = np.argwhere(bad)[0]
            raise SimInputError(
                f"confidence outside [0, 1] in sample {r + 1}",
                file=path,
                key=needed[c],
                value=float(self.confidence[r, c]),
                allowed="0 <= confidence <= 1",
            )
        if not np.isin(self.correct, (0.0, 1.0)).all():
            r, c = np.argwhere(~np.isin(self.correct, (0.0, 1.0)))[0]
            raise SimInputError(
                f"correct must be 0 or 1 (sample {r + 1})",
                file=path,
                key=[*self.names, "final"][c] + ".correct",
                value=float(self.correct[r, c]),
                allowed="0 or 1",
            )
        self.samples = values.shape[0]
        self._cache: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def exit_of_samples(self, threshold: float) -> np.ndarray:
        """Exit index of every sample at ``threshold`` (n for the final)."""
        n = len(self.names)
        if threshold >= 1.0 or n == 0:
            return np.full(self.samples, n, dtype=np.int64)
        fires = self.confidence >= threshold
        first = np.argmax(fires, axis=1)
        return np.where(fires.any(axis=1), first, n)

    def _at(self, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hit = self._cache.get(threshold)
        if hit is None:
            n = len(self.names)
            exits = self.exit_of_samples(threshold)
            shares = np.bincount(exits, minlength=n + 1) / self.samples
            accs = np.full(n + 1, math.nan)
            for k in range(n + 1):
                taken = exits == k
                if taken.any():
                    accs[k] = float(self.correct[taken, k].mean())
            hit = self._cache[threshold] = (exits, shares, accs)
        return hit

    def shares(self, threshold: float) -> np.ndarray:
        return self._at(threshold)[1].copy()

    def accuracies(self, threshold: float) -> np.ndarray:
        return self._at(threshold)[2].copy()

    def sample_of(self, u: float, seq: int) -> int:
        """The row a request replays."""
        if self.order == "sequential":
            return seq % self.samples
        return min(int(u * self.samples), self.samples - 1)

    def decide(self, threshold: float, u: float, seq: int) -> tuple[int, float]:
        exits = self._at(threshold)[0]
        row = self.sample_of(u, seq)
        index = int(exits[row])
        return index, float(self.correct[row, index])
