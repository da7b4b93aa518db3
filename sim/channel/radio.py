"""Radio power-state model of a device's radio: promotion, transfer, reception, tail, idle.

Huang et al., "A Close Examination of Performance and Power Characteristics of
4G LTE Networks", MobiSys 2012 (figures as tabulated in
../shared/reference/channels.md §B.10):

* transfer power P = beta + alpha_u * R_ul [mW], R_ul in Mbit/s, so a transfer of
  B bits lasting d seconds costs beta*d + alpha_u*B/1e6 [mJ];
* a transfer that finds the radio idle first pays a promotion (delay and power);
* after the last transfer the radio stays in a high-power tail before idling;
  a transfer inside the tail pays no promotion. 3G has two tail stages (DCH
  then FACH); a transfer in either pays no promotion (simplification: the
  FACH -> DCH promotion is not modelled).

Optional transmit-power term (``tx_rf: lauridsen2014``): Lauridsen et al.,
"An Empirical LTE Smartphone Power Model with a View to Energy Efficiency
Evolution", Intel Technology Journal 18(1), 2014 (channels.md §B.10, [M]):
P_TxRF(S) [mW] = 0.78 S + 23.6 for S <= 0.2 dBm; 17.0 S + 45.4 up to 11.4 dBm;
5.9 S^2 - 118 S + 1195 above (about 1.6 W at 23 dBm). It is added to the
transfer power at the transmit power S of the device (from the physical
channel's power control when there is one, else ``tx_power_dbm``). Huang's
beta was measured at an unknown transmit power, so with the term on, absolute
levels are an upper estimate; use it to compare cell-edge and cell-centre
devices. The pieces as tabulated do not meet at 11.4 dBm (239 vs 617 mW):
check the original before relying on mid-range powers.

Reception (the downlink, :mod:`sim.channel.downlink`): Huang's full model is
P = beta + alpha_u R_ul + alpha_d R_dl; receiving B bits over d seconds costs
beta*d + alpha_d*B/1e6 [mJ], alpha_d = ``rx_w_per_mbps`` (LTE 51.97, 3G 122.12,
WiFi 137.01 mW per Mbit/s: channels.md §B.10, Huang et al. MobiSys 2012
Table 4 as tabulated there; uplink bits cost 8.4x more than downlink bits on
LTE). ``rx_fitted_max_mbps`` caps the alpha_d term like the uplink's range
(ASSUMED, see the constants below).

Range: each preset carries the uplink rate its linear fit covers
(``fitted_max_mbps``). Above it the simulator **caps** (the alpha_u term is
taken at the range's top: P = beta + alpha_u x min(R, R_max)) and **warns**
once per run with the number of transfers affected (:func:`sim.collect.collect`);
it never extrapolates the line (Huang's LTE line at 100 Mbit/s would give a
45 W modem). The ranges are not tabulated in channels.md §B.10: they are
ASSUMED from the paper's setting (a 2011-12 phone on AT&T LTE; 4GTest's median
LTE uplink 6 Mbit/s, channels.md §B.8) and should be checked against the
original's power-throughput figure.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from sim.validation import NonNegFloat, Strict

RadioKind = Literal["lte", "wifi", "nr", "3g", "none"]


def lauridsen_tx_rf_w(tx_power_dbm: float) -> float:
    """Lauridsen et al. ITJ 2014 Tx RF power [W] at transmit power ``tx_power_dbm`` [dBm]."""
    s = tx_power_dbm
    if s <= 0.2:
        mw = 0.78 * s + 23.6
    elif s <= 11.4:
        mw = 17.0 * s + 45.4
    else:
        mw = 5.9 * s * s - 118.0 * s + 1195.0
    return max(mw, 0.0) / 1000.0


class RadioPowerModel(Strict):
    """Power-state figures of one radio kind [W, s, W per Mbit/s]."""

    promotion_w: NonNegFloat = Field(
        description="power while the radio promotes from idle to connected"
    )
    promotion_s: NonNegFloat = Field(
        description="promotion delay before a transfer that finds the radio idle"
    )
    tx_base_w: NonNegFloat = Field(description="beta: power while transferring, at zero rate [W]")
    tx_w_per_mbps: NonNegFloat = Field(description="alpha_u: extra power per Mbit/s of uplink [W]")
    rx_w_per_mbps: NonNegFloat = Field(
        default=0.0,
        description="alpha_d: extra power per Mbit/s of downlink while receiving [W per Mbit/s] "
        "(0: receiving costs beta alone)",
    )
    rx_fitted_max_mbps: float | None = Field(
        default=None,
        gt=0,
        description="highest downlink rate the reception-power fit covers [Mbit/s]; above it the "
        "alpha_d term is capped at this rate; null: no cap",
    )
    tail_w: NonNegFloat = Field(description="power in the tail after the last transfer")
    tail_s: NonNegFloat = Field(description="tail length (charged to the request before it)")
    tail2_w: NonNegFloat = Field(default=0.0, description="second tail stage (3G FACH) [W]")
    tail2_s: NonNegFloat = Field(default=0.0, description="second tail stage length [s]")
    idle_w: NonNegFloat = Field(
        default=0.0, description="radio power when idle (counted in the board's idle power when 0)"
    )
    fitted_max_mbps: float | None = Field(
        default=None,
        gt=0,
        description="highest uplink rate the transfer-power fit covers [Mbit/s]; above it the "
        "alpha_u term is capped at this rate (and the run warns); null: no cap (a model you give)",
    )
    tx_rf: Literal["none", "lauridsen2014"] = Field(
        default="none",
        description="add the Tx-RF power of Lauridsen et al. 2014 at the device's transmit power",
    )
    tx_power_dbm: float = Field(
        default=23.0, description="transmit power for tx_rf when the channel does not set it"
    )
    source: str = Field(
        default="", description="where these figures come from (free text, reported in the results)"
    )

    @property
    def tail_total_s(self) -> float:
        return self.tail_s + self.tail2_s

    def tail_power_w(self) -> list[tuple[float, float, float]]:
        """Tail stages as (start offset [s], end offset [s], power [W])."""
        return [
            (0.0, self.tail_s, self.tail_w),
            (self.tail_s, self.tail_s + self.tail2_s, self.tail2_w),
        ]

    def tail_energy_j(self, duration_s: float) -> float:
        """Energy of the first ``duration_s`` of the tail [J]."""
        return sum(w * max(0.0, min(duration_s, b) - a) for a, b, w in self.tail_power_w())

    @property
    def fitted_max_bps(self) -> float:
        """Top of the fitted uplink range [bit/s] (inf when the model carries none)."""
        return math.inf if self.fitted_max_mbps is None else self.fitted_max_mbps * 1e6

    def transfer_power_w(self, rate_bps: float) -> float:
        """Transfer power at uplink rate ``rate_bps`` [W], capped at the fitted range (no tx_rf)."""
        return self.tx_base_w + self.tx_w_per_mbps * min(rate_bps, self.fitted_max_bps) / 1e6

    @property
    def rx_fitted_max_bps(self) -> float:
        """Top of the fitted downlink range [bit/s] (inf when the model carries none)."""
        return math.inf if self.rx_fitted_max_mbps is None else self.rx_fitted_max_mbps * 1e6

    def receive_energy_j(self, duration_s: float, bits: float) -> float:
        """beta d + alpha_d min(B/1e6, R_max,d d) [J]: receiving ``bits`` over ``duration_s``
        (Huang et al. 2012's downlink term; no transmit-power term)."""
        megabits = bits / 1e6
        if self.rx_fitted_max_mbps is not None:
            megabits = min(megabits, self.rx_fitted_max_mbps * max(duration_s, 0.0))
        return self.tx_base_w * duration_s + self.rx_w_per_mbps * megabits

    def transfer_energy_j(
        self, duration_s: float, bits: float, tx_power_dbm: float | None = None
    ) -> float:
        """beta d + alpha_u min(B/1e6, R_max d) (+ P_TxRF(S) d with ``tx_rf``) [J].

        At a mean rate inside the fitted range this is Huang's beta d + alpha_u B; above it the
        rate term stops growing (capped at ``fitted_max_mbps``).
        """
        megabits = bits / 1e6
        if self.fitted_max_mbps is not None:
            megabits = min(megabits, self.fitted_max_mbps * max(duration_s, 0.0))
        energy = self.tx_base_w * duration_s + self.tx_w_per_mbps * megabits
        if self.tx_rf == "lauridsen2014":
            power = self.tx_power_dbm if tx_power_dbm is None else tx_power_dbm
            energy += lauridsen_tx_rf_w(power) * duration_s
        return energy


HUANG = "Huang et al. MobiSys'12 (channels.md §B.10)"
RANGE_NOTE = "(ASSUMED range, see sim/channel/radio.py)"
LTE_FITTED_MAX_MBPS = 10.0
"""Top of the LTE fit's uplink range [Mbit/s], ASSUMED: above 4GTest's 6 Mbit/s median uplink,
within a 2012 LTE phone's reach (UE category 3: 51 Mbit/s peak, rarely reached)."""
WIFI_FITTED_MAX_MBPS = 10.0
"""Top of the WiFi fit's uplink range [Mbit/s], ASSUMED (an 802.11g/n phone of 2012)."""
G3_FITTED_MAX_MBPS = 2.0
"""Top of the 3G fit's uplink range [Mbit/s], ASSUMED (HSUPA phones of 2012 rarely passed 2)."""
LTE_RX_FITTED_MAX_MBPS = 20.0
"""Top of the LTE fit's downlink range [Mbit/s], ASSUMED: above 4GTest's 13 Mbit/s median LTE
downlink (channels.md §B.8), within a 2012 category-3 phone's reach."""
WIFI_RX_FITTED_MAX_MBPS = 20.0
"""Top of the WiFi fit's downlink range [Mbit/s], ASSUMED (an 802.11g/n phone of 2012)."""
G3_RX_FITTED_MAX_MBPS = 5.0
"""Top of the 3G fit's downlink range [Mbit/s], ASSUMED (HSDPA phones of 2012; the Norway HSDPA
traces average 1.2 Mbit/s, p95 2.8: channels.md §A.1)."""

RADIO_PRESETS: dict[str, RadioPowerModel] = {
    "lte": RadioPowerModel(
        promotion_w=1.2107,
        promotion_s=0.2601,
        tx_base_w=1.28804,
        tx_w_per_mbps=0.43839,
        rx_w_per_mbps=0.05197,
        tail_w=1.060,
        tail_s=11.576,
        idle_w=0.0,
        fitted_max_mbps=LTE_FITTED_MAX_MBPS,
        rx_fitted_max_mbps=LTE_RX_FITTED_MAX_MBPS,
        source=f"{HUANG}: LTE beta 1288.04 mW, alpha_u 438.39 mW/Mbps, alpha_d 51.97 mW/Mbps, "
        f"promotion 1210.7 mW 260.1 ms, tail 1060 mW 11.576 s; uplink range "
        f"0-{LTE_FITTED_MAX_MBPS:g}, downlink 0-{LTE_RX_FITTED_MAX_MBPS:g} Mbit/s {RANGE_NOTE}",
    ),
    "wifi": RadioPowerModel(
        promotion_w=0.124,
        promotion_s=0.079,
        tx_base_w=0.13286,
        tx_w_per_mbps=0.28317,
        rx_w_per_mbps=0.13701,
        tail_w=0.119,
        tail_s=0.238,
        idle_w=0.0,
        fitted_max_mbps=WIFI_FITTED_MAX_MBPS,
        rx_fitted_max_mbps=WIFI_RX_FITTED_MAX_MBPS,
        source=f"{HUANG}: WiFi beta 132.86 mW, alpha_u 283.17 mW/Mbps, alpha_d 137.01 mW/Mbps, "
        f"promotion 124 mW 79 ms, tail 119 mW 238 ms; uplink range "
        f"0-{WIFI_FITTED_MAX_MBPS:g}, downlink 0-{WIFI_RX_FITTED_MAX_MBPS:g} Mbit/s {RANGE_NOTE}",
    ),
    # No public 5G NR model was verified; channels.md suggests the LTE model with beta x1.2-1.5.
    "nr": RadioPowerModel(
        promotion_w=1.2107 * 1.3,
        promotion_s=0.2601,
        tx_base_w=1.28804 * 1.3,
        tx_w_per_mbps=0.43839,
        rx_w_per_mbps=0.05197,
        tail_w=1.060 * 1.3,
        tail_s=11.576,
        idle_w=0.0,
        fitted_max_mbps=LTE_FITTED_MAX_MBPS,
        rx_fitted_max_mbps=LTE_RX_FITTED_MAX_MBPS,
        source=f"ASSUMED: {HUANG} LTE figures with power x1.3, alpha_u and alpha_d unscaled "
        f"(channels.md §B.10, 5G NR note); capped at the LTE fit's ranges "
        f"0-{LTE_FITTED_MAX_MBPS:g} (uplink), 0-{LTE_RX_FITTED_MAX_MBPS:g} Mbit/s (downlink)",
    ),
    "3g": RadioPowerModel(
        promotion_w=0.659,
        promotion_s=0.582,
        tx_base_w=0.81788,
        tx_w_per_mbps=0.86898,
        rx_w_per_mbps=0.12212,
        tail_w=0.804,
        tail_s=8.1,
        tail2_w=0.601,
        tail2_s=0.824,
        idle_w=0.0,
        fitted_max_mbps=G3_FITTED_MAX_MBPS,
        rx_fitted_max_mbps=G3_RX_FITTED_MAX_MBPS,
        source=f"{HUANG}: 3G beta 817.88 mW, alpha_u 868.98 mW/Mbps, alpha_d 122.12 mW/Mbps, "
        f"promotion 659 mW 582 ms, DCH tail 804 mW 8.1 s, FACH tail 601 mW 824 ms; uplink range "
        f"0-{G3_FITTED_MAX_MBPS:g}, downlink 0-{G3_RX_FITTED_MAX_MBPS:g} Mbit/s {RANGE_NOTE}",
    ),
    "none": RadioPowerModel(
        promotion_w=0.0,
        promotion_s=0.0,
        tx_base_w=0.0,
        tx_w_per_mbps=0.0,
        tail_w=0.0,
        tail_s=0.0,
        source="no radio energy accounted",
    ),
}
