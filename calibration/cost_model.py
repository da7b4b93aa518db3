"""Per-device cost model of DNN inference time, fitted to whole-model latencies.

    time = sum_k MACs_k / throughput_k + bytes moved / bandwidth + operators * overhead

``k`` runs over layer kinds (dense convolution, grouped/depthwise convolution,
matrix multiply); the work counts come from :mod:`calibration.opcount`. A kind
gets its own throughput only when at least :data:`MIN_SUPPORT` of the models in
the fit spend :data:`MIN_SHARE` of their MACs in it; otherwise its MACs join the
dense-convolution term (one throughput for all MACs). The inverse rates are
fitted by non-negative least squares on relative error, so a 20 ms and a 500 ms
model weigh the same. The fit error is reported per model, and so is the
leave-one-model-out error: refit without the model, then predict it.

The fitted model spreads a board's measured whole-model time over the natural
blocks (:func:`spread`): each block gets the share the model predicts for it.
Needs numpy and scipy (host side).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import nnls

from calibration.opcount import KINDS, OpWork

MIN_SUPPORT = 3
"""Models needed for a layer kind to get its own throughput."""
MIN_SHARE = 0.05
"""Share of a model's MACs that counts as support for its layer kind."""


def choose_columns(works: Sequence[OpWork]) -> tuple[str, ...]:
    """Feature columns for a fit on ``works``: MAC kinds with support, then bytes and operators."""
    columns = ["macs_conv"]
    for kind in KINDS[1:]:
        support = sum(
            1 for w in works if w.total_macs > 0 and w.macs[kind] / w.total_macs >= MIN_SHARE
        )
        if support >= MIN_SUPPORT:
            columns.append(f"macs_{kind}")
    return (*columns, "bytes", "n_ops")


def features(work: OpWork, columns: Sequence[str]) -> np.ndarray:
    """The work of ``work`` in ``columns``; MAC kinds without a column join ``macs_conv``."""
    own = {c[len("macs_") :] for c in columns if c.startswith("macs_")}
    values = []
    for column in columns:
        if column == "macs_conv":
            values.append(sum(v for k, v in work.macs.items() if k == "conv" or k not in own))
        elif column.startswith("macs_"):
            values.append(work.macs[column[len("macs_") :]])
        elif column == "bytes":
            values.append(work.bytes_moved)
        else:
            values.append(float(work.n_ops))
    return np.asarray(values, dtype=float)


@dataclass(frozen=True)
class CostModel:
    """Fitted seconds per unit of each feature column."""

    columns: tuple[str, ...]
    seconds_per_unit: tuple[float, ...]

    def predict_s(self, work: OpWork) -> float:
        """Predicted time [s] of ``work``."""
        return float(features(work, self.columns) @ np.asarray(self.seconds_per_unit))

    def describe(self) -> dict[str, float]:
        """Rates in human units: GMAC/s per kind, GB/s, microseconds per operator (inf when unused)."""
        out: dict[str, float] = {}
        for column, coef in zip(self.columns, self.seconds_per_unit, strict=True):
            if column.startswith("macs_"):
                out[f"{column[5:]}_gmac_per_s"] = 1e-9 / coef if coef > 0 else float("inf")
            elif column == "bytes":
                out["bandwidth_gb_per_s"] = 1e-9 / coef if coef > 0 else float("inf")
            else:
                out["overhead_us_per_op"] = coef * 1e6
        return out


def fit(works: Mapping[str, OpWork], times_s: Mapping[str, float]) -> CostModel:
    """Non-negative least squares on relative error over the models in ``times_s``."""
    names = sorted(times_s)
    if not names:
        raise ValueError("no latencies to fit")
    columns = choose_columns([works[n] for n in names])
    design = np.stack([features(works[n], columns) / times_s[n] for n in names])
    scale = np.linalg.norm(design, axis=0)
    scale[scale == 0] = 1.0
    coef, _ = nnls(design / scale, np.ones(len(names)))
    return CostModel(columns, tuple(float(c) for c in coef / scale))


