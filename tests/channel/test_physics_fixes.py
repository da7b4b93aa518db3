"""Issue 12's smaller physics fixes, each against its source by hand or by statistics.

* WiFi MCS selection honours ``interference_margin_db`` (802.11ac sensitivities,
  channels.md §B.6, are for a noise-limited receiver).
* A moving device's own Doppler and the environment's combine in quadrature
  (TR 38.901 §7.6.10: independent per-ray shifts, variances add).
* The LOS state decorrelates over TR 38.901 Table 7.6.3.1-2's LOS-state
  distance, not the shadowing's.
* Rate mappings carry their range and cap; a physical uplink never exceeds it.
* The PF rate law of a device is its fading law through its rate mapping.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import j0

from sim.channel import ratemap
from sim.channel.pathloss import SCENARIOS, SPEED_OF_LIGHT_MPS
from sim.channel.physical import PhysicalSource, PhysicalUplink
from sim.channel.physical_config import LinkConfig
from tests.channel.helpers import assert_covers


def _source(seed: int = 0, **fields) -> PhysicalSource:
    data = {"kind": "physical", "shadowing": False, "fading": {"kind": "none"}, **fields}
    return PhysicalSource(PhysicalUplink.model_validate(data), np.random.default_rng(seed))


def test_wifi_mcs_honours_the_interference_margin():
    # 802.11ac 20 MHz, long GI, MAC efficiency 0.6 (channels.md §B.6): -72 dBm meets MCS 3
    # (-74 dBm, 26 Mbit/s); 6 dB of interference over thermal leaves -78 dBm: MCS 1
    # (-79 dBm, 13 Mbit/s).
    snr = np.array([30.0])
    rx = np.array([-72.0])
    clean = LinkConfig(mapping="wifi_mcs").rate_bps(snr, rx)
    loaded = LinkConfig(mapping="wifi_mcs", interference_margin_db=6.0).rate_bps(snr, rx)
    assert clean == pytest.approx([26e6 * 0.6])
    assert loaded == pytest.approx([13e6 * 0.6])
    # Through a physical uplink: the margin costs what the received power would.
    link = {"mapping": "wifi_mcs", "interference_margin_db": 6.0}
    base = _source(scenario="inh", carrier_ghz=5.5, position_m=[20.0, 0.0], los="nlos")
    with_margin = _source(
        scenario="inh", carrier_ghz=5.5, position_m=[20.0, 0.0], los="nlos", link=link
    )
    _, rates = with_margin.chunk_rates(10)
    base.chunk_rates(1)
    rx_dbm = base._static_budget[0]
    expected = ratemap.wifi_phy_rate_bps(rx_dbm - 6.0) * 0.6
    assert rates == pytest.approx(np.full(10, expected))
    assert expected < ratemap.wifi_phy_rate_bps(rx_dbm) * 0.6


def test_own_and_environment_doppler_add_in_quadrature():
    speed, env_hz, step = 1.4, 5.0, 0.002
    wavelength = SPEED_OF_LIGHT_MPS / 2e9
    own_hz = speed / wavelength  # 9.34 Hz at 2 GHz
    combined_hz = math.hypot(own_hz, env_hz)  # 10.6 Hz (the old sum: 14.3 Hz)
    fields = {
        "position_m": [150.0, 0.0],
        "los": "nlos",
        "mobility": {"kind": "straight_line", "speed_mps": speed, "heading_deg": 90.0},
        "fading": {"kind": "sum_of_sinusoids", "environment_doppler_hz": env_hz},
        "step_s": step,
    }
    ar1 = _source(0, **{**fields, "fading": {"kind": "ar1", "environment_doppler_hz": env_hz}})
    assert ar1._ar1_rho == pytest.approx(j0(2 * math.pi * combined_hz * step))
    # The power of Rayleigh fading has autocovariance J0^2(2 pi f_D tau): at 20 ms
    # 0.37 with the quadrature Doppler, 0.12 with the sum.
    lag_steps = 10
    expected = j0(2 * math.pi * combined_hz * lag_steps * step) ** 2
    per_seed = []
    for seed in range(12):
        values = []
        for device in range(8):
            src = _source(100 * seed + device, **fields)
            times = np.arange(2000) * step
            power = np.asarray(src._fading_power(times, None, False))
            values.append(np.mean((power[lag_steps:] - 1) * (power[:-lag_steps] - 1)))
        per_seed.append(np.mean(values))
    assert_covers(per_seed, float(expected), slack=0.03)
    assert abs(np.mean(per_seed) - j0(2 * math.pi * (own_hz + env_hz) * 0.02) ** 2) > 0.15


@pytest.mark.parametrize(
    ("scenario", "distance_m"), [("uma", 50), ("umi", 50), ("inh", 10), ("rma", 60)]
)
def test_los_state_uses_its_own_correlation_distance(scenario, distance_m):
    """TR 38.901 Table 7.6.3.1-2 (LOS/NLOS state): the LOS field's correlation at that
    distance is exp(-1), whatever the shadowing's decorrelation distance."""
    assert SCENARIOS[scenario].los_state_decorrelation_m == distance_m
    lag = []
    for seed in range(10):
        src = _source(seed, scenario=scenario)
        step = distance_m / 20.0
        z = src.los_field.at(np.arange(0.0, 400.0 * distance_m, step))[0]
        lag.append(np.mean(z[20:] * z[:-20]))
    assert_covers(lag, math.exp(-1.0), slack=0.02)
    if scenario == "umi":  # the NLOS shadowing distance (13 m) would give exp(-50/13) = 0.02
        assert np.mean(lag) > 0.25


