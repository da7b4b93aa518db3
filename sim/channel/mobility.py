"""Device mobility: static, straight line (reflected at the area's edges), random waypoint.

A trajectory is sampled in chunks of increasing times and returns the
position (x, y) [m] and the distance travelled since t = 0 [m]. The travelled
distance drives the spatially correlated processes (shadowing, LOS state,
fading phase); the position drives the path loss to every base station.

Random waypoint (Johnson & Maltz 1996; as in ns-3 ``RandomWaypointMobilityModel``):
pick a destination uniformly in the area, move to it in a straight line at a
speed drawn uniformly from [v_min, v_max], pause for a time drawn uniformly from
[pause_min, pause_max], repeat. v_min > 0 is required (with v_min = 0 the mean
speed decays over time: Yoon, Liu & Noble, INFOCOM 2003).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.validation import NonNegFloat, PositiveFloat, Strict


class Area(Strict):
    """A rectangle [m]."""

    x_m: tuple[float, float] = Field(description="[low, high] x range")
    y_m: tuple[float, float] = Field(description="[low, high] y range")

    @model_validator(mode="after")
    def _ordered(self) -> Area:
        if not (self.x_m[0] < self.x_m[1] and self.y_m[0] < self.y_m[1]):
            raise ValueError("area bounds must be [low, high] with low < high")
        return self

    def contains(self, x_m: float, y_m: float) -> bool:
        """Whether (x_m, y_m) [m] lies in the rectangle, edges included."""
        return self.x_m[0] <= x_m <= self.x_m[1] and self.y_m[0] <= y_m <= self.y_m[1]

    def describe(self) -> str:
        """The bounds as a user would write them, for error messages."""
        return (
            f"x in [{self.x_m[0]:g}, {self.x_m[1]:g}] and y in [{self.y_m[0]:g}, {self.y_m[1]:g}]"
        )

    def uniform(self, rng: np.random.Generator, count: int) -> np.ndarray:
        """``count`` points drawn uniformly, shape (count, 2) [m]."""
        return np.column_stack(
            [rng.uniform(*self.x_m, size=count), rng.uniform(*self.y_m, size=count)]
        )


class StaticMobility(Strict):
    """The device does not move."""

    kind: Literal["static"]


class StraightLineMobility(Strict):
    """Constant velocity; inside ``area_m`` the device is reflected at the edges.

    The start must lie in ``area_m`` (checked with the uplink's settings,
    :func:`sim.channel.placement.check_start`): folding an outside start into the
    area would silently move it and reverse its direction.
    """

    kind: Literal["straight_line"]
    speed_mps: PositiveFloat = Field(description="constant speed")
    heading_deg: float | None = Field(
        default=None, description="direction of travel, 0 = +x, counter-clockwise (None: random)"
    )
    area_m: Area | None = Field(
        default=None, description="rectangle the device is reflected inside (null: unbounded)"
    )


class RandomWaypointMobility(Strict):
    """Random waypoint inside ``area_m``; the start must lie in it too (as for straight_line)."""

    kind: Literal["random_waypoint"]
    area_m: Area = Field(description="rectangle the waypoints are drawn in")
    speed_mps: tuple[PositiveFloat, PositiveFloat] = Field(
        description="[low, high] range of the speed drawn for each leg (low > 0)"
    )
    pause_s: tuple[NonNegFloat, NonNegFloat] = Field(
        default=(0.0, 0.0), description="[low, high] range of the pause at each waypoint"
    )

    @model_validator(mode="after")
    def _ranges(self) -> RandomWaypointMobility:
        if self.speed_mps[0] > self.speed_mps[1] or self.pause_s[0] > self.pause_s[1]:
            raise ValueError("ranges must be [low, high] with low <= high")
        return self


MobilityConfig = Annotated[
    StaticMobility | StraightLineMobility | RandomWaypointMobility,
    Field(discriminator="kind"),
]


class Trajectory:
    """Positions over time; ``sample`` is called with increasing times."""

    def sample(self, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x [m], y [m], distance travelled since t = 0 [m]) at each time."""
        raise NotImplementedError


