"""Request arrivals of one device: periodic frames, Poisson, bursty on/off (MMPP-2), timestamps.

Arrival times are drawn up front, as a sorted numpy array over the run's
horizon, from the device's own named stream. They do not depend on the
strategy, so every strategy in a comparison sees the same arrivals.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, model_validator

from sim.validation import NonNegFloat, PositiveFloat, Strict


class Periodic(Strict):
    """Frames at ``fps`` with a random phase per device and optional Gaussian jitter [s]."""

    kind: Literal["periodic"]
    fps: PositiveFloat = Field(description="frames per second of each device [1/s]")
    jitter_s: NonNegFloat = Field(
        default=0.0, description="standard deviation of Gaussian jitter added to each frame time"
    )
    random_phase: bool = Field(
        default=True,
        description="each device starts at a random phase of the frame period (false: all at t = "
        "0)",
    )


class Poisson(Strict):
    """Poisson arrivals at ``rate_hz``."""

    kind: Literal["poisson"]
    rate_hz: PositiveFloat = Field(description="mean arrival rate of each device")


class OnOff(Strict):
    """Bursty on/off: a 2-state Markov-modulated Poisson process (MMPP-2).

    In the on state requests arrive at ``on_rate_hz``, in the off state at
    ``off_rate_hz``; state holding times are exponential with the given means.
    """

    kind: Literal["on_off"]
    on_rate_hz: PositiveFloat = Field(description="arrival rate in the on state")
    off_rate_hz: NonNegFloat = Field(default=0.0, description="arrival rate in the off state")
    mean_on_s: PositiveFloat = Field(description="mean holding time of the on state (exponential)")
    mean_off_s: PositiveFloat = Field(
        description="mean holding time of the off state (exponential)"
    )

    @property
    def mean_rate_hz(self) -> float:
        total = self.mean_on_s + self.mean_off_s
        return (self.on_rate_hz * self.mean_on_s + self.off_rate_hz * self.mean_off_s) / total


class Timestamps(Strict):
    """An explicit list of arrival times [s] (the same for every device of the group)."""

    kind: Literal["timestamps"]
    times_s: list[NonNegFloat] = Field(
        min_length=1,
        description="arrival times, non-decreasing, the same for every device of the group",
    )

    @model_validator(mode="after")
    def _sorted(self) -> Timestamps:
        if any(b < a for a, b in zip(self.times_s, self.times_s[1:], strict=False)):
            raise ValueError("times_s must be in non-decreasing order")
        return self


WorkloadConfig = Annotated[Periodic | Poisson | OnOff | Timestamps, Field(discriminator="kind")]


def mean_rate_hz(config: WorkloadConfig, horizon_s: float) -> float:
    """Long-run mean arrival rate [1/s] (for size estimates and theory)."""
    if isinstance(config, Periodic):
        return config.fps
    if isinstance(config, Poisson):
        return config.rate_hz
    if isinstance(config, OnOff):
        return config.mean_rate_hz
    return len([t for t in config.times_s if t < horizon_s]) / horizon_s


def _poisson_times(
    rate_hz: float, start_s: float, end_s: float, rng: np.random.Generator
) -> np.ndarray:
    if rate_hz <= 0 or end_s <= start_s:
        return np.zeros(0)
    count = rng.poisson(rate_hz * (end_s - start_s))
    return np.sort(rng.uniform(start_s, end_s, size=count))


def arrival_times(config: WorkloadConfig, horizon_s: float, rng: np.random.Generator) -> np.ndarray:
    """Sorted arrival times in [0, horizon_s) [s]."""
    if isinstance(config, Periodic):
        period = 1.0 / config.fps
        phase = rng.uniform(0.0, period) if config.random_phase else 0.0
        times = phase + period * np.arange(int(np.ceil((horizon_s - phase) / period)) + 1)
        if config.jitter_s > 0:
            times = times + rng.normal(0.0, config.jitter_s, size=times.size)
            times = np.sort(np.maximum(times, 0.0))
    elif isinstance(config, Poisson):
        # Conditional on the count, Poisson arrivals are uniform order statistics.
        times = _poisson_times(config.rate_hz, 0.0, horizon_s, rng)
    elif isinstance(config, OnOff):
        pieces = []
        on = rng.random() < config.mean_on_s / (config.mean_on_s + config.mean_off_s)
        t = 0.0
        while t < horizon_s:
            hold = rng.exponential(config.mean_on_s if on else config.mean_off_s)
            end = min(t + hold, horizon_s)
            pieces.append(
                _poisson_times(config.on_rate_hz if on else config.off_rate_hz, t, end, rng)
            )
            t = end
            on = not on
        times = np.concatenate(pieces) if pieces else np.zeros(0)
    else:
        times = np.asarray(config.times_s, dtype=float)
    return times[times < horizon_s]
