"""3GPP TR 38.901 path loss and LOS probability against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim.channel.pathloss import (
    breakpoint_distance_m,
    inh_los_db,
    inh_nlos_db,
    los_probability,
    noise_power_dbm,
    path_loss_db,
    rma_los_db,
    rma_nlos_db,
    uma_los_db,
    uma_nlos_db,
    umi_los_db,
    umi_nlos_db,
)


def test_uma_los_before_and_after_breakpoint():
    # fc = 3.5 GHz, hBS = 25 m, hUT = 1.5 m: h' = 24 and 0.5 m, d'BP = 4*24*0.5*3.5e9/c = 560.4 m.
    assert breakpoint_distance_m(25.0, 1.5, 3.5) == pytest.approx(560.39, abs=0.01)
    # d2D = 100 m: d3D = sqrt(100^2 + 23.5^2) = 102.724 m;
    # PL1 = 28 + 22 log10(102.724) + 20 log10(3.5) = 28 + 44.257 + 10.881 = 83.138 dB.
    assert float(uma_los_db(100.0, 3.5)) == pytest.approx(83.138, abs=0.005)
    # d2D = 1000 m: d3D = 1000.276 m; PL2 = 28 + 40 log10(1000.276) + 10.881
    #   - 9 log10(560.39^2 + 23.5^2) = 28 + 120.005 + 10.881 - 49.479 = 109.406 dB.
    assert float(uma_los_db(1000.0, 3.5)) == pytest.approx(109.406, abs=0.005)


def test_uma_nlos_is_floored_by_los():
    # d2D = 200 m, fc = 2 GHz: d3D = 201.376 m;
    # PL'NLOS = 13.54 + 39.08 log10(201.376) + 20 log10(2) = 13.54 + 90.040 + 6.021 = 109.601 dB.
    assert float(uma_nlos_db(200.0, 2.0)) == pytest.approx(109.601, abs=0.005)
    # InH right under the access point (d3D = 2 m, 5 GHz): PL'NLOS = 17.3 + 11.53 + 17.40 =
    # 46.23 dB is below PL_LOS = 32.4 + 5.21 + 13.98 = 51.59 dB, so PL_NLOS = PL_LOS.
    assert float(inh_nlos_db(0.0, 5.0)) == pytest.approx(float(inh_los_db(0.0, 5.0)))
    assert float(inh_los_db(0.0, 5.0)) == pytest.approx(51.59, abs=0.01)


def test_umi_los_and_nlos():
    # fc = 3.5 GHz, hBS = 10 m: d'BP = 4*9*0.5*3.5e9/c = 210.15 m. d2D = 50 m: d3D = 50.717 m.
    # LOS: 32.4 + 21 log10(50.717) + 20 log10(3.5) = 32.4 + 35.809 + 10.881 = 79.090 dB.
    assert float(umi_los_db(50.0, 3.5)) == pytest.approx(79.090, abs=0.005)
    # NLOS: 22.4 + 35.3 log10(50.717) + 21.3 log10(3.5) = 22.4 + 60.192 + 11.589 = 94.181 dB.
    assert float(umi_nlos_db(50.0, 3.5)) == pytest.approx(94.181, abs=0.005)
    # Beyond the breakpoint, d2D = 400 m: d3D = 400.090 m;
    # PL2 = 32.4 + 40 log10(400.09) + 10.881 - 9.5 log10(210.15^2 + 8.5^2)
    #     = 32.4 + 104.088 + 10.881 - 44.136 = 103.233 dB.
    assert float(umi_los_db(400.0, 3.5)) == pytest.approx(103.233, abs=0.005)


def test_indoor_office():
    # hBS = 3 m, hUT = 1 m, d2D = 20 m: d3D = sqrt(400 + 4) = 20.100 m, fc = 5 GHz.
    # LOS: 32.4 + 17.3 log10(20.1) + 20 log10(5) = 32.4 + 22.546 + 13.979 = 68.925 dB.
    assert float(inh_los_db(20.0, 5.0)) == pytest.approx(68.925, abs=0.005)
    # NLOS: 17.3 + 38.3 log10(20.1) + 24.9 log10(5) = 17.3 + 49.912 + 17.404 = 84.617 dB.
    assert float(inh_nlos_db(20.0, 5.0)) == pytest.approx(84.617, abs=0.005)


def test_rural_macro():
    # hBS = 35 m, hUT = 1.5 m, h = 5 m, W = 20 m, fc = 2 GHz, d2D = 1000 m: d3D = 1000.561 m.
    d3d = math.hypot(1000.0, 33.5)
    h = 5.0
    pl1 = (
        20 * math.log10(40 * math.pi * d3d * 2.0 / 3)
        + min(0.03 * h**1.72, 10) * math.log10(d3d)
        - min(0.044 * h**1.72, 14.77)
        + 0.002 * math.log10(h) * d3d
    )
    assert float(rma_los_db(1000.0, 2.0)) == pytest.approx(pl1, abs=1e-6)
    # Below d_BP = 2 pi 35 1.5 2e9 / c = 2200.6 m, so PL1 applies: 100.599 dB.
    assert pl1 == pytest.approx(100.599, abs=0.005)
    nlos = (
        161.04
        - 7.1 * math.log10(20)
        + 7.5 * math.log10(5)
        - (24.37 - 3.7 * (5 / 35) ** 2) * math.log10(35)
        + (43.42 - 3.1 * math.log10(35)) * (math.log10(d3d) - 3)
        + 20 * math.log10(2.0)
        - (3.2 * math.log10(11.75 * 1.5) ** 2 - 4.97)
    )
    assert float(rma_nlos_db(1000.0, 2.0)) == pytest.approx(nlos, abs=1e-6)


def test_los_probability_by_hand():
    # UMi at 50 m: 18/50 + exp(-50/36) (1 - 18/50) = 0.36 + 0.24935 * 0.64 = 0.51958.
    assert float(los_probability("umi", 50.0)) == pytest.approx(0.51958, abs=1e-4)
    # UMa at 100 m, hUT = 1.5 m (C' = 0): 0.18 + exp(-100/63) * 0.82 = 0.18 + 0.16767 = 0.34767.
    assert float(los_probability("uma", 100.0)) == pytest.approx(0.34767, abs=1e-4)
    # UMa, hUT = 23 m: C' = 1, factor 1 + 1.25 * 1 * exp(-100/150) = 1.64177.
    assert float(los_probability("uma", 100.0, 23.0)) == pytest.approx(0.34767 * 1.64177, abs=2e-4)
    # InH: 3 m -> exp(-1.8/4.7) = 0.68183; 20 m -> 0.32 exp(-13.5/32.6) = 0.21150.
    assert float(los_probability("inh", 3.0)) == pytest.approx(0.68183, abs=1e-4)
    assert float(los_probability("inh", 20.0)) == pytest.approx(0.21150, abs=1e-4)
    assert np.all(los_probability("umi", np.array([1.0, 18.0])) == 1.0)


def test_path_loss_dispatch_and_noise():
    los = path_loss_db("umi", np.array([50.0, 50.0]), 3.5, np.array([True, False]), 10.0, 1.5)
    assert los == pytest.approx([79.090, 94.181], abs=0.005)
    # -174 dBm/Hz + 10 log10(10 MHz) + 5 dB = -174 + 70 + 5 = -99 dBm.
    assert float(noise_power_dbm(10e6, 5.0)) == pytest.approx(-99.0)
