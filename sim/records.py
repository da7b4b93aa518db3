"""Column-wise record tables: processes write cells of preallocated numpy arrays.

One row per request (or batch, or background job). Columns grow by doubling,
so appending is amortised O(1) and memory stays a few bytes per cell; strings
are stored as small integer codes with their labels (pandas categoricals).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

ColumnKind = np.dtype | type | Sequence[str]
"""A column's dtype, or its category labels (stored as int16 codes)."""


class Table:
    """A growable set of equally long numpy columns.

    ``spec`` maps a column name to a dtype, or to a tuple of category labels
    (stored as int16 codes, -1 meaning missing).
    """

    def __init__(self, spec: Mapping[str, ColumnKind], capacity: int = 1024) -> None:
        self.spec = spec
        self.categories: dict[str, list[str]] = {}
        self.columns: dict[str, np.ndarray] = {}
        self.n = 0
        self._capacity = max(int(capacity), 16)
        for name, kind in spec.items():
            if isinstance(kind, list | tuple):
                self.categories[name] = list(kind)
                self.columns[name] = np.full(self._capacity, -1, dtype=np.int16)
            else:
                dtype = np.dtype(kind)  # type: ignore[arg-type]  # a dtype or a scalar type here
                fill = np.nan if dtype.kind == "f" else (-1 if dtype.kind in "iu" else 0)
                self.columns[name] = np.full(self._capacity, fill, dtype=dtype)

    def _grow(self) -> None:
        new_capacity = self._capacity * 2
        for name, column in self.columns.items():
            if column.dtype.kind == "f":
                fill = np.nan
            elif column.dtype.kind in "iu":
                fill = -1
            else:
                fill = 0
            grown = np.full(new_capacity, fill, dtype=column.dtype)
            grown[: self._capacity] = column
            self.columns[name] = grown
        self._capacity = new_capacity

    def new_row(self) -> int:
        """Index of a fresh row (all cells missing)."""
        if self.n == self._capacity:
            self._grow()
        self.n += 1
        return self.n - 1

    def code(self, column: str, label: str) -> int:
        """The integer code of ``label`` in a categorical column (added if new)."""
        labels = self.categories[column]
        try:
            return labels.index(label)
        except ValueError:
            labels.append(label)
            return len(labels) - 1

    def col(self, name: str) -> np.ndarray:
        """The backing array of a column (valid rows: ``[:n]``); re-fetch after growth."""
        return self.columns[name]

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame (categorical columns as pandas categoricals)."""
        import pandas as pd  # on first use: ~0.3 s to import, and ``import sim.api`` needs none

        data: dict[str, Any] = {}
        for name, column in self.columns.items():
            values = column[: self.n].copy()
            if name in self.categories:
                data[name] = (
                    pd.Categorical.from_codes(
                        values.astype(np.int64), categories=pd.Index(self.categories[name])
                    )
                    if len(self.categories[name])
                    else pd.Categorical([None] * self.n)
                )
            else:
                data[name] = values
        return pd.DataFrame(data)