@dataclass
class FitReport:
    """Relative errors (predicted / observed - 1) in the fit and leaving each model out."""

    device: str
    model: CostModel
    fit_error: dict[str, float] = field(default_factory=dict)
    held_out_error: dict[str, float] = field(default_factory=dict)

    @staticmethod
    def _stats(errors: Mapping[str, float]) -> dict[str, float]:
        values = np.abs(np.asarray(list(errors.values()), dtype=float))
        if values.size == 0:
            return {"mean_abs": float("nan"), "max_abs": float("nan")}
        return {"mean_abs": float(values.mean()), "max_abs": float(values.max())}

    @property
    def fit_stats(self) -> dict[str, float]:
        return self._stats(self.fit_error)

    @property
    def held_out_stats(self) -> dict[str, float]:
        return self._stats(self.held_out_error)

    def as_dict(self) -> dict[str, object]:
        return {
            "device": self.device,
            "columns": list(self.model.columns),
            "rates": self.model.describe(),
            "fit_error": self.fit_error,
            "held_out_error": self.held_out_error,
            "fit_stats": self.fit_stats,
            "held_out_stats": self.held_out_stats,
        }


def evaluate(device: str, works: Mapping[str, OpWork], times_s: Mapping[str, float]) -> FitReport:
    """Fit on every model, then leave each model out in turn and predict it."""
    model = fit(works, times_s)
    report = FitReport(device, model)
    for name, observed in sorted(times_s.items()):
        report.fit_error[name] = model.predict_s(works[name]) / observed - 1.0
        if len(times_s) > 1:
            rest = {n: t for n, t in times_s.items() if n != name}
            held = fit(works, rest)
            report.held_out_error[name] = held.predict_s(works[name]) / observed - 1.0
    return report


def macs_range(works: Mapping[str, OpWork], names: Sequence[str]) -> tuple[float, float]:
    """(smallest, largest) whole-model MACs of the models a cost model was fitted on."""
    macs = [works[n].total_macs for n in names]
    return float(min(macs)), float(max(macs))


def range_note(work: OpWork, fitted: tuple[float, float]) -> str:
    """'' inside the fitted MAC range; else a note that the prediction extrapolates.

    The cost model is only trusted for whole networks of a size it was fitted on; a
    prediction outside that range is kept (there is nothing better) but labelled, and
    the builder warns.
    """
    lo, hi = fitted
    macs = work.total_macs
    if lo <= macs <= hi:
        return ""
    return (
        f"EXTRAPOLATED: {macs / 1e9:.2f} GMAC lies outside the fitted range "
        f"{lo / 1e9:.2f}-{hi / 1e9:.2f} GMAC"
    )


def spread(
    total_s: float, block_works: Sequence[tuple[str, OpWork]], model: CostModel
) -> dict[str, float]:
    """Split a measured whole-model time [s] over blocks in proportion to the model's predictions.

    If the model predicts zero for every block, the split falls back to MAC shares.
    """
    predicted = np.asarray([model.predict_s(w) for _, w in block_works])
    if predicted.sum() <= 0:
        predicted = np.asarray([w.total_macs for _, w in block_works], dtype=float)
    shares = predicted / predicted.sum()
    return {
        name: float(total_s * share) for (name, _), share in zip(block_works, shares, strict=True)
    }


def fit_block_law(block_times: Sequence[tuple[float, float]]) -> tuple[float, float]:
    """(overhead per block [s], throughput [MAC/s]) of t = overhead + MACs / throughput.

    Least squares on relative error, both terms non-negative: this is the simple
    law of the simulator's ``cost_model`` section, fitted to a richer model's
    per-block predictions ``(macs, seconds)``.
    """
    macs = np.asarray([m for m, _ in block_times], dtype=float)
    secs = np.asarray([t for _, t in block_times], dtype=float)
    design = np.stack([np.ones_like(macs), macs], axis=1) / secs[:, None]
    scale = np.linalg.norm(design, axis=0)
    scale[scale == 0] = 1.0
    coef, _ = nnls(design / scale, np.ones(len(secs)))
    overhead, per_mac = coef / scale
    if per_mac <= 0:
        raise ValueError("the fit gave no MAC term; cannot express it as a throughput")
    return float(overhead), float(1.0 / per_mac)
