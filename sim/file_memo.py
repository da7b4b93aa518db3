"""Values computed from a file, memoised on the file's content (profiles, traces).

Planning a sweep resolves the scenario once per point, and every point used to re-parse
the same profile YAML and re-read the same trace file (~5 ms a profile, ~170 ms for the
mahimahi LTE trace). A :class:`ContentMemo` answers those repeats from memory.

Never stale: every lookup reads the file and hashes the bytes it read (SHA-256, ~1 ms per
MB), so an edited file is a new key whatever the file system's mtime resolution, and an
entry is the value computed from exactly those bytes (it is stored only if the file still
hashes the same after the computation). A failed computation is not stored. Values must
be immutable (frozen models and dataclasses, read-only arrays): every caller shares them.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Generic, TypeVar

T = TypeVar("T")


def file_digest(path: Path, max_bytes: int) -> bytes | None:
    """SHA-256 of the file's bytes; None when it is larger than ``max_bytes`` or unreadable
    (the caller's plain load then says why, with its own message)."""
    try:
        if path.stat().st_size > max_bytes:
            return None
        return hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        return None


class ContentMemo(Generic[T]):
    """At most ``max_entries`` values by (path, file digest, ``options``), least recently
    used dropped first; ``max_bytes``: larger files are not memoised."""

    def __init__(self, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str, bytes, Hashable], T] = OrderedDict()

    def get(self, path: str | Path, options: Hashable, compute: Callable[[], T]) -> T:
        """The value ``compute()`` gives for the file's current content and ``options``."""
        path = Path(path)
        digest = file_digest(path, self.max_bytes)
        try:
            hash(options)
        except TypeError:
            digest = None
        if digest is None:
            return compute()
        # The path as spelt (and the folder it is relative to): values may quote it.
        key = (os.getcwd(), str(path), digest, options)
        if key in self._entries:
            self._entries.move_to_end(key)
            return self._entries[key]
        value = compute()
        if file_digest(path, self.max_bytes) == digest:  # unchanged while it was computed
            self._entries[key] = value
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
