"""Statistics helpers for the channel validation tests: replications and confidence intervals."""

from __future__ import annotations

import numpy as np
from scipy import stats


def confidence_interval(samples, level: float = 0.999) -> tuple[float, float]:
    """Student-t interval for the mean of independent replications."""
    x = np.asarray(samples, dtype=float)
    half = stats.t.ppf(0.5 + level / 2, df=x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


def assert_covers(samples, expected: float, level: float = 0.999, slack: float = 0.0) -> None:
    """The replications' confidence interval (widened by ``slack``) contains ``expected``."""
    low, high = confidence_interval(samples, level)
    assert low - slack <= expected <= high + slack, (expected, (low, high), np.mean(samples))
