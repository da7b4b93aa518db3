"""No per-slot events: the event count per request does not grow with the channel's grid.

The physical uplink is generated on a grid of ``step_s``; the engine integrates it
(capacity.py) instead of stepping it, so refining the grid tenfold must leave the
number of SimPy events per request (benchmarks/run.py's figure) about unchanged.
A per-slot implementation would multiply it by ~10.
"""

from __future__ import annotations

import pytest

from benchmarks.mm1_reference import mm1_run
from benchmarks.run import _requests_per_second


@pytest.mark.parametrize("strategy", ["offload", "bottlefit_c12"])
def test_events_per_request_do_not_depend_on_the_channel_grid(strategy):
    common = ["duration_s=12", "warmup_s=1"]
    _, n_coarse, coarse = _requests_per_second([*common, "cells.enb.uplink.step_s=0.01"], strategy)
    _, n_fine, fine = _requests_per_second([*common, "cells.enb.uplink.step_s=0.001"], strategy)
    assert n_coarse == n_fine == 30 * 5 * 12  # the same arrivals; only the channel grid differs
    # Arrival, server arrival, batch and shared-cell timers, plus the background tenant's jobs:
    # a handful per request, whatever the grid.
    assert coarse < 12
    assert fine == pytest.approx(coarse, rel=0.15)


def test_mm1_reference_is_an_mm1():
    """The yardstick the speed figures are divided by models M/M/1: its mean wait matches
    rho / (mu - lambda) (= 1 s at rho = 0.5, mu = 1/s) within a 99 % batch-means interval."""
    speed, waits = mm1_run(40_000, rho=0.5, seed=3)
    assert speed > 0 and waits.shape == (40_000,)
    batches = waits[4_000:].reshape(20, -1).mean(axis=1)  # first 10 % dropped as warm-up
    half = 2.861 * batches.std(ddof=1) / 20**0.5  # t(0.995, 19 df)
    assert abs(batches.mean() - 1.0) < half
