"""Edge-server service time S(b) and board power P(b) versus batch size b.

Eager-mode GPU inference is launch-bound at small batches: S(b) is nearly flat
up to a knee, then grows linearly (../shared/calibration/README.md,
"Observations"). We fit the hinge

    S(b) = fixed_s + per_item_s * max(0, b - knee_batch)

to the measured medians by least squares on the relative error, which smooths
the noisy, non-monotone single points the README warns about.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class HingeFit:
    """S(b) = fixed_s + per_item_s * max(0, b - knee_batch) [s per batch]."""

    fixed_s: float
    per_item_s: float
    knee_batch: float
    rms_relative_error: float

    def __call__(self, batch: int) -> float:
        return self.fixed_s + self.per_item_s * max(0.0, batch - self.knee_batch)


def fit_hinge(batches: list[int] | np.ndarray, seconds: list[float] | np.ndarray) -> HingeFit:
    """Least-squares hinge fit on relative error; one point gives a flat curve."""
    b = np.asarray(batches, dtype=float)
    s = np.asarray(seconds, dtype=float)
    order = np.argsort(b)
    b, s = b[order], s[order]
    weights = 1.0 / s
    if len(b) == 1:
        return HingeFit(float(s[0]), 0.0, float(b[0]), 0.0)
    best: HingeFit | None = None
    for knee in np.unique(np.concatenate([np.geomspace(1.0, b.max(), 400), b])):
        excess = np.maximum(0.0, b - knee)
        design = np.column_stack([np.ones_like(b), excess]) * weights[:, None]
        target = s * weights
        coef, *_ = np.linalg.lstsq(design, target, rcond=None)
        fixed, slope = float(coef[0]), float(coef[1])
        if slope < 0 or fixed <= 0:
            slope = 0.0
            fixed = float(np.sum(weights**2 * s) / np.sum(weights**2))
        pred = fixed + slope * excess
        rms = float(np.sqrt(np.mean(((pred - s) / s) ** 2)))
        if best is None or rms < best.rms_relative_error - 1e-12:
            best = HingeFit(fixed, slope, float(knee), rms)
    assert best is not None
    return best


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
