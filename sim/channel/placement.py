"""Where a physical-uplink device starts, the speed its fading follows, and spatially
correlated normal fields of the distance it travels (LOS state, shadowing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.channel.mobility import MobilityConfig, RandomWaypointMobility, StraightLineMobility

if TYPE_CHECKING:
    from sim.channel.physical_config import PhysicalUplink


class CorrelatedNormal:
    """``count`` independent N(0, 1) processes of the distance travelled, exponential ACF.

    Values live on a grid of d_cor / 20 [m] (AR(1) with R = exp(-1/20) per
    cell, exact marginal and correlation on the grid); a position takes the
    value of its grid cell. A static device keeps its first value. Cells are
    drawn in order from the field's own stream, so a cell's value does not
    depend on which positions were asked for before.
    """

    CELLS_PER_DECORRELATION = 20

    def __init__(self, rng: np.random.Generator, decorrelation_m: float, count: int) -> None:
        self.rng = rng
        self.cell_m = decorrelation_m / self.CELLS_PER_DECORRELATION
        self.rho = float(np.exp(-1.0 / self.CELLS_PER_DECORRELATION))
        self.values = rng.standard_normal((1, count)).T

    def at(self, distance_m: np.ndarray) -> np.ndarray:
        cells = np.floor(np.asarray(distance_m) / self.cell_m).astype(np.int64)
        need = int(cells.max()) + 1 if cells.size else 1
        have = self.values.shape[1]
        if need > have:
            count = self.values.shape[0]
            extra = max(need - have, have)  # geometric growth
            # Cell by cell (all stations' values of a cell together), so the values do not
            # depend on how the cells were batched.
            w = self.rng.standard_normal((extra, count)).T * np.sqrt(1.0 - self.rho**2)
            zi = (self.rho * self.values[:, -1])[:, None]
            from scipy.signal import lfilter  # here: scipy.signal costs ~1 s to import

            more, _ = lfilter([1.0], [1.0, -self.rho], w, axis=1, zi=zi)
            self.values = np.concatenate([self.values, more], axis=1)
        return self.values[:, cells]


def start_position(config: PhysicalUplink, rng: np.random.Generator) -> np.ndarray:
    """The device's start (x, y) [m]: given, uniform in its waypoint area, or in an annulus
    of ``distance_m`` (default 50-300 m) around the first station."""
    if config.position_m is not None:
        return np.asarray(config.position_m, dtype=float)
    area = getattr(config.mobility, "area_m", None)
    if config.distance_m is None and area is not None:
        return area.uniform(rng, 1)[0]
    low, high = config.distance_m or (50.0, 300.0)
    radius = np.sqrt(rng.uniform(low**2, high**2))
    angle = rng.uniform(0.0, 2.0 * np.pi)
    bs = config.base_stations[0]
    return np.array([bs.x_m + radius * np.cos(angle), bs.y_m + radius * np.sin(angle)])


def nominal_speed_mps(mobility: MobilityConfig) -> float:
    """The speed that sets AR(1) and block fading's Doppler [m/s] (random waypoint: the mean
    of its speed range)."""
    if isinstance(mobility, StraightLineMobility):
        return mobility.speed_mps
    if isinstance(mobility, RandomWaypointMobility):
        return 0.5 * (mobility.speed_mps[0] + mobility.speed_mps[1])
    return 0.0
