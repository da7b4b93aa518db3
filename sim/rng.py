"""Named random streams: one numpy Generator per component, derived from the run seed.

A stream's identity is (run seed, stable name). The name is hashed with BLAKE2b
(not Python's salted ``hash()``), so the same scenario and seed give the same
numbers in every process, and two strategies compared in one scenario draw the
same arrivals and channel from streams whose names do not mention the strategy
(common random numbers).
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_name_key(name: str) -> tuple[int, ...]:
    """Four 32-bit words from BLAKE2b of ``name``: a spawn key that never changes."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=16).digest()
    return tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))


def stream(seed: int, name: str) -> np.random.Generator:
    """The Generator for component ``name`` in a run seeded with ``seed``."""
    sequence = np.random.SeedSequence(entropy=int(seed), spawn_key=stable_name_key(name))
    return np.random.Generator(np.random.PCG64(sequence))


class RandomStreams:
    """Hands out one Generator per component name; asking twice gives the same object."""

    def __init__(self, seed: int) -> None:
        self.seed = int(seed)
        self._streams: dict[str, np.random.Generator] = {}

    def __call__(self, name: str) -> np.random.Generator:
        gen = self._streams.get(name)
        if gen is None:
            gen = stream(self.seed, name)
            self._streams[name] = gen
        return gen


def replication_seeds(base_seed: int, count: int) -> list[int]:
    """Explicit seeds for ``count`` replications, derived from ``base_seed``."""
    children = np.random.SeedSequence(int(base_seed)).spawn(count)
    return [int(child.generate_state(1, dtype=np.uint32)[0]) for child in children]
