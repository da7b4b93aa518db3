"""Radio power-state model of a device's uplink: promotion, transfer, tail, idle.

Huang et al., "A Close Examination of Performance and Power Characteristics of
4G LTE Networks", MobiSys 2012 (figures as tabulated in
../shared/reference/channels.md §B.10):

* transfer power P = beta + alpha_u * R_ul [mW], R_ul in Mbit/s, so a transfer of
  B bits lasting d seconds costs beta*d + alpha_u*B/1e6 [mJ];
* a transfer that finds the radio idle first pays a promotion (delay and power);
* after the last transfer the radio stays in a high-power tail before idling;
  a transfer inside the tail pays no promotion.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from sim.validation import NonNegFloat, Strict

RadioKind = Literal["lte", "wifi", "nr", "none"]


class RadioPowerModel(Strict):
    """Power-state figures of one radio kind [W, s, W per Mbit/s]."""

    promotion_w: NonNegFloat
    promotion_s: NonNegFloat
    tx_base_w: NonNegFloat = Field(description="beta: power while transferring, at zero rate [W]")
    tx_w_per_mbps: NonNegFloat = Field(description="alpha_u: extra power per Mbit/s of uplink [W]")
    tail_w: NonNegFloat
    tail_s: NonNegFloat
    idle_w: NonNegFloat = 0.0
    source: str = ""

    def transfer_energy_j(self, duration_s: float, bits: float) -> float:
        return self.tx_base_w * duration_s + self.tx_w_per_mbps * bits / 1e6


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
