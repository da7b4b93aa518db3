"""Radio power-state model of a device's uplink: promotion, transfer, tail, idle.

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
"""

from __future__ import annotations

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
    tail_w: NonNegFloat = Field(description="power in the tail after the last transfer")
    tail_s: NonNegFloat = Field(description="tail length (charged to the request before it)")
    tail2_w: NonNegFloat = Field(default=0.0, description="second tail stage (3G FACH) [W]")
    tail2_s: NonNegFloat = Field(default=0.0, description="second tail stage length [s]")
    idle_w: NonNegFloat = Field(
        default=0.0, description="radio power when idle (counted in the board's idle power when 0)"
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

    def transfer_energy_j(
        self, duration_s: float, bits: float, tx_power_dbm: float | None = None
    ) -> float:
        """beta d + alpha_u B/1e6 (+ P_TxRF(S) d with ``tx_rf``) [J]."""
        energy = self.tx_base_w * duration_s + self.tx_w_per_mbps * bits / 1e6
        if self.tx_rf == "lauridsen2014":
            power = self.tx_power_dbm if tx_power_dbm is None else tx_power_dbm
            energy += lauridsen_tx_rf_w(power) * duration_s
        return energy


HUANG = "Huang et al. MobiSys'12 (channels.md §B.10)"

RADIO_PRESETS: dict[str, RadioPowerModel] = {
    "lte": RadioPowerModel(
        promotion_w=1.2107,
        promotion_s=0.2601,
        tx_base_w=1.28804,
        tx_w_per_mbps=0.43839,
        tail_w=1.060,
        tail_s=11.576,
        idle_w=0.0,
        source=f"{HUANG}: LTE beta 1288.04 mW, alpha_u 438.39 mW/Mbps, promotion 1210.7 mW 260.1 ms, "
        "tail 1060 mW 11.576 s",
    ),
    "wifi": RadioPowerModel(
        promotion_w=0.124,
        promotion_s=0.079,
        tx_base_w=0.13286,
        tx_w_per_mbps=0.28317,
        tail_w=0.119,
        tail_s=0.238,
        idle_w=0.0,
        source=f"{HUANG}: WiFi beta 132.86 mW, alpha_u 283.17 mW/Mbps, promotion 124 mW 79 ms, tail 119 mW 238 ms",
    ),
    # No public 5G NR model was verified; channels.md suggests the LTE model with beta x1.2-1.5.
    "nr": RadioPowerModel(
        promotion_w=1.2107 * 1.3,
        promotion_s=0.2601,
        tx_base_w=1.28804 * 1.3,
        tx_w_per_mbps=0.43839,
        tail_w=1.060 * 1.3,
        tail_s=11.576,
        idle_w=0.0,
        source=f"ASSUMED: {HUANG} LTE figures with power x1.3 (channels.md §B.10, 5G NR note)",
    ),
    "3g": RadioPowerModel(
        promotion_w=0.659,
        promotion_s=0.582,
        tx_base_w=0.81788,
        tx_w_per_mbps=0.86898,
        tail_w=0.804,
        tail_s=8.1,
        tail2_w=0.601,
        tail2_s=0.824,
        idle_w=0.0,
        source=f"{HUANG}: 3G beta 817.88 mW, alpha_u 868.98 mW/Mbps, promotion 659 mW 582 ms, "
        "DCH tail 804 mW 8.1 s, FACH tail 601 mW 824 ms",
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
