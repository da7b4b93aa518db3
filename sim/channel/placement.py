"""Where a physical-uplink device starts (and which starts are refused), the speed its
fading follows, and spatially correlated normal fields of the distance it travels (LOS
state, shadowing).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.channel.mobility import (
    Area,
    MobilityConfig,
    RandomWaypointMobility,
    StraightLineMobility,
)
from sim.errors import SimInputError

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


DEFAULT_RING_M = (50.0, 300.0)  # start ring around the first station without an area [m]
MIN_RING_INSIDE = 1e-3  # least fraction of a start ring inside the mobility area [1]
MAX_RING_DRAWS = 1_000_000  # rejection draws: ~1000 expected at the least fraction allowed


def _ring_point(
    bs_xy: tuple[float, float], low_m: float, high_m: float, rng: np.random.Generator
) -> np.ndarray:
    """A point uniform in area in the ring low_m <= r <= high_m around ``bs_xy`` [m]."""
    radius = np.sqrt(rng.uniform(low_m**2, high_m**2))
    angle = rng.uniform(0.0, 2.0 * np.pi)
    return np.array([bs_xy[0] + radius * np.cos(angle), bs_xy[1] + radius * np.sin(angle)])


def ring_fraction_inside(
    bs_xy: tuple[float, float], low_m: float, high_m: float, area: Area, grid: int = 512
) -> float:
    """Fraction of the ring's area inside ``area`` [1], on an equal-area grid (radius² and
    angle midpoints, grid x 2 grid points: exact to ~1/grid)."""
    r2 = low_m**2 + (high_m**2 - low_m**2) * (np.arange(grid) + 0.5) / grid
    angle = 2.0 * np.pi * (np.arange(2 * grid) + 0.5) / (2 * grid)
    radius = np.sqrt(r2)[:, None]
    x = bs_xy[0] + radius * np.cos(angle)
    y = bs_xy[1] + radius * np.sin(angle)
    inside = (area.x_m[0] <= x) & (x <= area.x_m[1]) & (area.y_m[0] <= y) & (y <= area.y_m[1])
    return float(inside.mean())


def check_start(config: PhysicalUplink) -> None:
    """Refuse a start outside the mobility area (a straight-line device would be folded in
    by mirror reflection, starting elsewhere and driving backwards; a waypoint device
    would start outside the area it is meant to roam), and a start ring that barely meets
    the area. Raises SimInputError keyed relative to the uplink (``position_m``,
    ``distance_m``); called by the uplink's model validator."""
    area: Area | None = getattr(config.mobility, "area_m", None)
    if area is None:
        return
    where = f"mobility.area_m: {area.describe()}"
    if config.position_m is not None:
        x, y = config.position_m
        if not area.contains(x, y):
            raise SimInputError(
                "start position outside the mobility area",
                key="position_m",
                value=list(config.position_m),
                allowed=f"a point with {where}; or leave position_m out to draw the start in "
                "the area",
            )
        return
    if config.distance_m is not None:
        bs = config.base_stations[0]
        low, high = config.distance_m
        inside = ring_fraction_inside((bs.x_m, bs.y_m), low, high, area)
        if inside < MIN_RING_INSIDE:
            raise SimInputError(
                f"the start ring around station '{bs.name}' at ({bs.x_m:g}, {bs.y_m:g}) m "
                f"lies outside the mobility area ({100 * inside:.2g} % inside)",
                key="distance_m",
                value=list(config.distance_m),
                allowed=f"radii whose ring meets {where} (at least {100 * MIN_RING_INSIDE:g} % "
                "of it); or leave distance_m out to draw the start in the area",
            )


def start_position(config: PhysicalUplink, rng: np.random.Generator) -> np.ndarray:
    """The device's start (x, y) [m]: given, uniform in its mobility area, or uniform in the
    ring of ``distance_m`` (default 50-300 m) around the first station, and then inside
    the mobility area if there is one (drawn again until it is: uniform on the ring's part
    in the area). :func:`check_start` has refused a given start outside the area and a
    ring that barely meets it."""
    if config.position_m is not None:
        return np.asarray(config.position_m, dtype=float)
    area = getattr(config.mobility, "area_m", None)
    if config.distance_m is None and area is not None:
        return area.uniform(rng, 1)[0]
    low, high = config.distance_m or DEFAULT_RING_M
    bs = config.base_stations[0]
    for _ in range(MAX_RING_DRAWS):
        point = _ring_point((bs.x_m, bs.y_m), low, high, rng)
        if area is None or area.contains(float(point[0]), float(point[1])):
            return point
    raise RuntimeError("no start point in the ring's part inside the area (check_start missed)")


def nominal_speed_mps(mobility: MobilityConfig) -> float:
    """The speed that sets AR(1) and block fading's Doppler [m/s] (random waypoint: the mean
    of its speed range)."""
    if isinstance(mobility, StraightLineMobility):
        return mobility.speed_mps
    if isinstance(mobility, RandomWaypointMobility):
        return 0.5 * (mobility.speed_mps[0] + mobility.speed_mps[1])
    return 0.0
