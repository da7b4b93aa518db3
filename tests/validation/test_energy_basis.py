"""One energy basis, both views (issue 12, docs/energy.md).

* The per-request energies (above idle) plus every board's idle draw over the window
  reconcile with devices.parquet's metered whole-board energy, for every strategy of the
  default scenario (within 1 %).
* Each figure stays inside its physical bounds.
* A request's radio tail is charged up to the next transfer or the window's end, so the
  steady-state energy per inference does not depend on the run's length (several seeds,
  a t-interval of the difference).
* Radio power models are used only inside their fitted rate range: above it the rate term
  is capped (no 45 W LTE modems at 100 Mbit/s) and the run warns.
"""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy import stats

import sim
from sim.channel.link import RadioMeter, Window
from sim.channel.radio import RADIO_PRESETS
from sim.collect import RadioRangeWarning
from sim.metrics import ENERGY_BASES
from sim.output import write_results
from tests.conftest import REPO, toy_scenario
from tests.policies.conftest import one_device

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture(scope="module")
def default_run():
    return sim.run(sim.load(REPO / "scenarios" / "congested_lte.yaml"))


def test_energy_per_inference_times_inferences_is_the_metered_device_energy(default_run):
    summary = default_run.summary.set_index("strategy")
    devices = default_run.devices
    assert len(summary) == 3
    for strategy, row in summary.iterrows():
        dev = devices[devices["strategy"] == strategy]
        metered = dev["e_total_j"].sum()
        above = metered - dev["e_board_idle_j"].sum()
        n = row["inferences"]
        assert n == row["completed"] + row["completed_late"]
        assert row["energy_whole_board_per_inference_j"] * n == pytest.approx(metered, rel=0.01)
        # Above idle: the same joules differ (the requests straddling the window's edges),
        # a larger share of a smaller total (1.03 % for offload on the default scenario).
        assert row["energy_above_idle_per_inference_j"] * n == pytest.approx(above, rel=0.015)
        # The board's idle draw is the same for every strategy (same window, same boards).
        idle_w = dev["board_idle_w"].to_numpy()
        assert dev["e_board_idle_j"].to_numpy() == pytest.approx(idle_w * dev["window_s"])


def test_energy_figures_respect_their_bounds(default_run):
    summary = default_run.summary.set_index("strategy")
    scenario = sim.load(REPO / "scenarios" / "congested_lte.yaml")
    device = scenario.groups[0].device
    idle_w, compute_w = device.power.idle_w.value, device.power.compute_w.value
    radio = RADIO_PRESETS["lte"]
    radio_max_w = max(radio.transfer_power_w(math.inf), radio.promotion_w, radio.tail_w)
    for _, row in summary.iterrows():
        assert idle_w - 1e-9 <= row["device_power_whole_board_w"]
        assert row["device_power_whole_board_w"] <= compute_w + radio_max_w + 1e-9
        assert 0.0 <= row["device_power_above_idle_w"] <= compute_w - idle_w + radio_max_w
        assert row["energy_above_idle_per_inference_j"] >= 0.0
        assert row["energy_whole_board_per_inference_j"] > row["energy_above_idle_per_inference_j"]
        parts = (
            row["energy_above_idle_compute_per_inference_j"]
            + row["energy_above_idle_radio_per_inference_j"]
        )
        assert parts == pytest.approx(row["energy_above_idle_per_inference_j"], rel=1e-12)
    # Local computing is charged the board's compute power above idle, nothing else.
    local = summary.loc["local"]
    assert local["device_power_whole_board_w"] == pytest.approx(compute_w)  # never idle
    assert local["energy_above_idle_radio_per_inference_j"] == 0.0
    req = default_run.requests
    assert (req["e_compute_j"] >= 0).all() and (req["e_radio_j"] >= 0).all()


def test_tail_is_charged_up_to_the_window_end():
    """Hand calculation: a transfer ending 3 s before the window's end, nothing after it."""
    charged: dict[int, float] = {}
    meter = RadioMeter(
        RADIO_PRESETS["lte"],
        Window(0.0, 10.0),
        lambda row, j: charged.__setitem__(row, charged.get(row, 0.0) + j),
    )
    meter.begin(6.0)
    meter.end(0, 6.2601, 7.0, 1e6)
    meter.close()
    assert charged[0] == pytest.approx(1.060 * 3.0)
    assert meter.energy_j["radio_tail"] == pytest.approx(1.060 * 3.0)
    # A transfer that ends after the window is charged no tail.
    meter.begin(20.0)
    meter.end(1, 20.2601, 21.0, 1e6)
    meter.close()
    assert charged[1] == 0.0


def _bottlefit_cell(duration_s: float):
    """BottleFit reproduction cell: one Jetson Nano, DenseNet-201, LTE at 5 Mbit/s, Poisson
    arrivals at 1 Hz (random gaps: the tails differ request by request)."""
    scenario = sim.load(
        REPO / "scenarios" / "bottlefit_jetson_lte.yaml",
        [
            "devices.0.model=densenet201",
            "cells.0.uplink.rate_bps=5.0e6",
            "devices.0.workload={kind: poisson, rate_hz: 1.0}",
            f"duration_s={duration_s}",
        ],
    )
    return scenario


