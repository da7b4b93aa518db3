"""Large-scale loss: 3GPP TR 38.901 path loss, LOS probability and shadowing parameters.

All functions are vectorised over distances (numpy arrays or floats).
Distances in [m], carrier frequency in [GHz], heights in [m], losses in [dB].

Sources (as restated in ../shared/reference/channels.md, checked there against
ns-3 ``three-gpp-propagation-loss-model.cc`` and Sionna's TR 38.901 files):

* path loss: 3GPP TR 38.901 V16 Table 7.4.1-1 (channels.md §B.1);
* LOS probability: TR 38.901 Table 7.4.2-1 (channels.md §B.2);
* shadow-fading standard deviation: Table 7.4.1-1; decorrelation distances:
  Table 7.5-6 (channels.md §B.3);
* LOS-state correlation distance for spatially consistent LOS/NLOS: TR 38.901
  Table 7.6.3.1-2 ("LOS/NLOS state": RMa 60 m, UMi 50 m, UMa 50 m, InH 10 m),
  not the shadowing's (channels.md §B.2's "re-draw at the shadowing
  decorrelation distance" is its simplification; not in channels.md, values
  as quoted in issue 12);
* Rician K factor of the LOS links: Table 7.5-6 (channels.md §B.4).

Simplifications (documented, not in the standard's full generality):

* UMa effective environment height h_E = 1 m. TR 38.901 draws h_E from
  {12, 15, ..., h_UT - 1.5} with probability 1 - 1/(1 + C(d2D, h_UT)); C = 0 for
  h_UT < 13 m, so for handsets (1.5 m) h_E = 1 m exactly.
* Distances are clamped to each scenario's validity range (e.g. d2D >= 10 m
  outdoors, d3D >= 1 m indoors) rather than refused, so a device passing under
  a mast keeps a finite loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

SPEED_OF_LIGHT_MPS = 299_792_458.0
THERMAL_NOISE_DBM_PER_HZ = -174.0  # kT at 290 K (channels.md §B.5)

PathLossScenario = Literal["uma", "umi", "inh", "rma"]
ArrayLike = np.ndarray | float


@dataclass(frozen=True)
class ScenarioParameters:
    """Per-scenario constants of TR 38.901 [m, dB]."""

    default_bs_height_m: float
    min_d2d_m: float
    max_d2d_m: float
    shadow_std_los_db: float
    shadow_std_nlos_db: float
    decorrelation_los_m: float
    decorrelation_nlos_m: float
    k_factor_mean_db: float
    k_factor_std_db: float
    source: str
    los_state_decorrelation_m: float  # TR 38.901 Table 7.6.3.1-2, LOS/NLOS state


SCENARIOS: dict[str, ScenarioParameters] = {
    # TR 38.901 Table 7.4.1-1 (sigma_SF), Table 7.5-6 (d_cor, K): channels.md §B.1, §B.3, §B.4;
    # Table 7.6.3.1-2 (LOS-state correlation distance, last).
    "uma": ScenarioParameters(
        25.0,
        10.0,
        5000.0,
        4.0,
        6.0,
        37.0,
        50.0,
        9.0,
        3.5,
        "3GPP TR 38.901 Table 7.4.1-1 (UMa), Tables 7.5-6, 7.6.3.1-2",
        50.0,
    ),
    "umi": ScenarioParameters(
        10.0,
        10.0,
        5000.0,
        4.0,
        7.82,
        10.0,
        13.0,
        9.0,
        5.0,
        "3GPP TR 38.901 Table 7.4.1-1 (UMi-Street Canyon), Tables 7.5-6, 7.6.3.1-2",
        50.0,
    ),
    "inh": ScenarioParameters(
        3.0,
        1.0,
        150.0,
        3.0,
        8.03,
        10.0,
        6.0,
        7.0,
        4.0,
        "3GPP TR 38.901 Table 7.4.1-1 (InH-Office), Tables 7.5-6, 7.6.3.1-2",
        10.0,
    ),
    "rma": ScenarioParameters(
        35.0,
        10.0,
        10000.0,
        4.0,
        8.0,
        37.0,
        120.0,
        7.0,
        4.0,
        "3GPP TR 38.901 Table 7.4.1-1 (RMa), Tables 7.5-6, 7.6.3.1-2",
        60.0,
    ),
}


def noise_power_dbm(bandwidth_hz: ArrayLike, noise_figure_db: float) -> ArrayLike:
    """Thermal noise N = -174 dBm/Hz + 10 log10(B) + NF [dBm] (channels.md §B.5)."""
    return THERMAL_NOISE_DBM_PER_HZ + 10.0 * np.log10(bandwidth_hz) + noise_figure_db


def distance_3d_m(d2d_m: ArrayLike, h_bs_m: float, h_ut_m: float) -> ArrayLike:
    """d3D = sqrt(d2D^2 + (h_BS - h_UT)^2) [m]."""
    return np.sqrt(np.asarray(d2d_m, dtype=float) ** 2 + (h_bs_m - h_ut_m) ** 2)


def breakpoint_distance_m(h_bs_m: float, h_ut_m: float, fc_ghz: float, h_e_m: float = 1.0) -> float:
    """d'BP = 4 h'BS h'UT fc / c with h' = h - h_E [m] (TR 38.901 Table 7.4.1-1 note 1)."""
    return 4.0 * (h_bs_m - h_e_m) * (h_ut_m - h_e_m) * fc_ghz * 1e9 / SPEED_OF_LIGHT_MPS


def _log(x: ArrayLike) -> np.ndarray:
    return np.log10(np.asarray(x, dtype=float))


def uma_los_db(
    d2d_m: ArrayLike, fc_ghz: float, h_bs_m: float = 25.0, h_ut_m: float = 1.5
) -> np.ndarray:
    """UMa LOS path loss [dB]: PL1 up to the breakpoint, PL2 beyond (TR 38.901 Table 7.4.1-1)."""
    d2d = np.clip(np.asarray(d2d_m, dtype=float), 10.0, 5000.0)
    d3d = distance_3d_m(d2d, h_bs_m, h_ut_m)
    dbp = breakpoint_distance_m(h_bs_m, h_ut_m, fc_ghz)
    pl1 = 28.0 + 22.0 * _log(d3d) + 20.0 * np.log10(fc_ghz)
    pl2 = (
        28.0
        + 40.0 * _log(d3d)
        + 20.0 * np.log10(fc_ghz)
        - 9.0 * np.log10(dbp**2 + (h_bs_m - h_ut_m) ** 2)
    )
    return np.where(d2d <= dbp, pl1, pl2)


def uma_nlos_db(
    d2d_m: ArrayLike, fc_ghz: float, h_bs_m: float = 25.0, h_ut_m: float = 1.5
) -> np.ndarray:
    """UMa NLOS: max(PL_LOS, 13.54 + 39.08 log10 d3D + 20 log10 fc - 0.6 (h_UT - 1.5)) [dB]."""
    d2d = np.clip(np.asarray(d2d_m, dtype=float), 10.0, 5000.0)
    d3d = distance_3d_m(d2d, h_bs_m, h_ut_m)
    pl_nlos = 13.54 + 39.08 * _log(d3d) + 20.0 * np.log10(fc_ghz) - 0.6 * (h_ut_m - 1.5)
    return np.maximum(uma_los_db(d2d, fc_ghz, h_bs_m, h_ut_m), pl_nlos)


def umi_los_db(
    d2d_m: ArrayLike, fc_ghz: float, h_bs_m: float = 10.0, h_ut_m: float = 1.5
) -> np.ndarray:
    """UMi-Street Canyon LOS path loss [dB] (TR 38.901 Table 7.4.1-1)."""
    d2d = np.clip(np.asarray(d2d_m, dtype=float), 10.0, 5000.0)
    d3d = distance_3d_m(d2d, h_bs_m, h_ut_m)
    dbp = breakpoint_distance_m(h_bs_m, h_ut_m, fc_ghz)
    pl1 = 32.4 + 21.0 * _log(d3d) + 20.0 * np.log10(fc_ghz)
    pl2 = (
        32.4
        + 40.0 * _log(d3d)
        + 20.0 * np.log10(fc_ghz)
        - 9.5 * np.log10(dbp**2 + (h_bs_m - h_ut_m) ** 2)
    )
    return np.where(d2d <= dbp, pl1, pl2)


def umi_nlos_db(
    d2d_m: ArrayLike, fc_ghz: float, h_bs_m: float = 10.0, h_ut_m: float = 1.5
) -> np.ndarray:
    """UMi NLOS: max(PL_LOS, 22.4 + 35.3 log10 d3D + 21.3 log10 fc - 0.3 (h_UT - 1.5)) [dB]."""
    d2d = np.clip(np.asarray(d2d_m, dtype=float), 10.0, 5000.0)
    d3d = distance_3d_m(d2d, h_bs_m, h_ut_m)
    pl_nlos = 22.4 + 35.3 * _log(d3d) + 21.3 * np.log10(fc_ghz) - 0.3 * (h_ut_m - 1.5)
    return np.maximum(umi_los_db(d2d, fc_ghz, h_bs_m, h_ut_m), pl_nlos)


def inh_los_db(
    d2d_m: ArrayLike, fc_ghz: float, h_bs_m: float = 3.0, h_ut_m: float = 1.0
) -> np.ndarray:
    """InH-Office LOS: 32.4 + 17.3 log10 d3D + 20 log10 fc [dB], 1 <= d3D <= 150 m."""
    d3d = np.clip(distance_3d_m(d2d_m, h_bs_m, h_ut_m), 1.0, 150.0)
    return 32.4 + 17.3 * _log(d3d) + 20.0 * np.log10(fc_ghz)


def inh_nlos_db(
    d2d_m: ArrayLike, fc_ghz: float, h_bs_m: float = 3.0, h_ut_m: float = 1.0
) -> np.ndarray:
    """InH-Office NLOS: max(PL_LOS, 17.3 + 38.3 log10 d3D + 24.9 log10 fc) [dB]."""
    d3d = np.clip(distance_3d_m(d2d_m, h_bs_m, h_ut_m), 1.0, 150.0)
    pl_nlos = 17.3 + 38.3 * _log(d3d) + 24.9 * np.log10(fc_ghz)
    return np.maximum(inh_los_db(d2d_m, fc_ghz, h_bs_m, h_ut_m), pl_nlos)


def _rma_pl1(d3d: np.ndarray, fc_ghz: float, h_m: float) -> np.ndarray:
    return (
        20.0 * np.log10(40.0 * np.pi * d3d * fc_ghz / 3.0)
        + min(0.03 * h_m**1.72, 10.0) * np.log10(d3d)
        - min(0.044 * h_m**1.72, 14.77)
        + 0.002 * np.log10(h_m) * d3d
    )


def rma_los_db(
    d2d_m: ArrayLike,
    fc_ghz: float,
    h_bs_m: float = 35.0,
    h_ut_m: float = 1.5,
    building_h_m: float = 5.0,
) -> np.ndarray:
    """RMa LOS path loss [dB]; breakpoint d_BP = 2 pi h_BS h_UT fc / c (TR 38.901 Table 7.4.1-1)."""
    d2d = np.clip(np.asarray(d2d_m, dtype=float), 10.0, 10000.0)
    d3d = np.asarray(distance_3d_m(d2d, h_bs_m, h_ut_m))
    dbp = 2.0 * np.pi * h_bs_m * h_ut_m * fc_ghz * 1e9 / SPEED_OF_LIGHT_MPS
    pl1 = _rma_pl1(d3d, fc_ghz, building_h_m)
    pl2 = _rma_pl1(np.asarray(dbp, dtype=float), fc_ghz, building_h_m) + 40.0 * np.log10(d3d / dbp)
    return np.where(d2d <= dbp, pl1, pl2)


def rma_nlos_db(
    d2d_m: ArrayLike,
    fc_ghz: float,
    h_bs_m: float = 35.0,
    h_ut_m: float = 1.5,
    building_h_m: float = 5.0,
    street_w_m: float = 20.0,
) -> np.ndarray:
    """RMa NLOS: max(PL_LOS, PL'_NLOS) [dB] (TR 38.901 Table 7.4.1-1, W = 20 m, h = 5 m)."""
    d2d = np.clip(np.asarray(d2d_m, dtype=float), 10.0, 5000.0)
    d3d = distance_3d_m(d2d, h_bs_m, h_ut_m)
    h, w = building_h_m, street_w_m
    pl_nlos = (
        161.04
        - 7.1 * np.log10(w)
        + 7.5 * np.log10(h)
        - (24.37 - 3.7 * (h / h_bs_m) ** 2) * np.log10(h_bs_m)
        + (43.42 - 3.1 * np.log10(h_bs_m)) * (np.log10(d3d) - 3.0)
        + 20.0 * np.log10(fc_ghz)
        - (3.2 * np.log10(11.75 * h_ut_m) ** 2 - 4.97)
    )
    return np.maximum(rma_los_db(d2d, fc_ghz, h_bs_m, h_ut_m, building_h_m), pl_nlos)


_PATH_LOSS = {
    "uma": (uma_los_db, uma_nlos_db),
    "umi": (umi_los_db, umi_nlos_db),
    "inh": (inh_los_db, inh_nlos_db),
    "rma": (rma_los_db, rma_nlos_db),
}


def path_loss_db(
    scenario: PathLossScenario,
    d2d_m: ArrayLike,
    fc_ghz: float,
    los: ArrayLike,
    h_bs_m: float,
    h_ut_m: float,
) -> np.ndarray:
    """Path loss [dB] for each distance, LOS where ``los`` is true, NLOS elsewhere."""
    los_fn, nlos_fn = _PATH_LOSS[scenario]
    los_db = los_fn(d2d_m, fc_ghz, h_bs_m, h_ut_m)
    nlos_db = nlos_fn(d2d_m, fc_ghz, h_bs_m, h_ut_m)
    return np.where(np.asarray(los, dtype=bool), los_db, nlos_db)


def los_probability(
    scenario: PathLossScenario, d2d_m: ArrayLike, h_ut_m: float = 1.5
) -> np.ndarray:
    """P_LOS(d2D) (TR 38.901 Table 7.4.2-1; channels.md §B.2).

    * UMi: 1 for d <= 18 m, else 18/d + exp(-d/36) (1 - 18/d).
    * UMa: 1 for d <= 18 m, else [18/d + exp(-d/63)(1 - 18/d)] [1 + C'(h_UT) 5/4 (d/100)^3 exp(-d/150)],
      C'(h_UT) = 0 for h_UT <= 13 m, ((h_UT - 13)/10)^1.5 above.
    * InH-Mixed office: 1 for d <= 1.2 m, exp(-(d - 1.2)/4.7) up to 6.5 m, 0.32 exp(-(d - 6.5)/32.6) beyond.
    * RMa: 1 for d <= 10 m, else exp(-(d - 10)/1000) (Table 7.4.2-1 as usually quoted; not in channels.md).
    """
    d = np.maximum(np.asarray(d2d_m, dtype=float), 1e-9)
    if scenario == "umi":
        p = 18.0 / d + np.exp(-d / 36.0) * (1.0 - 18.0 / d)
        return np.where(d <= 18.0, 1.0, p)
    if scenario == "uma":
        c = 0.0 if h_ut_m <= 13.0 else ((h_ut_m - 13.0) / 10.0) ** 1.5
        p = (18.0 / d + np.exp(-d / 63.0) * (1.0 - 18.0 / d)) * (
            1.0 + c * 1.25 * (d / 100.0) ** 3 * np.exp(-d / 150.0)
        )
        return np.where(d <= 18.0, 1.0, np.minimum(p, 1.0))
    if scenario == "inh":
        return np.where(
            d <= 1.2,
            1.0,
            np.where(d < 6.5, np.exp(-(d - 1.2) / 4.7), 0.32 * np.exp(-(d - 6.5) / 32.6)),
        )
    if scenario == "rma":
        return np.where(d <= 10.0, 1.0, np.exp(-(d - 10.0) / 1000.0))
    raise ValueError(f"unknown scenario {scenario!r}")
