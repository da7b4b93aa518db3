"""The physical uplink: link budget, link adaptation, shadowing, LOS, mobility, handover."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.channel.capacity import PiecewiseCapacity
from sim.channel.mobility import Area, RandomWaypointMobility, make_trajectory
from sim.channel.pathloss import SCENARIOS, los_probability
from sim.channel.physical import PhysicalSource, PhysicalUplink
from sim.channel.placement import CorrelatedNormal as _CorrelatedNormal
from sim.channel.radio import RADIO_PRESETS, lauridsen_tx_rf_w
from sim.channel.ratemap import (
    LTE_CQI_EFFICIENCY,
    LTE_CQI_SINR_DB,
    cqi_index,
    truncated_shannon_efficiency,
    wifi_phy_rate_bps,
)
from tests.channel.helpers import assert_covers
from tests.conftest import toy_scenario


def _source(seed: int = 0, **fields) -> PhysicalSource:
    data = {"kind": "physical", "shadowing": False, "fading": {"kind": "none"}, **fields}
    return PhysicalSource(PhysicalUplink.model_validate(data), np.random.default_rng(seed))


def test_link_budget_and_lte_cqi_by_hand():
    # UMa LOS at 100 m, 3.5 GHz: PL = 83.138 dB (test_pathloss). 10 MHz LTE: 50 PRBs,
    # noise = -174 + 10 log10(50 * 180 kHz) + 5 = -99.458 dBm; SNR = 23 - 83.138 + 99.458
    # = 39.3 dB -> CQI 15, 5.5547 bit/RE x 50 PRB x 168000 RE/s x (1 - 0.25) = 34.993 Mbit/s.
    _, rates = _source(position_m=[100.0, 0.0], carrier_ghz=3.5, los="los").chunk_rates()
    assert np.all(rates == pytest.approx(5.5547 * 50 * 168_000 * 0.75))
    # NLOS at 100 m: 13.54 + 39.08 log10(102.724) + 20 log10(3.5) = 103.045 dB -> SNR 19.4 dB
    # -> CQI 13 (18.7 <= SNR < 21.0): 4.5234 bit/RE.
    _, rates = _source(position_m=[100.0, 0.0], carrier_ghz=3.5, los="nlos").chunk_rates()
    assert np.all(rates == pytest.approx(4.5234 * 50 * 168_000 * 0.75))


def test_rate_mappings():
    # LTE CQI (TS 36.213 Table 7.2.3-1) with the ~10 % BLER thresholds of channels.md §B.5.
    assert cqi_index([-7.0, -6.7, 0.2, 8.0, 8.1, 22.7, 40.0], LTE_CQI_SINR_DB).tolist() == [
        0,
        1,
        4,
        7,
        8,
        15,
        15,
    ]
    assert LTE_CQI_EFFICIENCY[8 - 1] == 1.9141
    # TR 36.942 UL: alpha 0.4, floor -10 dB, cap 2.0 bit/s/Hz: 10 dB -> 0.4 log2(11) = 1.3838.
    eff = truncated_shannon_efficiency(np.array([-11.0, 10.0, 40.0]))
    assert eff == pytest.approx([0.0, 0.4 * np.log2(11.0), 2.0])
    # 802.11ac, 20 MHz, LGI: -70 dBm meets MCS 4 (39 Mbit/s); 40 MHz shifts sensitivity by 3 dB.
    assert wifi_phy_rate_bps(-70.0) == pytest.approx(39e6)
    assert wifi_phy_rate_bps(-70.0, width_mhz=40) == pytest.approx(54e6)  # MCS 3 at 40 MHz
    assert wifi_phy_rate_bps(-90.0) == 0.0
    assert wifi_phy_rate_bps(-40.0, 80, short_gi=True, spatial_streams=2) == pytest.approx(866.6e6)


def test_static_shadowing_is_constant_and_has_the_table_sigma():
    sigma = SCENARIOS["uma"].shadow_std_nlos_db
    first = []
    for seed in range(300):
        src = _source(seed, position_m=[200.0, 0.0], los="nlos", shadowing=True)
        _, rates = src.chunk_rates()
        assert np.all(rates == rates[0])  # a static device keeps its shadowing
        first.append(float(src.shadow_nlos.values[0, 0]) * sigma)
    assert_covers(np.array(first) ** 2, sigma**2)


def test_shadowing_decorrelates_over_the_table_distance():
    d_cor = 50.0
    lag = []
    for seed in range(10):
        field = _CorrelatedNormal(np.random.default_rng(seed), d_cor, 1)
        z = field.at(np.arange(0.0, 20000.0, 2.5))[0]
        k = int(d_cor / 2.5)
        lag.append(np.mean(z[k:] * z[:-k]))
    assert_covers(lag, np.exp(-1.0), slack=0.02)


def test_los_state_follows_los_probability():
    distance = 60.0
    los = [
        bool(
            _source(seed, scenario="umi", position_m=[distance, 0.0])._large_scale(np.zeros(1))[1][
                0, 0
            ]
        )
        for seed in range(2000)
    ]
    p = float(los_probability("umi", distance))
    assert np.mean(los) == pytest.approx(p, abs=3.5 * np.sqrt(p * (1 - p) / 2000))


def test_random_waypoint_and_straight_line_stay_in_the_area():
    area = Area(x_m=(-100.0, 100.0), y_m=(0.0, 50.0))
    cfg = RandomWaypointMobility(kind="random_waypoint", area_m=area, speed_mps=(1.0, 3.0))
    trajectory = make_trajectory(cfg, np.array([0.0, 10.0]), np.random.default_rng(1))
    t = np.arange(0.0, 3000.0, 0.5)
    x, y, travelled = np.concatenate(
        [np.stack(trajectory.sample(c)) for c in np.split(t, 10)], axis=1
    )
    assert x.min() >= -100 and x.max() <= 100 and y.min() >= 0 and y.max() <= 50
    speed = np.diff(travelled) / 0.5
    assert speed.max() <= 3.0 + 1e-9 and 1.0 < travelled[-1] / t[-1] < 3.0
    moved = np.hypot(np.diff(x), np.diff(y))  # shorter than travelled only across a waypoint
    assert np.all(moved <= np.diff(travelled) + 1e-9)
    assert np.mean(np.isclose(moved, np.diff(travelled), atol=1e-9)) > 0.9
    from sim.channel.mobility import StraightLineMobility

    line = make_trajectory(
        StraightLineMobility(kind="straight_line", speed_mps=7.0, heading_deg=30.0, area_m=area),
        np.array([0.0, 10.0]),
        np.random.default_rng(1),
    )
    x, y, travelled = line.sample(t)
    assert x.min() >= -100 and x.max() <= 100 and y.min() >= 0 and y.max() <= 50
    assert travelled[-1] == pytest.approx(7.0 * t[-1])


def test_handover_to_the_stronger_station_once_with_interruption():
    # From 100 m east of bs0 towards bs1 at 1000 m, 20 m/s; equal losses at x = 500 m;
    # a 3 dB margin held 160 ms is reached a little past the midpoint.
    src = _source(
        scenario="uma",
        los="nlos",
        base_stations=[{"name": "bs0"}, {"name": "bs1", "x_m": 1000.0}],
        position_m=[100.0, 0.0],
        mobility={"kind": "straight_line", "speed_mps": 20.0, "heading_deg": 0.0},
        chunk_s=5.0,
    )
    capacity = PiecewiseCapacity(src)
    capacity.bits_until(40.0)
    assert len(src.handover_times_s) == 1
    t_ho = src.handover_times_s[0]
    x_ho = 100.0 + 20.0 * t_ho
    assert 500.0 < x_ho < 600.0
    assert capacity.rate_at(t_ho + 0.01) == 0.0 and capacity.rate_at(t_ho + 0.06) > 0.0


def test_blockage_fraction():
    fractions = []
    for seed in range(8):
        src = _source(
            seed,
            position_m=[100.0, 0.0],
            los="los",
            blockage={"mean_clear_s": 2.0, "mean_blocked_s": 0.5, "loss_db": 60.0},
            chunk_s=100.0,
        )
        _, rates = src.chunk_rates()
        fractions.append(np.mean(rates < rates.max()))
    assert_covers(fractions, 0.5 / 2.5)


def test_power_control_feeds_the_lauridsen_term():
    assert lauridsen_tx_rf_w(23.0) == pytest.approx(1.6021, abs=1e-4)  # 5.9*529-118*23+1195 mW
    assert lauridsen_tx_rf_w(0.0) == pytest.approx(0.0236)
    src = _source(position_m=[30.0, 0.0], los="los", link={"power_control": {"p0_dbm": -100}})
    src.chunk_rates()
    near = src.tx_power_dbm_at(1.0)
    assert near < 23.0  # fractional power control backs off close to the mast
    lte = RADIO_PRESETS["lte"]
    edge = lte.model_copy(update={"tx_rf": "lauridsen2014"})
    assert edge.transfer_energy_j(1.0, 1e6, 23.0) > edge.transfer_energy_j(1.0, 1e6, near)
    assert edge.transfer_energy_j(1.0, 1e6, 23.0) == pytest.approx(
        lte.transfer_energy_j(1.0, 1e6) + 1.6021, abs=1e-3
    )


def test_physical_cell_in_a_scenario_with_harq_and_pf():
    uplink = {
        "kind": "physical",
        "scenario": "umi",
        "distance_m": [20.0, 150.0],
        "mobility": {
            "kind": "random_waypoint",
            "area_m": {"x_m": [-150, 150], "y_m": [-150, 150]},
            "speed_mps": [1.0, 2.0],
        },
        "link": {"mapping": "nr_cqi_256qam", "bandwidth_hz": 20e6},
    }
    scenario = toy_scenario(
        devices__0__count=3,
        devices__0__workload={"kind": "periodic", "fps": 10},
        cells__0__uplink=uplink,
        cells__0__sharing="shared",
        cells__0__scheduler="proportional_fair",
        cells__0__errors={"kind": "bler"},
        cells__0__radio="nr",
    )
    results = sim.run(scenario)
    req = results.requests
    assert len(req) > 200 and (req["outcome"] != "failed").mean() > 0.9
    capacity = results.runs["bottlefit_c2"].capacity[0]
    assert capacity.mean_rate_bps(10.0) > 1e6
    again = sim.run(scenario).requests
    assert again["t_done"].tolist() == req["t_done"].tolist()  # deterministic
