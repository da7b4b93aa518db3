"""How samples leave a chain of exits: the interface, and the nested rule of PORTEND.

Exits are numbered 0..n-1 in the order a sample meets them; index n is the
final classifier. At confidence threshold ``c`` a sample leaves at the first
exit whose confidence is >= ``c`` (top-1 softmax confidence, or 1 - normalised
entropy for PORTEND's tables); ``c`` >= 1 means no exit fires.

``decide(threshold, u, seq)`` maps a request's uniform ``u`` (from its device's
named stream ``exits/<group>/<k>``, position = the request's index on that
device, so every strategy sees the same draw: common random numbers) and its
sequence number ``seq`` to (exit index, expected accuracy of that request).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

from sim.exits.table import ExitCurve


class ExitBehaviour(ABC):
    """Where samples leave, for a plan's exits ``names`` (the final is implicit)."""

    names: tuple[str, ...]
    label: str

    @abstractmethod
    def shares(self, threshold: float) -> np.ndarray:
        """Probability of leaving at each exit and at the final, shape (n + 1,), sum 1."""

    @abstractmethod
    def accuracies(self, threshold: float) -> np.ndarray:
        """Expected top-1 of the samples leaving at each exit and the final, shape (n + 1,)."""

    @abstractmethod
    def decide(self, threshold: float, u: float, seq: int) -> tuple[int, float]:
        """(exit index, n for the final; the request's expected accuracy)."""

    def expected_accuracy(self, threshold: float) -> float:
        """Sum over exits of share x accuracy (exits nobody takes contribute 0)."""
        shares = self.shares(threshold)
        accs = np.nan_to_num(self.accuracies(threshold), nan=0.0)
        return float(np.dot(shares, accs))


class NestedExits(ExitBehaviour):
    """PORTEND's rule (Ebrahimi et al., ICPADS 2023, §II-C): exits are nested.

    A sample that would leave at exit j also would at every later exit, so with
    ER_k(c) the share that exit k alone would let go, the share leaving at k is
    E_k = ER*_k - ER*_{k-1} with ER*_k = max_{j<=k} ER_j (the running maximum keeps
    it a distribution if a table is not monotone in depth) and the final takes
    1 - ER*_{n-1}. One uniform per request: it leaves at the first k with
    u < ER*_k, so an "easy" sample (small u) leaves early at every threshold. Its
    expected accuracy is the exit's accuracy for the samples it lets go, A_k(c)
    (PORTEND uses this unconditional figure; conditioning on not having left
    earlier would lower it). ``accuracy_scale`` multiplies exit accuracies
    (clipped to 1): 1 keeps the table's absolute figures, final_top1 / table_final
    carries them over to another network as ratios.

    The samples that reach the final classifier (``rule``):

    * ``portend``: the model's top-1, as PORTEND §II-C. The easy samples have left, so
      this overstates the final's accuracy: overall accuracy can exceed the model's
      top-1 by several points (ResNet-152 at c = 0.8 with the B0 table: 86 % vs 78 %).
    * ``conserving`` (default): the final would have been right on a sample that left
      at exit k with probability max(A_k, top-1) (easy samples are at least as easy
      for the final), so the samples left for it score
      (top-1 - sum_k E_k max(A_k, top-1)) / E_final, floored at 0. Overall accuracy is
      then top-1 - sum_k E_k max(0, top-1 - A_k) <= top-1: exits only lose, and only
      where they are less accurate than the model.
    """

    def __init__(
        self,
        names: Sequence[str],
        curves: Sequence[ExitCurve],
        final_accuracy: float,
        label: str,
        accuracy_scale: float = 1.0,
        rule: str = "conserving",
    ) -> None:
        self.names = tuple(names)
        self.curves = tuple(curves)
        self.final_accuracy = float(final_accuracy)
        self.label = label
        self.accuracy_scale = float(accuracy_scale)
        if rule not in ("conserving", "portend"):
            raise ValueError(f"unknown accuracy rule {rule!r}")
        self.rule = rule
        self._cache: dict[float, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def _at(self, threshold: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        hit = self._cache.get(threshold)
        if hit is None:
            if threshold >= 1.0:
                marginal = np.zeros(len(self.curves))
            else:
                marginal = np.array([c.share(threshold) for c in self.curves])
            cumulative = np.maximum.accumulate(marginal) if marginal.size else marginal
            shares = np.diff(np.concatenate([[0.0], cumulative, [1.0]]))
            exit_accs = [min(1.0, c.accuracy(threshold) * self.accuracy_scale) for c in self.curves]
            final = self.final_accuracy
            if self.rule == "conserving" and shares[-1] > 0:
                given = sum(e * max(a, final) for e, a in zip(shares[:-1], exit_accs, strict=True))
                final = float(np.clip((final - given) / shares[-1], 0.0, 1.0))
            accs = np.array([*exit_accs, final])
            hit = self._cache[threshold] = (cumulative, shares, accs)
        return hit

    def shares(self, threshold: float) -> np.ndarray:
        return self._at(threshold)[1].copy()

    def accuracies(self, threshold: float) -> np.ndarray:
        return self._at(threshold)[2].copy()

    def decide(self, threshold: float, u: float, seq: int) -> tuple[int, float]:
        cumulative, _, accs = self._at(threshold)
        index = int(np.searchsorted(cumulative, u, side="right"))
        return index, float(accs[index])
