"""Link abstraction: SINR [dB] -> spectral efficiency [bit/s/Hz or bit/RE] -> rate [bit/s].

Tables ship as data here, each with its source (channels.md §B.5, §B.6):

* LTE 4-bit CQI, 3GPP TS 36.213 Table 7.2.3-1 (= NR CQI Table 1, TS 38.214
  Table 5.2.2.1-2): efficiencies [bit per resource element]; the SINR
  switching thresholds are the widely reused ~10 % BLER heuristic (Vienna LTE
  link-level results), not part of any 3GPP spec.
* NR CQI Table 2 (256QAM), TS 38.214 Table 5.2.2.1-3, with the MathWorks 5G
  Toolbox 10 % BLER thresholds (DL; UL 2 dB lower) quoted in channels.md.
* Truncated, attenuated Shannon, 3GPP TR 36.942 Annex A: 0 below SINR_min,
  alpha log2(1 + SINR), capped at eff_max (UL: alpha 0.4, -10 dB, 2.0 bit/s/Hz).
* Shannon with an SNR gap Gamma: log2(1 + SINR / Gamma).
* IEEE 802.11n/ac PHY rates (1 spatial stream) with the 802.11ac minimum
  receiver sensitivities (20 MHz; +3 dB per doubling of width).

Each mapping carries the range it is defined on as data (:data:`MAPPING_RANGES`,
:class:`MappingRange`): the lowest SINR with a non-zero rate, the SINR at which
its top rate is reached and that top efficiency; above it the rate stays at
the cap (never extrapolated), below it the rate is 0. Shannon alone has no cap.

Resource-grid bookkeeping (channels.md §B.5): one PRB is 12 subcarriers; a
slot carries 14 OFDM symbols; there are 1000 * 2^mu slots per second at
numerology mu (subcarrier spacing 15 * 2^mu kHz). LTE is mu = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# TS 36.213 Table 7.2.3-1, CQI 1..15 efficiency [bit/RE] (channels.md §B.5, [V]).
LTE_CQI_EFFICIENCY = np.array(
    [0.1523, 0.2344, 0.3770, 0.6016, 0.8770, 1.1758, 1.4766, 1.9141,
     2.4063, 2.7305, 3.3223, 3.9023, 4.5234, 5.1152, 5.5547]
)  # fmt: skip
# ~10 % BLER SINR thresholds [dB], CQI 1..15 (heuristic, channels.md §B.5 footnote).
LTE_CQI_SINR_DB = np.array(
    [-6.7, -4.7, -2.3, 0.2, 2.4, 4.3, 5.9, 8.1, 10.3, 11.7, 14.1, 16.3, 18.7, 21.0, 22.7]
)
# TS 38.214 Table 5.2.2.1-3 (256QAM), CQI 1..15 efficiency [bit/RE] (channels.md §B.5, [M]).
NR_CQI256_EFFICIENCY = np.array(
    [0.1523, 0.3770, 0.8770, 1.4766, 1.9141, 2.4063, 2.7305, 3.3223,
     3.9023, 4.5234, 5.1152, 5.5547, 6.2266, 6.9141, 7.4063]
)  # fmt: skip
# MathWorks 5G Toolbox example, 10 % BLER, DL thresholds [dB] (channels.md §B.5, [V as quoted]).
NR_CQI256_SINR_DB_DL = np.array(
    [-3.46, 1.54, 6.54, 11.05, 13.54, 16.04, 17.54, 20.04,
     22.04, 24.43, 26.93, 27.43, 29.43, 32.43, 35.43]
)  # fmt: skip
NR_UL_THRESHOLD_OFFSET_DB = -2.0  # "UL 2 dB lower" (channels.md §B.5)

# IEEE 802.11n/ac, 1 spatial stream, long GI (800 ns), MCS 0..9 [Mbit/s] (channels.md §B.6, [V]).
# NaN: not defined (MCS 9 at 20 MHz).
WIFI_RATES_LGI_MBPS = {
    20: np.array([6.5, 13, 19.5, 26, 39, 52, 58.5, 65, 78, np.nan]),
    40: np.array([13.5, 27, 40.5, 54, 81, 108, 121.5, 135, 162, 180]),
    80: np.array([29.3, 58.5, 87.8, 117, 175.5, 234, 263.3, 292.5, 351, 390]),
    160: np.array([58.5, 117, 175.5, 234, 351, 468, 526.5, 585, 702, 780]),
}
WIFI_RATES_SGI_MBPS = {
    20: np.array([7.2, 14.4, 21.7, 28.9, 43.3, 57.8, 65, 72.2, 86.7, np.nan]),
    40: np.array([15, 30, 45, 60, 90, 120, 135, 150, 180, 200]),
    80: np.array([32.5, 65, 97.5, 130, 195, 260, 292.5, 325, 390, 433.3]),
    160: np.array([65, 130, 195, 260, 390, 520, 585, 650, 780, 866.7]),
}
# 802.11ac minimum receiver sensitivity at 20 MHz, MCS 0..9 [dBm] (channels.md §B.6, [M]).
WIFI_SENSITIVITY_20MHZ_DBM = np.array([-82, -79, -77, -74, -70, -66, -65, -64, -59, -57.0])

# PRBs per channel bandwidth (channels.md §B.5, [M]): LTE, and NR FR1/FR2 by subcarrier spacing.
LTE_PRBS = {1.4e6: 6, 3e6: 15, 5e6: 25, 10e6: 50, 15e6: 75, 20e6: 100}
NR_PRBS = {
    15: {5e6: 25, 10e6: 52, 20e6: 106, 50e6: 270},
    30: {20e6: 51, 40e6: 106, 100e6: 273},
    120: {50e6: 32, 100e6: 66, 200e6: 132, 400e6: 264},
}

TR36942_UL = {"alpha": 0.4, "snr_min_db": -10.0, "eff_max": 2.0}  # TR 36.942 Annex A, LTE UL
TR36942_DL = {"alpha": 0.6, "snr_min_db": -10.0, "eff_max": 4.4}  # TR 36.942 Annex A, LTE DL


def truncated_shannon_cap_db(alpha: float, eff_max: float) -> float:
    """SINR [dB] at which alpha log2(1 + SINR) reaches eff_max (TR 36.942 Annex A)."""
    return 10.0 * math.log10(2.0 ** (eff_max / alpha) - 1.0)


@dataclass(frozen=True)
class MappingRange:
    """Where a SINR -> rate mapping is defined, and its cap.

    ``min_db``: lowest SINR [dB] (WiFi: received power [dBm] at 20 MHz) with a
    non-zero rate; ``cap_db``: where the top rate is reached (inf: no cap);
    ``max_efficiency``: the top efficiency [bit/RE, bit/s/Hz; WiFi: Mbit/s of the
    top MCS at 20 MHz, 1 stream, long GI]; ``None``: unbounded (Shannon).
    """

    mapping: str
    min_db: float
    cap_db: float
    max_efficiency: float | None
    unit: str
    source: str


MAPPING_RANGES: dict[str, MappingRange] = {
    "lte_cqi": MappingRange(
        "lte_cqi",
        float(LTE_CQI_SINR_DB[0]),
        float(LTE_CQI_SINR_DB[-1]),
        float(LTE_CQI_EFFICIENCY[-1]),
        "bit/RE",
        "TS 36.213 Table 7.2.3-1, CQI 1..15; ~10 % BLER thresholds (channels.md §B.5)",
    ),
    "nr_cqi_256qam": MappingRange(
        "nr_cqi_256qam",
        float(NR_CQI256_SINR_DB_DL[0] + NR_UL_THRESHOLD_OFFSET_DB),
        float(NR_CQI256_SINR_DB_DL[-1] + NR_UL_THRESHOLD_OFFSET_DB),
        float(NR_CQI256_EFFICIENCY[-1]),
        "bit/RE",
        "TS 38.214 Table 5.2.2.1-3; MathWorks 10 % BLER thresholds, UL 2 dB lower (§B.5)",
    ),
    "truncated_shannon": MappingRange(
        "truncated_shannon",
        TR36942_UL["snr_min_db"],
        truncated_shannon_cap_db(TR36942_UL["alpha"], TR36942_UL["eff_max"]),
        TR36942_UL["eff_max"],
        "bit/s/Hz",
        "TR 36.942 Annex A, LTE UL defaults (alpha 0.4, -10 dB, 2.0 bit/s/Hz)",
    ),
    "shannon": MappingRange(
        "shannon", -math.inf, math.inf, None, "bit/s/Hz", "log2(1 + SINR / gap): no cap"
    ),
    "wifi_mcs": MappingRange(
        "wifi_mcs",
        float(WIFI_SENSITIVITY_20MHZ_DBM[0]),
        float(WIFI_SENSITIVITY_20MHZ_DBM[-2]),  # MCS 8: the top MCS defined at 20 MHz
        float(WIFI_RATES_LGI_MBPS[20][-2]),
        "Mbit/s (20 MHz, 1 SS, long GI)",
        "802.11ac minimum sensitivity and MCS rates (channels.md §B.6)",
    ),
}


def db_to_linear(db: np.ndarray | float) -> np.ndarray:
    return 10.0 ** (np.asarray(db, dtype=float) / 10.0)


def shannon_efficiency(snr_db: np.ndarray | float, gap_db: float = 0.0) -> np.ndarray:
    """log2(1 + SNR / Gamma) [bit/s/Hz]."""
    return np.log2(1.0 + db_to_linear(np.asarray(snr_db, dtype=float) - gap_db))


def truncated_shannon_efficiency(
    snr_db: np.ndarray | float,
    alpha: float = TR36942_UL["alpha"],
    snr_min_db: float = TR36942_UL["snr_min_db"],
    eff_max: float = TR36942_UL["eff_max"],
) -> np.ndarray:
    """TR 36.942 Annex A: 0 below SINR_min, alpha log2(1 + SINR), capped at eff_max [bit/s/Hz]."""
    snr_db = np.asarray(snr_db, dtype=float)
    eff = np.minimum(alpha * np.log2(1.0 + db_to_linear(snr_db)), eff_max)
    return np.where(snr_db < snr_min_db, 0.0, eff)


def cqi_index(snr_db: np.ndarray | float, thresholds_db: np.ndarray) -> np.ndarray:
    """Highest CQI (1..15) whose threshold the SINR reaches; 0 = out of range."""
    return np.searchsorted(thresholds_db, np.asarray(snr_db, dtype=float), side="right")


def cqi_efficiency(
    snr_db: np.ndarray | float, efficiencies: np.ndarray, thresholds_db: np.ndarray
) -> np.ndarray:
    """Efficiency [bit/RE] of the CQI chosen for each SINR (0 below CQI 1)."""
    table = np.concatenate([[0.0], efficiencies])
    return table[cqi_index(snr_db, thresholds_db)]


def resource_elements_per_s(prbs: int, subcarrier_khz: int = 15) -> float:
    """PRBs x 12 subcarriers x 14 symbols x 1000 x 2^mu slots/s [RE/s]."""
    mu = round(math.log2(subcarrier_khz / 15))
    return prbs * 12 * 14 * 1000.0 * 2**mu


def default_prbs(bandwidth_hz: float, subcarrier_khz: int, technology: str) -> int | None:
    """PRB count for a standard bandwidth (channels.md §B.5), or None if not tabulated."""
    table = LTE_PRBS if technology == "lte" else NR_PRBS.get(subcarrier_khz, {})
    for width, prbs in table.items():
        if abs(width - bandwidth_hz) < 1.0:
            return prbs
    return None


def wifi_phy_rate_bps(
    rx_power_dbm: np.ndarray | float,
    width_mhz: int = 20,
    short_gi: bool = False,
    spatial_streams: int = 1,
    max_mcs: int = 9,
) -> np.ndarray:
    """802.11n/ac PHY rate [bit/s] of the highest MCS whose sensitivity the received power meets.

    Sensitivity: 802.11ac minimum at 20 MHz plus 3 dB per doubling of width; 0
    below MCS 0's sensitivity. N spatial streams give N times the rate.
    """
    rates = (WIFI_RATES_SGI_MBPS if short_gi else WIFI_RATES_LGI_MBPS)[width_mhz][: max_mcs + 1]
    sens = WIFI_SENSITIVITY_20MHZ_DBM[: max_mcs + 1] + 3.0 * np.log2(width_mhz / 20)
    valid = np.isfinite(rates)
    rates, sens = rates[valid], sens[valid]
    idx = np.searchsorted(sens, np.asarray(rx_power_dbm, dtype=float), side="right")
    table = np.concatenate([[0.0], rates]) * 1e6 * spatial_streams
    return table[idx]
