"""Settings of the physical uplink (``uplink: {kind: physical}``): stations, path-loss
scenario, mobility, fading, link adaptation, power control, handover and blockage.

The schema only; the source that turns them into a capacity is
:class:`sim.channel.physical.PhysicalSource` (see that module's doc for the model).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from sim.channel import ratemap
from sim.channel.mobility import (
    MobilityConfig,
    StaticMobility,
)
from sim.channel.pathloss import PathLossScenario
from sim.channel.placement import check_start
from sim.validation import NonNegFloat, PositiveFloat, PositiveInt, Probability, Strict


class BaseStation(Strict):
    """A base station or access point at (x_m, y_m) [m], antenna height [m]."""

    name: str = Field(min_length=1, description="station name (reported on handover)")
    x_m: float = Field(default=0.0, description="x position of the station")
    y_m: float = Field(default=0.0, description="y position of the station")
    height_m: PositiveFloat | None = Field(
        default=None, description="default: the scenario's (UMa 25, UMi 10, InH 3, RMa 35 m)"
    )
    node: str | None = Field(
        default=None,
        min_length=1,
        description="topology node of this station's own cell (stations_as_cells only; the "
        "wired path to a server starts there); default: the cell's node",
    )


class FadingConfig(Strict):
    """Small-scale fading of the serving link."""

    kind: Literal["sum_of_sinusoids", "ar1", "block", "none"] = Field(
        default="sum_of_sinusoids",
        description="fast fading: sum_of_sinusoids (Clarke/Jakes), ar1 (Gauss-Markov), block "
        "(i.i.d. per coherence time) or none",
    )
    sinusoids: PositiveInt = Field(
        default=32, description="sum-of-sinusoids paths (power tails deviate from Rayleigh by ~1/M)"
    )
    rician_k_db: float | None = Field(
        default=None,
        description="K factor of LOS links [dB]; None: drawn per device from the scenario's "
        "N(mu_K, sigma_K) (TR 38.901 Table 7.5-6)",
    )
    environment_doppler_hz: NonNegFloat = Field(
        default=2.0,
        description="Doppler from moving scatterers, so a static device still fades [Hz] "
        "(assumed); a moving device's own Doppler combines with it in quadrature",
    )
    block_s: PositiveFloat | None = Field(
        default=None, description="block fading: block length [s] (default: coherence time)"
    )


class TruncatedShannon(Strict):
    """TR 36.942 Annex A parameters (defaults: LTE uplink)."""

    alpha: PositiveFloat = Field(
        default=0.4,
        description="attenuation factor of the truncated Shannon bound (TR 36.942 Annex A) [1]",
    )
    snr_min_db: float = Field(default=-10.0, description="SINR below which the rate is zero")
    eff_max: PositiveFloat = Field(
        default=2.0, description="maximum spectral efficiency [bit/s/Hz]"
    )


class PowerControl(Strict):
    """Fractional uplink power control P = min(P_max, P0 + 10 log10 M + alpha PL) [dBm]."""

    p0_dbm: float = Field(
        default=-90.0, description="P_O_PUSCH per PRB [dBm] (common evaluation choice)"
    )
    alpha: Probability = Field(
        default=0.8, description="fractional path-loss compensation factor (TS 36.213 §5.1.1.1) [1]"
    )


class LinkConfig(Strict):
    """Link budget and SINR -> rate mapping."""

    mapping: Literal["lte_cqi", "nr_cqi_256qam", "truncated_shannon", "shannon", "wifi_mcs"] = (
        Field(
            default="lte_cqi",
            description="SINR -> rate mapping: lte_cqi (TS 36.213), nr_cqi_256qam (TS 38.214), "
            "truncated_shannon (TR 36.942), shannon (with a gap) or wifi_mcs (802.11n/ac)",
        )
    )
    bandwidth_hz: PositiveFloat = Field(
        default=10e6, description="channel bandwidth (sets the PRB count for CQI mappings)"
    )
    prbs: PositiveInt | None = Field(
        default=None, description="default: the standard count for bandwidth_hz (channels.md §B.5)"
    )
    subcarrier_khz: Literal[15, 30, 60, 120] = Field(
        default=15, description="NR subcarrier spacing (numerology)"
    )
    overhead: Probability | None = Field(
        default=None,
        description="fraction lost to control and reference signals; default 0.25 for CQI and "
        "Shannon mappings (channels.md §B.8), 0 for truncated Shannon and WiFi [1]",
    )
    uplink_share: Probability = Field(default=1.0, description="TDD fraction of uplink slots [1]")
    tx_power_dbm: float = Field(default=23.0, description="UE power class 3 (TS 36.101)")
    power_control: PowerControl | None = Field(
        default=None, description="fractional uplink power control (null: always tx_power_dbm)"
    )
    antenna_gain_db: float = Field(default=0.0, description="combined antenna gains of the link")
    noise_figure_db: float = Field(default=5.0, description="base station receiver (FR1)")
    interference_margin_db: NonNegFloat = Field(
        default=0.0, description="uplink interference over thermal [dB]"
    )
    neighbour_load: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="uplink load eta of the neighbouring cells, 0 <= eta < 1 [1]: adds their "
        "noise rise 10 log10(1 / (1 - eta)) [dB] to interference_margin_db (the uplink load "
        "equation; docs/concepts/handover.md); 0: none [1]",
    )
    shannon_gap_db: float = Field(default=0.0, description="shannon mapping: SNR gap to capacity")
    truncated: TruncatedShannon = Field(
        default=TruncatedShannon(), description="truncated_shannon mapping parameters"
    )
    wifi_width_mhz: Literal[20, 40, 80, 160] = Field(
        default=20, description="wifi_mcs: channel width"
    )
    wifi_short_gi: bool = Field(
        default=False, description="wifi_mcs: short guard interval (400 ns)"
    )
    spatial_streams: PositiveInt = Field(
        default=1, description="wifi_mcs: number of spatial streams"
    )
    mac_efficiency: Probability = Field(
        default=0.6, description="WiFi MAC throughput / PHY rate (channels.md §B.6: 50-70 %) [1]"
    )

    def interference_db(self) -> float:
        """Interference over thermal [dB]: the given margin plus the neighbours' noise rise
        -10 log10(1 - eta) at their load eta (docs/concepts/handover.md)."""
        return self.interference_margin_db - 10.0 * math.log10(1.0 - self.neighbour_load)

    def resolved_prbs(self) -> int:
        if self.prbs is not None:
            return self.prbs
        tech = "lte" if self.mapping == "lte_cqi" else "nr"
        prbs = ratemap.default_prbs(self.bandwidth_hz, self.subcarrier_khz, tech)
        if prbs is None:
            # ~90 % spectral occupancy when the bandwidth is not tabulated.
            prbs = max(1, int(0.9 * self.bandwidth_hz / (12 * self.subcarrier_khz * 1e3)))
        return prbs

    def resolved_overhead(self) -> float:
        if self.overhead is not None:
            return self.overhead
        return 0.25 if self.mapping in ("lte_cqi", "nr_cqi_256qam", "shannon") else 0.0

    def occupied_bandwidth_hz(self) -> float:
        if self.mapping == "wifi_mcs":
            return self.wifi_width_mhz * 1e6
        if self.mapping in ("lte_cqi", "nr_cqi_256qam"):
            return self.resolved_prbs() * 12 * self.subcarrier_khz * 1e3
        return self.bandwidth_hz

    def cqi_rate_table(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(SINR thresholds [dB], rate of each CQI level [bit/s]) of a CQI mapping, else None.

        ``level_rates[searchsorted(thresholds, snr, 'right')]`` equals :meth:`rate_bps`.
        """
        keep = (1.0 - self.resolved_overhead()) * self.uplink_share
        if self.mapping == "lte_cqi":
            thresholds = ratemap.LTE_CQI_SINR_DB
            efficiency = ratemap.LTE_CQI_EFFICIENCY
            res = ratemap.resource_elements_per_s(self.resolved_prbs(), 15)
        elif self.mapping == "nr_cqi_256qam":
            thresholds = ratemap.NR_CQI256_SINR_DB_DL + ratemap.NR_UL_THRESHOLD_OFFSET_DB
            efficiency = ratemap.NR_CQI256_EFFICIENCY
            res = ratemap.resource_elements_per_s(self.resolved_prbs(), self.subcarrier_khz)
        else:
            return None
        return np.asarray(thresholds, dtype=float), np.concatenate([[0.0], efficiency]) * res * keep

    def rate_bps(self, snr_db: np.ndarray, rx_power_dbm: np.ndarray) -> np.ndarray:
        """Rate [bit/s] for each SINR [dB] (and received power [dBm] for WiFi, whose MCS
        sensitivities are met ``interference_db()`` later, as LTE's SINR is lowered)."""
        keep = (1.0 - self.resolved_overhead()) * self.uplink_share
        if self.mapping == "wifi_mcs":
            # The 802.11 sensitivities are for a noise-limited receiver: interference over
            # thermal raises the floor, so each MCS needs that much more received power.
            phy = ratemap.wifi_phy_rate_bps(
                np.asarray(rx_power_dbm, dtype=float) - self.interference_db(),
                self.wifi_width_mhz,
                self.wifi_short_gi,
                self.spatial_streams,
            )
            return phy * self.mac_efficiency * keep
        if self.mapping == "lte_cqi":
            eff = ratemap.cqi_efficiency(
                snr_db, ratemap.LTE_CQI_EFFICIENCY, ratemap.LTE_CQI_SINR_DB
            )
            return eff * ratemap.resource_elements_per_s(self.resolved_prbs(), 15) * keep
        if self.mapping == "nr_cqi_256qam":
            thresholds = ratemap.NR_CQI256_SINR_DB_DL + ratemap.NR_UL_THRESHOLD_OFFSET_DB
            eff = ratemap.cqi_efficiency(snr_db, ratemap.NR_CQI256_EFFICIENCY, thresholds)
            res = ratemap.resource_elements_per_s(self.resolved_prbs(), self.subcarrier_khz)
            return eff * res * keep
        if self.mapping == "truncated_shannon":
            t = self.truncated
            eff = ratemap.truncated_shannon_efficiency(snr_db, t.alpha, t.snr_min_db, t.eff_max)
            return eff * self.bandwidth_hz * keep
        eff = ratemap.shannon_efficiency(snr_db, self.shannon_gap_db)
        return eff * self.bandwidth_hz * keep


