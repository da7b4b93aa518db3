"""No per-slot events: the event count per request does not grow with the channel's grid.

The physical uplink is generated on a grid of ``step_s``; the engine integrates it
(capacity.py) instead of stepping it, so refining the grid tenfold must leave the
number of SimPy events per request (benchmarks/run.py's figure) about unchanged.
A per-slot implementation would multiply it by ~10.
"""

from __future__ import annotations

import pytest

from benchmarks.mm1_reference import mm1_jobs_per_second
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


def test_mm1_reference_runs():
    assert mm1_jobs_per_second(2_000) > 0
