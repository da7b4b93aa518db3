"""Coverage and fallback checks: devices leaving the cell, numbers from a fallback."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.preflight.findings import Finding

if TYPE_CHECKING:
    from sim.scenario.model import Scenario


def coverage(scenario: Scenario) -> list[Finding]:
    from sim.channel.mobility import RandomWaypointMobility, StaticMobility, StraightLineMobility
    from sim.channel.pathloss import SCENARIOS, noise_power_dbm
    from sim.channel.physical import PhysicalUplink

    findings: list[Finding] = []
    horizon_s = scenario.spec.duration_s
    for cell in scenario.spec.cells:
        uplink = cell.uplink
        if not isinstance(uplink, PhysicalUplink):
            continue
        params = SCENARIOS[uplink.scenario]
        stations = np.array([[b.x_m, b.y_m] for b in uplink.base_stations])
        heights = [b.height_m or params.default_bs_height_m for b in uplink.base_stations]
        link = uplink.link
        noise = float(noise_power_dbm(link.occupied_bandwidth_hz(), link.noise_figure_db))

        def median_rate_bps(d: float, uplink=uplink, height=heights[0], noise=noise) -> float:
            return _median_rate_bps(uplink, d, height, noise)

        if median_rate_bps(params.max_d2d_m) > 0:
            edge = math.inf
        else:
            low, high = 1.0, params.max_d2d_m
            if median_rate_bps(low) <= 0:
                edge = 0.0
            else:
                for _ in range(50):
                    mid = 0.5 * (low + high)
                    low, high = (mid, high) if median_rate_bps(mid) > 0 else (low, mid)
                edge = low
        if math.isinf(edge):
            continue
        mobility = uplink.mobility
        if uplink.position_m is not None:
            start_far = float(np.min(np.hypot(*(stations - np.array(uplink.position_m)).T)))
        elif uplink.distance_m is not None:
            start_far = float(uplink.distance_m[1])
        elif (area := getattr(mobility, "area_m", None)) is not None:
            start_far = _farthest_in_area(area, stations)
        else:
            start_far = 300.0
        if isinstance(mobility, StaticMobility):
            farthest, how = start_far, "start"
        elif isinstance(mobility, StraightLineMobility) and mobility.area_m is None:
            farthest = start_far + mobility.speed_mps * horizon_s
            how = f"drive ({mobility.speed_mps:g} m/s for {horizon_s:g} s, no area_m)"
        elif isinstance(mobility, StraightLineMobility | RandomWaypointMobility):
            farthest, how = _farthest_in_area(mobility.area_m, stations), "move (area_m)"
        else:
            continue
        if farthest > edge:
            findings.append(
                Finding(
                    "coverage",
                    f"cells.{cell.name}.uplink",
                    f"devices {how} up to {farthest:,.0f} m from the nearest station; beyond "
                    f"about {edge:,.0f} m the median uplink rate is 0 (NLOS, no shadowing or "
                    "fading): transfers stall there",
                )
            )
    return findings


def _median_rate_bps(uplink, distance_m: float, bs_height_m: float, noise_dbm: float) -> float:
    """Rate [bit/s] at ``distance_m`` from a station: NLOS path loss, full power, no shadowing
    or fading (the median link)."""
    from sim.channel.pathloss import path_loss_db

    link = uplink.link
    loss = float(
        path_loss_db(
            uplink.scenario,
            np.array([max(distance_m, 1.0)]),
            uplink.carrier_ghz,
            np.array([False]),
            bs_height_m,
            uplink.ue_height_m,
        )[0]
    )
    rx = link.tx_power_dbm + link.antenna_gain_db - loss
    snr = rx - noise_dbm - link.interference_margin_db
    return float(link.rate_bps(np.array([snr]), np.array([rx]))[0])


def _farthest_in_area(area, stations: np.ndarray) -> float:
    corners = np.array([[x, y] for x in area.x_m for y in area.y_m])
    nearest = [float(np.min(np.hypot(*(stations - c).T))) for c in corners]
    return max(nearest)


def fallbacks(scenario: Scenario) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for group in scenario.groups:
        device, model = group.device, group.model
        if (device.name, model.name) in seen:
            continue
        seen.add((device.name, model.name))
        times = device.models.get(model.name)
        cost = device.cost_model
        if times is None:
            findings.append(
                Finding(
                    "fallback",
                    f"devices.{group.spec.name}.device",
                    f"{device.name} has no per-block times for {model.name}: every device time "
                    f"comes from its cost model ({cost.provenance}: {cost.source})",
                )
            )
        else:
            missing = [b.name for b in model.blocks if b.name not in times.blocks_s]
            if missing:
                findings.append(
                    Finding(
                        "fallback",
                        f"devices.{group.spec.name}.device",
                        f"{device.name}: {len(missing)} of {len(model.blocks)} blocks of "
                        f"{model.name} have no time and use the cost model ({', '.join(missing[:4])}"
                        + (", ..." if len(missing) > 4 else "")
                        + ")",
                    )
                )
        power = device.power
        assumed = [n for n in ("idle_w", "compute_w") if getattr(power, n).provenance == "assumed"]
        if assumed:
            findings.append(
                Finding(
                    "fallback",
                    f"devices.{group.spec.name}.device",
                    f"{device.name}: {' and '.join(assumed)} are assumed placeholders "
                    "(calibrate the board's power: docs/calibrate_a_board.md)",
                )
            )
    for (server, part), service in sorted(scenario.service_models.items()):
        if service.source.startswith("server cost model"):
            findings.append(
                Finding(
                    "fallback",
                    f"servers.{server}.profile",
                    f"{part}: service time from the server's cost model (no measured batch "
                    f"curve; {service.provenance})",
                )
            )
    return findings