class StaticTrajectory(Trajectory):
    def __init__(self, start_m: np.ndarray) -> None:
        self.start_m = np.asarray(start_m, dtype=float)

    def sample(self, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = len(times_s)
        return np.full(n, self.start_m[0]), np.full(n, self.start_m[1]), np.zeros(n)


def _reflect(u: np.ndarray, low: float, high: float) -> np.ndarray:
    """Fold an unbounded coordinate into [low, high] by mirror reflection at the edges."""
    span = high - low
    w = np.mod(u - low, 2.0 * span)
    return low + np.where(w <= span, w, 2.0 * span - w)


class StraightLineTrajectory(Trajectory):
    def __init__(
        self, start_m: np.ndarray, speed_mps: float, heading_rad: float, area: Area | None
    ) -> None:
        self.start_m = np.asarray(start_m, dtype=float)
        self.speed_mps = float(speed_mps)
        self.velocity = speed_mps * np.array([np.cos(heading_rad), np.sin(heading_rad)])
        self.area = area

    def sample(self, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.asarray(times_s, dtype=float)
        x = self.start_m[0] + self.velocity[0] * t
        y = self.start_m[1] + self.velocity[1] * t
        if self.area is not None:
            x = _reflect(x, *self.area.x_m)
            y = _reflect(y, *self.area.y_m)
        return x, y, self.speed_mps * t


class RandomWaypointTrajectory(Trajectory):
    """Legs (move then pause) generated in batches; old legs are dropped as time passes."""

    BATCH = 64

    def __init__(
        self, start_m: np.ndarray, config: RandomWaypointMobility, rng: np.random.Generator
    ) -> None:
        self.config = config
        self.rng = rng
        self.t_move = np.zeros(0)  # leg start [s]
        self.t_arrive = np.zeros(0)  # arrival at the waypoint [s]
        self.p_from = np.zeros((0, 2))
        self.p_to = np.zeros((0, 2))
        self.dist_before = np.zeros(0)  # distance travelled before each leg [m]
        self._next_t = 0.0
        self._next_p = np.asarray(start_m, dtype=float)
        self._next_dist = 0.0

    def _more_legs(self) -> None:
        cfg, rng, n = self.config, self.rng, self.BATCH
        targets = cfg.area_m.uniform(rng, n)
        speeds = rng.uniform(*cfg.speed_mps, size=n)
        pauses = rng.uniform(*cfg.pause_s, size=n)
        starts = np.vstack([self._next_p, targets[:-1]])
        lengths = np.linalg.norm(targets - starts, axis=1)
        move_s = lengths / speeds
        leg_total = move_s + pauses
        t_move = self._next_t + np.concatenate([[0.0], np.cumsum(leg_total)[:-1]])
        dist_before = self._next_dist + np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
        self.t_move = np.concatenate([self.t_move, t_move])
        self.t_arrive = np.concatenate([self.t_arrive, t_move + move_s])
        self.p_from = np.vstack([self.p_from, starts])
        self.p_to = np.vstack([self.p_to, targets])
        self.dist_before = np.concatenate([self.dist_before, dist_before])
        self._next_t = float(t_move[-1] + leg_total[-1])
        self._next_p = targets[-1]
        self._next_dist = float(dist_before[-1] + lengths[-1])

    def sample(self, times_s: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.asarray(times_s, dtype=float)
        while self._next_t <= t[-1]:
            self._more_legs()
        # Drop legs that ended before this chunk (keep the one in progress).
        keep = int(np.searchsorted(self.t_move, t[0], side="right")) - 1
        if keep > 0:
            self.t_move, self.t_arrive = self.t_move[keep:], self.t_arrive[keep:]
            self.p_from, self.p_to = self.p_from[keep:], self.p_to[keep:]
            self.dist_before = self.dist_before[keep:]
        leg = np.searchsorted(self.t_move, t, side="right") - 1
        duration = self.t_arrive[leg] - self.t_move[leg]
        frac = np.clip((t - self.t_move[leg]) / np.where(duration > 0, duration, 1.0), 0.0, 1.0)
        frac = np.where(duration > 0, frac, 1.0)
        pos = self.p_from[leg] + frac[:, None] * (self.p_to[leg] - self.p_from[leg])
        lengths = np.linalg.norm(self.p_to[leg] - self.p_from[leg], axis=1)
        return pos[:, 0], pos[:, 1], self.dist_before[leg] + frac * lengths


def make_trajectory(
    config: StaticMobility | StraightLineMobility | RandomWaypointMobility,
    start_m: np.ndarray,
    rng: np.random.Generator,
) -> Trajectory:
    """The trajectory of one device from ``start_m``; random choices come from ``rng``."""
    if isinstance(config, StaticMobility):
        return StaticTrajectory(start_m)
    if isinstance(config, StraightLineMobility):
        heading = (
            np.deg2rad(config.heading_deg)
            if config.heading_deg is not None
            else rng.uniform(0.0, 2.0 * np.pi)
        )
        return StraightLineTrajectory(start_m, config.speed_mps, heading, config.area_m)
    return RandomWaypointTrajectory(start_m, config, rng)