class HandoverConfig(Strict):
    """Handover to the strongest station: event A3 (TS 36.331 / 38.331 §5.5.4.4), entering
    when neighbour loss + hysteresis_db + a3_offset_db < serving loss, held for
    time_to_trigger_s (sim/channel/handover.py; docs/concepts/handover.md)."""

    hysteresis_db: NonNegFloat = Field(
        default=3.0,
        le=30.0,
        description="A3 hysteresis Hys [dB]: a neighbour must be better by this (plus "
        "a3_offset_db) to trigger a handover; the Hysteresis IE allows 0-30 dB (ns-3 default 3)",
    )
    a3_offset_db: float = Field(
        default=0.0,
        ge=-15.0,
        le=15.0,
        description="A3 offset Off [dB], added to hysteresis_db (may be negative: then a "
        "neighbour up to that much worse triggers); a3-Offset allows -15..15 dB (ns-3 default 0)",
    )
    time_to_trigger_s: NonNegFloat = Field(
        default=0.16,
        le=5.12,
        description="how long the A3 condition must hold [s], counted in whole steps of "
        "step_s (rounded up); TS 36.331 allows 0-5.12 s (ns-3 default 0.256)",
    )
    interruption_s: NonNegFloat = Field(
        default=0.05,
        description="uplink gap while the device re-attaches [s], rounded up to whole steps "
        "(Simu5G's handoverLatency 50 ms, assumed)",
    )


