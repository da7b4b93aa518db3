"""The channel scenarios run (shortened) and the capacity-with-transfers plot is written."""

from __future__ import annotations

import pytest

import sim
from sim.channel.physical import PhysicalUplink
from sim.report.channel_plot import capacity_steps, write_channel_plot
from tests.conftest import REPO


def test_congested_lte_uses_a_physical_erratic_channel(tmp_path):
    scenario = sim.load(
        REPO / "scenarios" / "congested_lte.yaml",
        ["duration_s=8", "devices.pi.count=6"],
        seed=2,
    )
    cell = scenario.spec.cells[0]
    assert isinstance(cell.uplink, PhysicalUplink) and cell.uplink.blockage is not None
    assert cell.errors is not None and cell.scheduler == "proportional_fair"
    results = sim.run(scenario, ["bottlefit_c12"])
    caps = results.runs["bottlefit_c12"].capacity.values()
    swings = [(r.min(), r.max()) for _, r in (capacity_steps(c, 2.0, 8.0) for c in caps)]
    assert sum(low < 0.5 * high for low, high in swings) >= 3  # erratic: fading and blockage
    assert write_channel_plot(results, tmp_path) == ["channel_capacity.png"]
    assert (tmp_path / "channel_capacity.png").stat().st_size > 5000


def test_trace_replay_scenario_replays_the_real_uplink(shared_traces, tmp_path):
    scenario = sim.load(REPO / "scenarios" / "lte_trace_replay.yaml", ["duration_s=15"], seed=1)
    trace = scenario.traces["att_lte"]
    assert "ATT-LTE-driving.up" in trace.source
    assert trace.mean_bps / 1e6 == pytest.approx(0.834, abs=0.01)
    results = sim.run(scenario, ["bottlefit_c3"])
    caps = results.runs["bottlefit_c3"].capacity
    # Each device replays the same trace from its own offset.
    assert len({round(c.bits_until(10.0)) for c in caps.values()}) == len(caps)
    out = results.write(tmp_path / "out", plots=True)
    assert (out / "plots" / "channel_capacity.png").is_file()
