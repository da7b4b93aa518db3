"""Published early-exit tables (proxies): exit share and accuracy versus confidence threshold.

A table lists exits of some network, each at a position (cumulative fraction of
the network's multiply-accumulates, ``flops_fraction``) with points
``c: [share, accuracy]``: at confidence threshold ``c`` a fraction ``share`` of
all samples would leave at that exit if it were the only one, and those
samples are ``accuracy`` top-1 correct. Between thresholds both are linear in
``c``; an exit of another network is placed by its own FLOP fraction and
interpolated linearly between the table's two neighbouring exits (clamped at
the ends). Shipped tables live in ``sim/exits/data/`` with their provenance;
none is SPINN's own (its per-exit figures are not public), so each carries a
label "SPINN-style (proxy figures from ...)".
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.errors import SimInputError, list_choices
from sim.file_memo import ContentMemo
from sim.validation import Probability, Provenance, Strict, validate_data
from sim.yamlio import MAX_FILE_BYTES, read_yaml

DATA_DIR = Path(__file__).parent / "data"


class TableExit(Strict):
    """One exit of a published table."""

    name: str = Field(min_length=1)
    flops_fraction: Probability
    points: dict[Probability, Annotated[list[Probability], Field(min_length=2, max_length=2)]] = (
        Field(min_length=2, description="confidence threshold -> [share, accuracy]")
    )

    @model_validator(mode="after")
    def _grid(self) -> TableExit:
        cs = sorted(self.points)
        if cs[0] != 0.0 or cs[-1] != 1.0:
            raise ValueError("points must include thresholds 0.0 (forced exit) and 1.0")
        shares = [self.points[c][0] for c in cs]
        if any(b > a + 1e-12 for a, b in itertools.pairwise(shares)):
            raise ValueError("the exit share must not grow with the threshold")
        if shares[0] != 1.0 or shares[-1] != 0.0:
            raise ValueError("share must be 1.0 at threshold 0.0 and 0.0 at threshold 1.0")
        return self


class ExitTableSpec(Strict):
    """A whole proxy table file (``schema: exit-table/1``)."""

    schema_id: Literal["exit-table/1"] = Field(alias="schema")
    name: str = Field(min_length=1)
    label: str = Field(min_length=1)
    provenance: Provenance
    source: str = Field(min_length=1)
    confidence: str = Field(min_length=1)
    correlation: Literal["nested"] = "nested"
    final_accuracy: Probability
    exits: list[TableExit] = Field(min_length=1)

    @model_validator(mode="after")
    def _order(self) -> ExitTableSpec:
        fractions = [e.flops_fraction for e in self.exits]
        if fractions != sorted(fractions):
            raise ValueError("exits must be listed in increasing flops_fraction")
        return self


@dataclass(frozen=True)
class ExitCurve:
    """Share and accuracy of one exit versus threshold ``c`` (grid ascending in ``c``)."""

    thresholds: np.ndarray
    shares: np.ndarray
    accuracies: np.ndarray

    @classmethod
    def from_points(cls, points: Mapping[float, Sequence[float]]) -> ExitCurve:
        cs = np.array(sorted(points), dtype=float)
        return cls(
            cs,
            np.array([points[c][0] for c in cs], dtype=float),
            np.array([points[c][1] for c in cs], dtype=float),
        )

    def share(self, threshold: float) -> float:
        """Fraction of samples whose confidence here is >= ``threshold``."""
        return float(np.interp(threshold, self.thresholds, self.shares))

    def accuracy(self, threshold: float) -> float:
        """Top-1 of the samples that leave here at ``threshold``."""
        return float(np.interp(threshold, self.thresholds, self.accuracies))


@dataclass(frozen=True)
class ExitTable:
    """A loaded proxy table."""

    spec: ExitTableSpec
    path: Path

    @property
    def label(self) -> str:
        return self.spec.label

    def curve_at(self, flops_fraction: float) -> ExitCurve:
        """The curve of an exit placed at ``flops_fraction`` of its own network's MACs.

        Linear in the FLOP fraction between the table's neighbouring exits, on a common
        threshold grid; clamped to the first or last exit outside their span.
        """
        exits = tuple(
            (e.flops_fraction, tuple((c, tuple(v)) for c, v in e.points.items()))
            for e in self.spec.exits
        )
        return _curve_at(exits, flops_fraction)


@lru_cache(maxsize=4096)
def _curve_at(
    table: tuple[tuple[float, tuple[tuple[float, tuple[float, ...]], ...]], ...],
    flops_fraction: float,
) -> ExitCurve:
    """:meth:`ExitTable.curve_at` of the exits ``table`` ((flops_fraction, points) each),
    memoised on those values: a sweep point's SPINN candidates ask for the same few
    hundred curves again (~12 ms a point); the shared arrays are read-only."""
    curves = [ExitCurve.from_points(dict(points)) for _, points in table]
    grid = np.array(sorted({c for _, points in table for c, _ in points}), dtype=float)
    xs = np.array([fraction for fraction, _ in table], dtype=float)
    shares = np.stack([np.interp(grid, c.thresholds, c.shares) for c in curves])
    accs = np.stack([np.interp(grid, c.thresholds, c.accuracies) for c in curves])
    x = float(np.clip(flops_fraction, xs[0], xs[-1]))
    share = np.array([np.interp(x, xs, shares[:, j]) for j in range(grid.size)])
    acc = np.array([np.interp(x, xs, accs[:, j]) for j in range(grid.size)])
    for array in (grid, share, acc):
        array.flags.writeable = False
    return ExitCurve(grid, share, acc)


def shipped_tables() -> list[str]:
    """Names of the proxy tables shipped in ``sim/exits/data``."""
    return sorted(p.stem for p in DATA_DIR.glob("*.yaml"))


EXIT_TABLES: ContentMemo[ExitTable] = ContentMemo(max_entries=64, max_bytes=MAX_FILE_BYTES)
"""Loaded tables by the file's content (sim/file_memo.py): an edited table file is read again
(a cache on the path alone kept a file's first version for the life of the process)."""


def _load(path: Path) -> ExitTable:
    return EXIT_TABLES.get(path, None, lambda: _read_table(path))


def _read_table(path: Path) -> ExitTable:
    doc = read_yaml(path)
    spec = validate_data(ExitTableSpec, doc.data, file=str(path), doc=doc)
    return ExitTable(spec, path)


def load_table(
    name_or_path: str, *, base_dir: Path | None = None, file: str | None = None, key: str = ""
) -> ExitTable:
    """A shipped table by name, or a user's table file (relative to ``base_dir``)."""
    shipped = DATA_DIR / f"{name_or_path}.yaml"
    if shipped.is_file():
        return _load(shipped)
    path = Path(name_or_path)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if path.suffix.lower() in (".yaml", ".yml") and path.is_file():
        return _load(path.resolve())
    raise SimInputError(
        "unknown exit table",
        file=file,
        key=key,
        value=name_or_path,
        allowed=list_choices(shipped_tables()) + " or a path to an exit-table/1 YAML file",
    )
