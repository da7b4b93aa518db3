"""Confidence intervals, in one place: means, proportions, paired effects, and their caveats.

Every interval the simulator reports comes from here (sweep aggregates, per-run
summaries, the reproductions), so a reader checks one module:

* :func:`t_interval`: Student-t interval of a mean of independent replications,
  ``t_{(1+level)/2, n-1} * s / sqrt(n)``. Replications that are all equal are
  flagged ``zero_variance`` and get a half-width of exactly 0 (not the 1e-17 of
  floating-point round-off): the model gave the same value under every seed.
* :func:`wilson_interval`, :func:`clopper_pearson_interval`: one run's proportion
  ``k / n`` (scipy's :func:`scipy.stats.binomtest`); they treat the ``n`` trials as
  independent, which requests of one run are not (they share queues and channel
  states), hence :func:`batch_proportion_interval` for per-run summaries.
* :func:`proportion_interval`: a proportion across replications (or batches),
  the Korn & Graubard (1998) interval. Why this one: the replications' own
  spread gives the variance of the pooled proportion (requests within a run
  are correlated, so the binomial variance is wrong), and mapping that
  variance to an *effective* number of trials ``n_eff = p(1-p)/var`` lets the
  exact Clopper-Pearson interval do the rest, so the interval stays inside
  [0, 1] and is not degenerate at p = 0 or 1 (a t-interval of three miss rates
  0.52 ± 0.76 reaches below 0 and above 1). ``n_eff`` is capped at the
  number of trials (a design effect below 1 is not credited) and scaled by
  (z / t_{R-1})^2 for the few replications the variance comes from. A logit-t
  interval was the alternative; it cannot take replications at exactly 0 or 1
  without an arbitrary continuity correction and it estimates the median of
  the replications, not the pooled rate. Source: E. L. Korn, B. I. Graubard,
  "Confidence intervals for proportions with small expected number of positive
  counts estimated from survey data", Survey Methodology 24(2):193-201, 1998.
  The same interval serves means of per-request values in [0, 1] (expected
  accuracy): no variable in [0, 1] with mean p has a variance above p(1 - p),
  so the cap keeps it conservative.
* :func:`paired_interval`: the difference of two strategies replication by
  replication. Strategies in one scenario see the same arrivals and channel
  under one seed (common random numbers), so the paired interval is the
  honest (and much narrower) one for an effect.
* :func:`warn_if_wider_than_effect`: an interval wider than the effect it is
  meant to show says the sign of the effect is not resolved; it warns
  (:class:`IntervalWiderThanEffect`) and returns True.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

DEFAULT_LEVEL = 0.95

ZERO_VARIANCE_RTOL = 1e-12
"""Values whose spread is below this fraction of their magnitude are equal (round-off only)."""


class IntervalWiderThanEffect(UserWarning):
    """An interval's half-width exceeds the effect it is meant to show."""


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1) (got {level})")


def _clean(values: ArrayLike) -> np.ndarray:
    data = np.asarray(values, dtype=float).ravel()
    return data[~np.isnan(data)]


def all_equal(data: np.ndarray) -> bool:
    """True when the (finite) values differ by round-off only."""
    if data.size < 2:
        return False
    spread = float(data.max() - data.min())
    return spread <= ZERO_VARIANCE_RTOL * max(1.0, float(np.abs(data).max()))


def t_quantile(level: float, df: int) -> float:
    """Two-sided Student-t quantile t_{(1+level)/2, df}."""
    from scipy import stats  # here, not at the top: scipy.stats takes ~0.4 s to import

    _check_level(level)
    return float(stats.t.ppf(0.5 + level / 2, df))