@pytest.mark.parametrize(
    ("mapping", "top_bps"),
    [
        ("lte_cqi", 5.5547 * 50 * 12 * 14 * 1000 * 0.75),  # CQI 15, 10 MHz = 50 PRBs, 25 % OH
        ("nr_cqi_256qam", 7.4063 * 52 * 12 * 14 * 1000 * 0.75),  # CQI 15 (256QAM), 52 PRBs
        ("truncated_shannon", 2.0 * 10e6),  # TR 36.942 UL cap 2 bit/s/Hz
        ("wifi_mcs", 78e6 * 0.6),  # 20 MHz, top MCS 8, MAC 0.6
    ],
)
def test_physical_uplink_never_exceeds_its_mapping_cap(mapping, top_bps):
    cap = ratemap.MAPPING_RANGES[mapping]
    assert cap.max_efficiency is not None and math.isfinite(cap.cap_db)
    link = {"mapping": mapping, "bandwidth_hz": 10e6}
    rates = []
    for seed in range(5):
        src = _source(
            seed,
            position_m=[15.0, 0.0],
            los="los",
            scenario="inh" if mapping == "wifi_mcs" else "uma",
            carrier_ghz=5.5 if mapping == "wifi_mcs" else 2.0,
            fading={"kind": "sum_of_sinusoids"},
            link=link,
        )
        assert src.max_rate_bps() == pytest.approx(top_bps)
        rates.append(src.chunk_rates(2000)[1])
    rates = np.concatenate(rates)
    assert rates.max() <= top_bps * (1 + 1e-12)
    assert rates.max() == pytest.approx(top_bps)  # the cap is reached and binds


def test_shannon_mapping_says_it_has_no_cap():
    assert ratemap.MAPPING_RANGES["shannon"].max_efficiency is None
    assert _source(link={"mapping": "shannon"}).max_rate_bps() is None


def test_mapping_ranges_match_their_tables():
    lte = ratemap.MAPPING_RANGES["lte_cqi"]
    assert (lte.min_db, lte.cap_db, lte.max_efficiency) == (-6.7, 22.7, 5.5547)
    truncated = ratemap.MAPPING_RANGES["truncated_shannon"]
    # alpha log2(1 + SINR) = eff_max at SINR = 2^(2.0 / 0.4) - 1 = 31 -> 14.91 dB.
    assert truncated.cap_db == pytest.approx(10 * math.log10(31.0))
    assert ratemap.truncated_shannon_efficiency(truncated.cap_db + 1e-9) == pytest.approx(2.0)


def test_rate_law_is_the_fading_law_through_the_cqi_table():
    """A static Rayleigh device at mean SNR g: P(CQI >= k) = exp(-10^((theta_k - g)/10))."""
    src = _source(
        position_m=[200.0, 0.0], los="nlos", fading={"kind": "sum_of_sinusoids"}, step_s=0.01
    )
    src.chunk_rates(1)
    law = src.rate_law()
    assert law is not None
    mean_snr_db = src._static_budget[0] - src.noise_dbm
    res = 50 * 12 * 14 * 1000 * 0.75
    levels = np.concatenate([[0.0], ratemap.LTE_CQI_EFFICIENCY]) * res
    at_least = np.exp(-(10 ** ((ratemap.LTE_CQI_SINR_DB - mean_snr_db) / 10)))
    for k in range(1, 16):
        # P(rate >= level k) from the law, against the closed form.
        below = (
            law.cdf[np.searchsorted(law.rates_bps, levels[k], side="left") - 1]
            if np.any(law.rates_bps < levels[k])
            else 0.0
        )
        assert 1.0 - below == pytest.approx(at_least[k - 1], abs=2.0 / 512)
    # No law without fading, nor for a device whose mean SNR moves.
    assert _source(position_m=[200.0, 0.0]).rate_law() is None
    moving = _source(
        fading={"kind": "sum_of_sinusoids"},
        mobility={"kind": "straight_line", "speed_mps": 1.0, "heading_deg": 0.0},
    )
    moving.chunk_rates(1)
    assert moving.rate_law() is None