class BlockageConfig(Strict):
    """On/off blockage (bodies, vehicles) as a continuous-time two-state process."""

    mean_clear_s: PositiveFloat = Field(description="mean time between blockages (exponential)")
    mean_blocked_s: PositiveFloat = Field(description="mean blockage duration (exponential)")
    loss_db: PositiveFloat = Field(
        default=20.0, description="extra loss while blocked [dB] (TR 38.901 §7.6.4 order)"
    )


class PhysicalUplink(Strict):
    """Uplink capacity from geometry, propagation, fading and link adaptation."""

    kind: Literal["physical"]
    scenario: PathLossScenario = Field(
        default="uma",
        description="3GPP TR 38.901 path-loss scenario: uma, umi (street canyon), inh (indoor "
        "office), rma",
    )
    carrier_ghz: PositiveFloat = Field(default=2.0, description="carrier frequency")
    base_stations: list[BaseStation] = Field(
        default_factory=lambda: [BaseStation(name="bs0")],
        min_length=1,
        description="stations of the cell; a device is served by the one with the least path loss "
        "plus shadowing",
    )
    stations_as_cells: bool = Field(
        default=False,
        description="true: each base station is a cell of its own, named '<cell>/<station>', "
        "with its own shared uplink (when sharing is shared) and topology node "
        "(base_stations[].node); a transfer in flight at a handover resumes in the new cell; "
        "false: the stations share one cell (one scheduler, the cell's node)",
    )
    ue_height_m: PositiveFloat = Field(default=1.5, description="device antenna height")
    position_m: tuple[float, float] | None = Field(
        default=None, description="start position of every device [m] (else drawn)"
    )
    distance_m: tuple[PositiveFloat, PositiveFloat] | None = Field(
        default=None,
        description="start on a ring around the first station, uniform in area between "
        "the two radii [m]; default: uniform in the mobility area, else [50, 300] m",
    )
    mobility: MobilityConfig = Field(
        default=StaticMobility(kind="static"),
        description="how the devices move (kind: static, straight_line, random_waypoint)",
    )
    los: Literal["probabilistic", "los", "nlos"] = Field(
        default="probabilistic",
        description="line-of-sight state: probabilistic (TR 38.901 Table 7.4.2-1, spatially "
        "consistent), los or nlos",
    )
    shadowing: bool = Field(
        default=True, description="log-normal shadowing, correlated over the distance travelled"
    )
    fading: FadingConfig = FadingConfig()
    link: LinkConfig = LinkConfig()
    handover: HandoverConfig = HandoverConfig()
    blockage: BlockageConfig | None = None
    step_s: PositiveFloat = Field(default=0.01, description="capacity grid [s]")
    chunk_s: PositiveFloat = Field(default=10.0, description="generated per numpy chunk [s]")

    @model_validator(mode="after")
    def _check(self) -> PhysicalUplink:
        if self.distance_m is not None and self.distance_m[0] > self.distance_m[1]:
            raise ValueError("distance_m must be [low, high] with low <= high")
        names = [b.name for b in self.base_stations]
        if len(set(names)) != len(names):
            raise ValueError("base station names must be unique")
        if self.chunk_s < self.step_s:
            raise ValueError("chunk_s must be at least step_s")
        if not self.stations_as_cells:
            named = [b.name for b in self.base_stations if b.node is not None]
            if named:
                raise ValueError(
                    f"base station(s) {', '.join(named)} set a node, which only a station that "
                    "is a cell of its own has: set stations_as_cells: true or remove node"
                )
        check_start(self)  # a start outside the mobility area (position_m, distance_m)
        return self