def t_interval(
    values: ArrayLike,
    level: float = DEFAULT_LEVEL,
    *,
    bounds: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """n, mean, std, half-width and bounds of the Student-t interval of ``values`` (NaNs dropped).

    ``zero_variance`` is True when every value is equal (half-width exactly 0);
    with one value the half-width is NaN. ``bounds`` (the metric's range, e.g.
    (0, inf)) clips ``ci_low``/``ci_high``, and ``clipped`` says so.
    """
    _check_level(level)
    data = _clean(values)
    n = int(data.size)
    mean = float(data.mean()) if n else math.nan
    zero = all_equal(data)
    if zero:
        mean, std, half = float(data[0]), 0.0, 0.0
    elif n > 1:
        std = float(data.std(ddof=1))
        half = t_quantile(level, n - 1) * std / math.sqrt(n)
    else:
        std = half = math.nan
    low, high = mean - half, mean + half
    clipped = False
    if bounds is not None and not math.isnan(half):
        lo_b, hi_b = bounds
        clipped = bool(low < lo_b or high > hi_b)
        low, high = max(low, lo_b), min(high, hi_b)
    return {
        "n": n,
        "mean": mean,
        "std": std,
        "half_width": half,
        "ci_low": low,
        "ci_high": high,
        "zero_variance": zero,
        "clipped": clipped,
        "method": "t",
    }


def batch_means_interval(
    values: ArrayLike, batches: int = 10, level: float = DEFAULT_LEVEL
) -> tuple[float, float]:
    """(mean, half-width) of a t-interval over ``batches`` consecutive batch means of one run.

    Batch means make the interval honest for correlated observations of one run
    (consecutive requests share queues and channel states). Fewer than
    ``2 * batches`` values: half-width NaN. The last ``size % batches`` values
    count in the mean but not in the batches.
    """
    data = np.asarray(values, dtype=float)
    if data.size < 2 * batches:
        return (float(data.mean()) if data.size else math.nan), math.nan
    usable = data[: data.size - data.size % batches]
    means = usable.reshape(batches, -1).mean(axis=1)
    return float(data.mean()), float(t_interval(means, level)["half_width"])


def wilson_interval(k: int, n: int, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Wilson score interval of the proportion ``k / n`` (independent trials)."""
    from scipy import stats

    _check_level(level)
    if n <= 0:
        return math.nan, math.nan
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return float(ci.low), float(ci.high)


def clopper_pearson_interval(k: int, n: int, level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Exact (Clopper-Pearson) interval of the proportion ``k / n`` (independent trials)."""
    from scipy import stats

    _check_level(level)
    if n <= 0:
        return math.nan, math.nan
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def _beta_cp(successes: float, trials: float, level: float) -> tuple[float, float]:
    """Clopper-Pearson bounds for real-valued (effective) successes and trials."""
    from scipy import stats

    alpha = 1.0 - level
    low = (
        0.0
        if successes <= 0
        else float(stats.beta.ppf(alpha / 2, successes, trials - successes + 1))
    )
    high = (
        1.0
        if successes >= trials
        else float(stats.beta.ppf(1 - alpha / 2, successes + 1, trials - successes))
    )
    return low, high


def proportion_interval(
    successes: ArrayLike,
    trials: ArrayLike,
    level: float = DEFAULT_LEVEL,
) -> dict[str, Any]:
    """Korn-Graubard interval of the pooled proportion sum(successes) / sum(trials).

    One entry per replication (or batch): ``successes`` may be real (e.g. summed
    expected accuracy), ``trials`` > 0. Entries with no trials or NaN are
    dropped. Returns the keys of :func:`t_interval` (``mean`` is the pooled
    proportion, ``std`` the between-replication standard deviation of the
    proportions) plus ``n_eff`` (the effective trials after the degrees-of-freedom
    scaling). One replication gives the Clopper-Pearson interval of its trials.
    """
    from scipy import stats

    _check_level(level)
    k = np.asarray(successes, dtype=float).ravel()
    m = np.asarray(trials, dtype=float).ravel()
    if k.shape != m.shape:
        raise ValueError(f"successes and trials differ in length ({k.size} vs {m.size})")
    keep = ~(np.isnan(k) | np.isnan(m)) & (m > 0)
    k, m = k[keep], m[keep]
    if np.any(k < -1e-9) or np.any(k > m * (1 + 1e-12) + 1e-9):
        raise ValueError("successes must lie in [0, trials]")
    k = np.clip(k, 0.0, m)
    reps = int(k.size)
    nan_row: dict[str, Any] = {
        "n": reps,
        "mean": math.nan,
        "std": math.nan,
        "half_width": math.nan,
        "ci_low": math.nan,
        "ci_high": math.nan,
        "zero_variance": False,
        "clipped": False,
        "method": "korn-graubard",
        "n_eff": math.nan,
    }
    if reps == 0:
        return nan_row
    total = float(m.sum())
    pooled = float(k.sum() / total)
    props = k / m
    zero = all_equal(props)
    if reps == 1 or zero:
        variance = 0.0
    else:
        weights = m / (total / reps)
        variance = float(np.sum(weights**2 * (props - pooled) ** 2) / (reps * (reps - 1)))
    binomial = pooled * (1 - pooled)
    n_eff = total if variance <= 0 or binomial <= 0 else min(total, binomial / variance)
    if reps > 1:
        z = float(stats.norm.ppf(0.5 + level / 2))
        n_eff *= (z / t_quantile(level, reps - 1)) ** 2
    low, high = _beta_cp(pooled * n_eff, n_eff, level)
    return {
        **nan_row,
        "mean": pooled,
        "std": 0.0 if zero else (float(props.std(ddof=1)) if reps > 1 else math.nan),
        "half_width": max(pooled - low, high - pooled),
        "ci_low": low,
        "ci_high": high,
        "zero_variance": zero,
        "n_eff": n_eff,
    }


def batch_proportion_interval(
    outcomes: ArrayLike, batches: int = 10, level: float = DEFAULT_LEVEL
) -> tuple[float, float]:
    """(low, high) of one run's proportion from 0/1 ``outcomes`` in time order.

    Consecutive batches are the clusters of :func:`proportion_interval` (as batch
    means are for a mean): correlated misses widen it. Fewer than ``2 * batches``
    outcomes: the Wilson interval of all of them, the best one run can give.
    """
    data = np.asarray(outcomes, dtype=float)
    if data.size == 0:
        return math.nan, math.nan
    if data.size < 2 * batches:
        return wilson_interval(round(float(data.sum())), int(data.size), level)
    usable = data[: data.size - data.size % batches].reshape(batches, -1)
    ci = proportion_interval(usable.sum(axis=1), np.full(batches, usable.shape[1]), level)
    return float(ci["ci_low"]), float(ci["ci_high"])


def paired_interval(a: ArrayLike, b: ArrayLike, level: float = DEFAULT_LEVEL) -> dict[str, Any]:
    """t-interval of ``a - b`` replication by replication (pairs with a NaN are dropped)."""
    x = np.asarray(a, dtype=float).ravel()
    y = np.asarray(b, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"paired samples differ in length ({x.size} vs {y.size})")
    out = t_interval(x - y, level)
    out["method"] = "paired-t"
    return out


def warn_if_wider_than_effect(effect: float, half_width: float, what: str) -> bool:
    """Warn (and return True) when ``half_width`` exceeds ``|effect|``: its sign is not resolved."""
    if math.isnan(effect) or math.isnan(half_width) or half_width <= abs(effect):
        return False
    warnings.warn(
        f"{what}: interval half-width {half_width:.3g} is wider than the effect {effect:.3g}",
        IntervalWiderThanEffect,
        stacklevel=2,
    )
    return True


def position(value: float, low: float, high: float) -> str:
    """Where ``value`` lies against the interval [low, high]: 'inside', 'above' or 'below'."""
    if math.isnan(low) or math.isnan(high):
        return "no interval"
    if value > high:
        return "above"
    if value < low:
        return "below"
    return "inside"


def format_interval(
    mean: float,
    half_width: float,
    *,
    n: int | None = None,
    zero_variance: bool = False,
    low: float | None = None,
    high: float | None = None,
    fmt: str = "{:.4g}",
) -> str:
    """``mean ± half`` for symmetric intervals, ``mean [low, high]`` for bounded ones,
    ``mean (all n equal)`` for zero variance, the mean alone without an interval."""
    if math.isnan(mean):
        return "-"
    text = fmt.format(mean)
    if zero_variance:
        return f"{text} (all {n} equal)" if n else f"{text} (no spread)"
    if math.isnan(half_width):
        return text
    if (
        low is not None
        and high is not None
        and not math.isclose(mean - low, high - mean, rel_tol=1e-6, abs_tol=1e-15)
    ):
        return f"{text} [{fmt.format(low)}, {fmt.format(high)}]"
    return f"{text} ± {half_width:.2g}"
