"""Which base station serves a moving device: LTE/NR event A3 with time-to-trigger.

A3 (TS 36.331 / TS 38.331 §5.5.4.4) enters when Mn + Ofn + Ocn − Hys > Mp + Ofp + Ocp +
Off. With M = −(path loss + shadowing) + a common term and the cell-specific offsets 0,
that is: serving loss − neighbour loss > Hys + Off (``hysteresis_db + a3_offset_db``).
The best neighbour (least loss among the other stations) is the candidate; when the
condition has held for ``time_to_trigger_s`` the device hands over to it and the uplink
is interrupted for ``interruption_s``. The timer restarts when the condition lapses or
the best neighbour changes (one timer, for the best neighbour; 3GPP keeps one per
neighbour, which differs only when two neighbours take turns being best). No layer-3
filter: the measurement is the step's large-scale loss (no fast fading).

Everything is counted in steps of the capacity grid (``step_s``): the time-to-trigger
is ``ceil(TTT / step)`` steps and the interruption ``ceil(interruption / step)``, each
with a 1e-9 relative tolerance, so 160 ms on a 10 ms grid is 16 steps whatever the
step's start time. (Comparing float times instead made 160 ms act as 170 ms in about
half the start positions: 0.33 − 0.17 is 0.16000000000000003 but 0.34 − 0.18 is
0.15999999999999998.)
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right

import numpy as np

from sim.channel.physical_config import HandoverConfig


def whole_steps(duration_s: float, step_s: float) -> int:
    """``duration_s`` in whole steps, rounded up; a duration within 1e-9 (relative) of a
    multiple of ``step_s`` is that multiple (0.16 / 0.01 is 16.000000000000004) [1]."""
    ratio = duration_s / step_s
    return max(0, math.ceil(ratio - 1e-9 * max(1.0, ratio)))


class ServingStation:
    """A3 state of one device, fed chunk by chunk with its stations' losses (module doc).

    Keeps the serving station's history (the step of every change) so that the serving
    station over any generated interval can be read back.
    """

    def __init__(self, stations: int, config: HandoverConfig, step_s: float) -> None:
        self.stations = stations
        self.step_s = step_s
        self.threshold_db = config.hysteresis_db + config.a3_offset_db
        self.ttt_steps = whole_steps(config.time_to_trigger_s, step_s)
        self.interruption_steps = whole_steps(config.interruption_s, step_s)
        self.serving: int | None = None
        self._candidate = -1
        self._candidate_since = 0  # step at which the candidate's condition began
        self._interrupted_until = -1  # first step after the last interruption
        self.handover_times_s: list[float] = []
        self._change_steps: list[int] = []  # step of the first decision and every handover
        self._change_stations: list[int] = []

    def decide(self, k0: int, loss: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Serving station per step and mask of interrupted steps for the steps
        ``k0 .. k0 + n - 1``, given each station's loss [dB] on them (rows = stations)."""
        n = loss.shape[1]
        steps = k0 + np.arange(n)
        interrupted = steps < self._interrupted_until
        if self.serving is None:
            self.serving = int(np.argmin(loss[:, 0]))
            self._change_steps.append(k0)
            self._change_stations.append(self.serving)
        if loss.shape[0] == 1:
            return np.zeros(n, dtype=np.int64), interrupted
        serving = np.empty(n, dtype=np.int64)
        current = self.serving
        entered, best = self._a3(loss, current)
        k = 0
        while k < n:
            held = np.flatnonzero(entered[k:])
            if held.size == 0:
                serving[k:] = current
                self._candidate = -1
                break
            j = k + int(held[0])
            if j > k:
                self._candidate = -1  # the condition lapsed in between: the timer restarts
            if self._candidate != best[j]:
                self._candidate = int(best[j])
                self._candidate_since = k0 + j
            fire = self._candidate_since + self.ttt_steps - k0  # handover step in this chunk
            last = min(fire, n - 1)
            # The condition must hold for the same neighbour at every step until it fires.
            broken = np.flatnonzero(
                ~entered[j : last + 1] | (best[j : last + 1] != self._candidate)
            )
            if broken.size:
                serving[k : j + int(broken[0])] = current
                k = j + int(broken[0])  # lapsed or another neighbour: decided from there
                continue
            if fire >= n:
                serving[k:] = current  # the timer runs on into the next chunk
                break
            serving[k:fire] = current
            current = self._candidate
            self._candidate = -1
            step = k0 + fire
            self.handover_times_s.append(float(step * self.step_s))
            self._change_steps.append(step)
            self._change_stations.append(current)
            self._interrupted_until = step + self.interruption_steps
            interrupted |= (steps >= step) & (steps < self._interrupted_until)
            serving[fire] = current
            entered, best = self._a3(loss, current)
            k = fire + 1
        self.serving = current
        return serving, interrupted

    def _a3(self, loss: np.ndarray, serving: int) -> tuple[np.ndarray, np.ndarray]:
        """Per step: whether A3's entering condition holds for the best neighbour of
        ``serving``, and that neighbour (the least loss among the other stations)."""
        others = loss.copy()
        others[serving] = np.inf
        best = np.argmin(others, axis=0)
        margin = loss[serving] - others[best, np.arange(loss.shape[1])]
        return margin > self.threshold_db, best

    # -- queries over what was decided
    def station_before(self, t_s: float) -> int:
        """The station that served just before ``t_s`` (the one at ``t_s`` when no handover
        happens exactly then); the first station for times before the first decision."""
        i = bisect_left(self._change_steps, t_s / self.step_s) - 1
        return self._change_stations[max(i, 0)]

    def attachment(self, t_s: float) -> tuple[int, float]:
        """(station serving at ``t_s``, end of the handover interruption ``t_s`` is in [s];
        ``t_s`` itself when it is in none)."""
        k = math.floor(t_s / self.step_s + 1e-9)
        i = max(bisect_right(self._change_steps, k) - 1, 0)
        station = self._change_stations[i]
        if i == 0:
            return station, t_s
        end_s = (self._change_steps[i] + self.interruption_steps) * self.step_s
        # A later handover inside this interruption starts its own (the list is in order).
        return station, max(t_s, end_s)

    def handovers_between(self, t0_s: float, t1_s: float) -> list[float]:
        """Handover times in [t0_s, t1_s) [s]."""
        times = self.handover_times_s
        return times[bisect_left(times, t0_s) : bisect_left(times, t1_s)]

    def next_handover(self, after_s: float) -> float | None:
        """The first handover strictly after ``after_s`` among the decided steps [s]."""
        times = self.handover_times_s
        i = bisect_right(times, after_s)
        return times[i] if i < len(times) else None
