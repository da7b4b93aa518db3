"""Edge-server service time S(b) and board power P(b) versus batch size b.

Eager-mode GPU inference is launch-bound at small batches: S(b) is nearly flat
up to a knee, then grows linearly (../shared/calibration/README.md,
"Observations"). We fit the hinge

    S(b) = fixed_s + per_item_s * max(0, b - knee_batch)

to the measured medians by least absolute relative deviation, which smooths the
noisy, non-monotone single points the README warns about (e.g. DenseNet-201's
server side at batch 16 and 32) instead of following them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True, slots=True)
class HingeFit:
    """S(b) = fixed_s + per_item_s * max(0, b - knee_batch) [s per batch]."""

    fixed_s: float
    per_item_s: float
    knee_batch: float
    median_abs_relative_error: float
    rms_relative_error: float

    def __call__(self, batch: int) -> float:
        return self.fixed_s + self.per_item_s * max(0.0, batch - self.knee_batch)


def _l1_fit(design: np.ndarray, target: np.ndarray, iterations: int = 25) -> np.ndarray:
    """Least absolute deviations by iteratively reweighted least squares."""
    weights = np.ones_like(target)
    coef = np.zeros(design.shape[1])
    for _ in range(iterations):
        w = np.sqrt(weights)
        coef, *_ = np.linalg.lstsq(design * w[:, None], target * w, rcond=None)
        residual = np.abs(design @ coef - target)
        weights = 1.0 / np.maximum(residual, 1e-6)
    return coef


def fit_hinge(batches: list[int] | np.ndarray, seconds: list[float] | np.ndarray) -> HingeFit:
    """Robust hinge fit: least absolute *relative* deviation, so single outliers do not pull.

    One point gives a flat curve. The knee is searched over the measured batch sizes and a
    log-spaced grid between them.

    Memoised on the measured values themselves: a fit takes ~50 ms (1,500 small least-squares
    solves) and every point of a sweep refits the same curves. The key is the exact input
    (as floats, which is all the fit reads), so a cached fit is the fit of these numbers,
    never of an older profile; :func:`fit_hinge_uncached` is the plain path.
    """
    b = np.asarray(batches, dtype=float)
    s = np.asarray(seconds, dtype=float)
    if b.ndim != 1 or b.shape != s.shape:
        return fit_hinge_uncached(b, s)  # odd shapes: the plain path, errors and all
    return _fit_hinge_memo(tuple(b.tolist()), tuple(s.tolist()))


@lru_cache(maxsize=1024)
def _fit_hinge_memo(batches: tuple[float, ...], seconds: tuple[float, ...]) -> HingeFit:
    return fit_hinge_uncached(batches, seconds)


def clear_fit_cache() -> None:
    """Forget the memoised hinge fits."""
    _fit_hinge_memo.cache_clear()


def fit_hinge_uncached(
    batches: list[int] | tuple[float, ...] | np.ndarray,
    seconds: list[float] | tuple[float, ...] | np.ndarray,
) -> HingeFit:
    """:func:`fit_hinge` without its memo (the reference the memo is tested against)."""
    b = np.asarray(batches, dtype=float)
    s = np.asarray(seconds, dtype=float)
    order = np.argsort(b)
    b, s = b[order], s[order]
    if len(b) == 1:
        return HingeFit(float(s[0]), 0.0, float(b[0]), 0.0, 0.0)
    best: tuple[float, HingeFit] | None = None
    for knee in np.unique(np.concatenate([np.geomspace(1.0, b.max(), 60), b])):
        excess = np.maximum(0.0, b - knee)
        design = np.column_stack([np.ones_like(b), excess]) / s[:, None]
        fixed, slope = (float(c) for c in _l1_fit(design, np.ones_like(s)))
        if slope < 0 or fixed <= 0:
            slope, fixed = 0.0, float(np.median(s))
        relative = (fixed + slope * excess) / s - 1.0
        loss = float(np.sum(np.abs(relative)))
        if best is None or loss < best[0] - 1e-12:
            best = (
                loss,
                HingeFit(
                    fixed,
                    slope,
                    float(knee),
                    float(np.median(np.abs(relative))),
                    float(np.sqrt(np.mean(relative**2))),
                ),
            )
    assert best is not None
    return best[1]


@dataclass(frozen=True, slots=True)
class PowerCurve:
    """Board power [W] versus batch size, linear in log2(b), clamped at the ends."""

    batches: tuple[int, ...]
    watts: tuple[float, ...]

    def __call__(self, batch: int) -> float:
        if len(self.batches) == 1:
            return self.watts[0]
        x = math.log2(max(batch, 1))
        xs = [math.log2(v) for v in self.batches]
        return float(np.interp(x, xs, self.watts))


@dataclass(frozen=True, slots=True)
class ServiceModel:
    """What a server needs to serve one model part: S(b), P(b), and where they came from."""

    part: str
    time_fit: HingeFit
    scale: float
    power: PowerCurve
    provenance: str
    source: str

    def service_s(self, batch: int) -> float:
        return self.scale * self.time_fit(batch)

    def power_w(self, batch: int) -> float:
        return self.power(batch)
