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


class CounterStream:
    """Uniforms addressed by position: the numbers at position k never depend on what was read.

    A Philox counter-based generator (Salmon et al., SC 2011) under one key:
    counter word 0 is the position (a step or block index), word 1 the family
    (one per random quantity), so ``uniforms(family, k, n)`` returns the same
    numbers whether the positions before k were read, skipped or read in
    another order. A process driven by it is the same realisation however it is
    generated, which is what lets a capacity skip time and keep common random
    numbers across strategies.
    """

    LANES = 4  # uniforms per position (one Philox block of 4 x 64 bits)

    def __init__(self, key: np.ndarray) -> None:
        self._bits = np.random.Philox(key=np.asarray(key, dtype=np.uint64))
        self._generator = np.random.Generator(self._bits)
        self._state = self._bits.state

    @classmethod
    def from_generator(cls, rng: np.random.Generator) -> CounterStream:
        """A stream keyed by two 64-bit words drawn from ``rng``."""
        return cls(rng.integers(0, np.iinfo(np.uint64).max, size=2, dtype=np.uint64, endpoint=True))

    def uniforms(self, family: int, start: int, count: int) -> np.ndarray:
        """Uniforms in [0, 1) at positions ``start .. start + count - 1``, shape (count, 4)."""
        # Re-seating the counter through numpy's documented ``state`` dict (cheaper than a new
        # Philox per call): ``buffer_pos = LANES`` marks the 4-word buffer spent, exactly as
        # ``Philox(key=..., counter=...)`` starts, so these are that generator's first draws
        # (tests/test_workload_rng.py checks the two agree).
        state = self._state
        state["state"]["counter"] = np.array([start, family, 0, 0], dtype=np.uint64)
        state["buffer_pos"] = self.LANES
        self._bits.state = state
        return self._generator.random(self.LANES * count).reshape(count, self.LANES)