def test_doubling_the_run_leaves_energy_per_inference_unchanged():
    seeds = range(1, 31)
    figures = {}
    for duration in (32.0, 64.0):
        scenario = _bottlefit_cell(duration)
        per_seed = []
        for seed in seeds:
            summary = sim.run(scenario, ["bottlefit_c12"], seed=seed).summary
            per_seed.append(float(summary["energy_above_idle_per_inference_j"].iloc[0]))
        figures[duration] = np.asarray(per_seed)
    short, long = figures[32.0], figures[64.0]
    diff = long.mean() - short.mean()
    se = math.sqrt(short.var(ddof=1) / short.size + long.var(ddof=1) / long.size)
    half = stats.t.ppf(0.975, short.size + long.size - 2) * se
    assert abs(diff) <= half, (diff, half)
    # The interval is narrow enough to see the old error: charging the last request its whole
    # 11.6 s LTE tail (12.3 J) adds ~12.3 J / 30 requests to the 32 s runs, half that to the
    # 64 s ones.
    old_bias = 1.060 * 11.576 * (1 / 30 - 1 / 62)
    assert half < old_bias / 2


def test_radio_power_is_capped_at_the_top_of_its_fitted_range():
    lte = RADIO_PRESETS["lte"]
    top = lte.fitted_max_mbps
    assert top is not None
    cap_w = lte.tx_base_w + lte.tx_w_per_mbps * top
    # Huang's line at 100 Mbit/s would be 45 W; the model stops at its range's top.
    assert lte.tx_base_w + lte.tx_w_per_mbps * 100 > 40.0
    assert lte.transfer_power_w(100e6) == pytest.approx(cap_w)
    assert lte.transfer_energy_j(1.0, 100e6) == pytest.approx(cap_w)
    # Inside the range: Huang's beta d + alpha_u B exactly.
    assert lte.transfer_energy_j(2.0, 8e6) == pytest.approx(2 * lte.tx_base_w + 8 * 0.43839)
    for name, model in RADIO_PRESETS.items():
        if name != "none":
            assert model.fitted_max_mbps is not None and model.fitted_max_mbps > 0, name
            assert model.transfer_power_w(1e12) <= 7.0, name  # watts, not tens of watts


def test_a_run_above_the_range_is_capped_and_warned():
    """A 100 Mbit/s constant LTE link: each transfer's power is the capped closed form."""
    times = [0.5, 20.5, 40.5]  # 20 s apart: each transfer is promoted and its tail runs out
    scenario = one_device(
        uplink={"kind": "constant", "rate_bps": 100e6},
        times_s=times,
        compare=["offload"],
        radio="lte",
        duration_s=60.0,
    )
    with pytest.warns(RadioRangeWarning, match="faster than their radio power model"):
        results = sim.run(scenario)
    req = results.requests.sort_values("t_arrival")
    lte = RADIO_PRESETS["lte"]
    air = (req["t_uplink_end"] - req["t_tx_start"]).to_numpy()
    # The result comes back on the downlink (constant downlink_bps): the tail while the server
    # works, the reception (beta d + alpha_d B, capped too), then the whole tail.
    cell = scenario.groups[0].cell
    rx_bits = 8.0 * scenario.groups[0].spec.result_bytes
    rx_s = rx_bits / cell.downlink_bps
    quiet = (req["t_done"] - rx_s - req["t_uplink_end"]).to_numpy()
    expected = (
        lte.promotion_w * lte.promotion_s
        + air * lte.transfer_power_w(100e6)
        + lte.tail_w * quiet
        + lte.receive_energy_j(rx_s, rx_bits)
        + lte.tail_w * lte.tail_s
    )
    assert req["e_radio_j"].to_numpy() == pytest.approx(expected, rel=1e-9)
    assert int(results.devices["radio_transfers_above_range"].sum()) == 3


def test_a_run_at_the_top_of_the_range_is_not_warned():
    """At exactly the fitted range's top (10 Mbit/s) bits/duration rounds a hair above it."""
    scenario = one_device(
        uplink={"kind": "constant", "rate_bps": RADIO_PRESETS["lte"].fitted_max_bps},
        times_s=[0.5, 20.5, 40.5],
        compare=["offload"],
        radio="lte",
        duration_s=60.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", RadioRangeWarning)
        results = sim.run(scenario)
    assert int(results.devices["radio_transfers_above_range"].sum()) == 0


def test_summary_json_names_its_energy_bases(tmp_path):
    results = sim.run(toy_scenario())
    write_results(results, tmp_path / "out", plots=False)
    meta = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert meta["energy_bases"] == ENERGY_BASES
    assert set(ENERGY_BASES) == {"whole_board", "above_idle"}
    row = meta["summary"][0]
    for basis in ENERGY_BASES:
        assert f"energy_{basis}_per_inference_j" in row
    assert not any(k == "energy_per_inference_j" for k in row)  # no unnamed basis left
