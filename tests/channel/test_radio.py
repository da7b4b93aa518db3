"""Radio power states (Huang et al. MobiSys'12): promotion, transfer, one- and two-stage tails."""

from __future__ import annotations

import pytest

import sim
from sim.channel.link import RadioMeter, Window
from sim.channel.radio import RADIO_PRESETS
from tests.conftest import toy_scenario


def _meter(kind: str):
    charged: dict[int, float] = {}

    def charge(row: int, joules: float) -> None:
        charged[row] = charged.get(row, 0.0) + joules

    return RadioMeter(RADIO_PRESETS[kind], Window(0.0, 1000.0), charge), charged


def test_3g_two_stage_tail():
    meter, charged = _meter("3g")
    assert meter.begin(0.0) == pytest.approx((0.582, 0.659 * 0.582))
    meter.end(0, 0.582, 1.582, 1e6)  # 1 s, 1 Mbit: 0.81788 + 0.86898 J
    assert meter.energy_j["radio_tx"] == pytest.approx(0.81788 + 0.86898)
    # Next transfer in the FACH stage (8.5 s later): no promotion; DCH tail + 0.4 s of FACH.
    assert meter.begin(1.582 + 8.5) == (0.0, 0.0)
    assert charged[0] == pytest.approx(0.804 * 8.1 + 0.601 * 0.4)
    meter.end(1, 10.082, 10.582, 0.0)
    meter.close()  # the last tail runs in full
    assert charged[1] == pytest.approx(0.804 * 8.1 + 0.601 * 0.824)
    # After the whole tail (8.924 s) a new transfer is promoted again.
    assert meter.begin(10.582 + 9.0)[0] == pytest.approx(0.582)


def test_lte_tail_cut_short_and_wifi_presets():
    meter, charged = _meter("lte")
    meter.begin(0.0)
    meter.end(0, 0.2601, 0.3601, 0.5e6)
    assert meter.begin(5.3601) == (0.0, 0.0)
    assert charged[0] == pytest.approx(1.060 * 5.0)
    wifi = RADIO_PRESETS["wifi"]
    assert wifi.tail_s == pytest.approx(0.238) and wifi.tx_w_per_mbps == pytest.approx(0.28317)
    assert RADIO_PRESETS["nr"].tx_base_w == pytest.approx(1.3 * 1.28804)


def test_lauridsen_term_raises_radio_energy_in_a_run():
    uplink = {
        "kind": "physical",
        "position_m": [600.0, 0.0],
        "los": "nlos",
        "link": {"power_control": {"p0_dbm": -80.0, "alpha": 1.0}},
    }
    base = toy_scenario(cells__0__uplink=uplink, cells__0__radio="lte")
    plain = sim.run(base).requests["e_radio_j"].sum()
    radio = dict(RADIO_PRESETS["lte"].model_dump(), tx_rf="lauridsen2014")
    with_rf = (
        sim.run(toy_scenario(cells__0__uplink=uplink, cells__0__radio=radio))
        .requests["e_radio_j"]
        .sum()
    )
    assert with_rf > plain
