"""A physical uplink: mobility -> path loss, LOS state, shadowing -> fading -> SINR -> rate.

:class:`PhysicalSource` is a :class:`~sim.channel.capacity.SegmentSource`: it
generates the capacity of one device on a grid of ``step_s`` in numpy chunks of
``chunk_s`` (no per-step events or loops, except the handover decision when
there are several base stations), merges equal consecutive rates into one
segment, and lets :class:`~sim.channel.capacity.PiecewiseCapacity` integrate it.

Per step k, for every base station b:

* distance d2D from the trajectory (:mod:`sim.channel.mobility`);
* LOS state: a spatially correlated standard normal z(s) along the distance
  travelled s, exponential correlation over the scenario's LOS-state correlation
  distance (TR 38.901 Table 7.6.3.1-2: UMa 50, UMi 50, InH 10, RMa 60 m, not the
  shadowing's), LOS iff Phi(z) < P_LOS(d2D) (TR 38.901 §7.6.3.3 spatially
  consistent LOS state);
* Doppler: a moving device's own f_D = v / lambda and the environment's (moving
  scatterers) combine in quadrature, f_D = sqrt(f_own^2 + f_env^2): TR 38.901
  §7.6.10 adds a moving scatterer's shift to each ray's own, independently, so
  the Doppler variances add; one Clarke spectrum with the summed variance keeps
  the RMS Doppler spread, hence the level-crossing rate and coherence time;
* shadowing: sigma_LOS z_LOS(s) or sigma_NLOS z_NLOS(s), each exponentially
  correlated over its decorrelation distance (TR 38.901 Table 7.5-6; ns-3 update
  S_new = R S_old + sqrt(1 - R^2) sigma N(0,1));
* path loss PL_b (TR 38.901 Table 7.4.1-1).

The serving station is the one with the least PL + shadowing; a handover needs
a margin of ``hysteresis_db + a3_offset_db`` held for ``time_to_trigger_s`` (LTE
event A3, TS 36.331; counted in whole steps, :mod:`sim.channel.handover`) and
interrupts the uplink for ``interruption_s``. Fast fading (one
process per device) multiplies the received power: Rayleigh when the serving
link is NLOS, Rician with the scenario's K factor when LOS. Then

    SINR = P_tx + G - PL - SF - blockage + 10 log10 |h|^2 - N - I_margin   [dB]

where I_margin is ``interference_margin_db`` plus the neighbouring cells' noise rise
10 log10(1 / (1 - eta)) at their uplink load ``neighbour_load`` (LinkConfig.interference_db).

with P_tx fixed or from fractional power control (TS 36.213 §5.1.1.1), and the
rate from :mod:`sim.channel.ratemap`. Link adaptation is assumed to follow the
fading perfectly at the step's resolution (no CQI delay).

Skipping time (:meth:`PhysicalSource.skip_to`): a device that sends rarely
needs its channel only around its transfers. Every random quantity is either
a deterministic function of time given draws made once (sum-of-sinusoids
fading, static shadowing and LOS), or drawn from its own stream in an order
that does not depend on which times are generated (the trajectory's legs, the
shadowing and LOS fields along the distance travelled), or driven by uniforms
addressed by step or block index (:class:`~sim.rng.CounterStream`): block
fading, the blockage chain, whose state after a gap is read off the uniforms
backwards (:func:`~sim.channel.gilbert.state_after`), and AR(1) fading, which
jumps h <- rho^n h + sqrt(1 - rho^2n) w. The serving station of a moving device
with several stations is replayed over the gap from the large-scale loss alone.
So the steps generated after a skip are the steps a run that generated
everything would produce, except AR(1) fading after a jump, which is exact in
law (and the same as that run's when both jump from the same step).

Chunks are short after a skip (``FIRST_CHUNK_S``) and double while the
capacity keeps asking; a static device's link budget is computed once. A
static device with sum-of-sinusoids or no fading also knows its arrival times
(:meth:`PhysicalSource.set_anchors`): the steps in ``WINDOW_S`` after each
arrival are computed for a batch of arrivals in one vectorised pass, and a
skip that lands in a window reads its first chunk from there; the numbers are
those a chunk generated at that step would have (tests/channel/test_skip_ahead.py).
"""

from __future__ import annotations

import math
from bisect import bisect_right

import numpy as np

from sim.channel import gilbert
from sim.channel.arrival_windows import ArrivalWindows
from sim.channel.capacity import SegmentSource, Skip
from sim.channel.fading import AR1Fading, BlockFading, SumOfSinusoids, coherence_time_s, rician
from sim.channel.handover import ServingStation
from sim.channel.mobility import (
    StaticMobility,
    StaticTrajectory,
    StraightLineMobility,
    make_trajectory,
)
from sim.channel.pathloss import (
    SCENARIOS,
    SPEED_OF_LIGHT_MPS,
    los_probability,
    noise_power_dbm,
    path_loss_db,
)
from sim.channel.physical_config import PhysicalUplink
from sim.channel.placement import CorrelatedNormal, nominal_speed_mps, start_position
from sim.channel.ratelaw import RateLaw, fading_rate_law
from sim.rng import CounterStream

FIRST_CHUNK_S = 0.25  # generated from the start and after each skip; chunks then double [s]


class PhysicalSource(SegmentSource):
    """Capacity segments of one device over a :class:`PhysicalUplink` (see module doc)."""

    def __init__(self, config: PhysicalUplink, rng: np.random.Generator) -> None:
        self.config = config
        self.rng = rng
        params = SCENARIOS[config.scenario]
        self.params = params
        self.carrier_hz = config.carrier_ghz * 1e9
        self.wavelength_m = SPEED_OF_LIGHT_MPS / self.carrier_hz
        stations = config.base_stations
        self.bs_xy = np.array([[b.x_m, b.y_m] for b in stations])
        self.bs_height = np.array([b.height_m or params.default_bs_height_m for b in stations])
        self.start_m = start_position(config, rng)
        # Processes read in an order that depends on which times are generated get their own
        # streams, so skipping time never shifts one process's numbers into another.
        mobility_rng, los_rng, shadow_los_rng, shadow_nlos_rng = rng.spawn(4)
        self.trajectory = make_trajectory(config.mobility, self.start_m, mobility_rng)
        n_bs = len(stations)
        self.los_field = CorrelatedNormal(los_rng, params.los_state_decorrelation_m, n_bs)
        self.shadow_los = CorrelatedNormal(shadow_los_rng, params.decorrelation_los_m, n_bs)
        self.shadow_nlos = CorrelatedNormal(shadow_nlos_rng, params.decorrelation_nlos_m, n_bs)
        fading = config.fading
        k_db = (
            fading.rician_k_db
            if fading.rician_k_db is not None
            else rng.normal(params.k_factor_mean_db, params.k_factor_std_db)
        )
        self.k_linear = float(10.0 ** (k_db / 10.0))
        self.los_angle = rng.uniform(0.0, 2.0 * np.pi)
        self.los_phase0 = rng.uniform(0.0, 2.0 * np.pi)
        self.env_speed_mps = fading.environment_doppler_hz * self.wavelength_m
        self._sos = SumOfSinusoids(self.carrier_hz, rng, fading.sinusoids)
        self._ar1 = AR1Fading(rng)
        # The nominal speed sets the Doppler of AR(1) and block fading (constant per device,
        # so AR(1) can jump in closed form; equal to the actual speed unless random waypoint).
        # Own and environment Doppler add in quadrature (module doc); a random-waypoint
        # device's scatterers add what makes the quadrature sum exact at its nominal speed.
        own_speed = nominal_speed_mps(config.mobility)
        speed = math.hypot(own_speed, self.env_speed_mps)
        self._env_extra_mps = speed - own_speed
        doppler = speed / self.wavelength_m
        self._ar1_rho = AR1Fading.step_correlation(doppler, config.step_s)
        # Static and straight-line devices move (with the scatterers) at a constant speed.
        constant_speed = isinstance(config.mobility, StaticMobility | StraightLineMobility)
        self._metres_per_step = speed * config.step_s if constant_speed else None
        block = fading.block_s or min(coherence_time_s(doppler), 1.0)
        self._block = BlockFading(rng, max(block, config.step_s))
        self._blockage_stream = CounterStream.from_generator(rng)
        # Skips land anywhere without changing the realisation, except AR(1)'s jump draw.
        self.positional = fading.kind != "ar1"
        # A static device's link budget: (budget [dBm], LOS, None, None) once known.
        self._static_budget: tuple[float, bool, None, None] | None = None
        self._static_tx_dbm = config.link.tx_power_dbm
        self._rate_law: RateLaw | None = None
        self._los_rad_per_m = 2.0 * np.pi * np.cos(self.los_angle) / self.wavelength_m
        if config.blockage is not None:
            self._blockage_p, self._blockage_r = gilbert.per_step_probabilities(
                config.blockage.mean_clear_s, config.blockage.mean_blocked_s, config.step_s
            )
        link = config.link
        self.noise_dbm = float(noise_power_dbm(link.occupied_bandwidth_hz(), link.noise_figure_db))
        self._cqi_rates = link.cqi_rate_table()
        self.steps_per_chunk = max(1, round(config.chunk_s / config.step_s))
        self.first_chunk_steps = min(
            self.steps_per_chunk, max(1, round(FIRST_CHUNK_S / config.step_s))
        )
        self._k0 = 0  # index of the next step
        self._run_steps = 0  # steps generated since the start or the last skip
        # The optional accelerator (set_anchors; sim/channel/arrival_windows.py) and the
        # (row, offset) of its window a skip landed in, for the next chunk to read.
        self.arrival_windows: ArrivalWindows | None = None
        self._landed: tuple[int, int] | None = None
        self.handover = ServingStation(n_bs, config.handover, config.step_s)
        self._blocked = 0  # blockage state at step k0 - 1 (1: blocked)
        if config.blockage is not None:  # the state "before step 0" from the stationary law
            u = self._blockage_stream.uniforms(1, 0, 1)[0, 0]
            self._blocked = int(u < gilbert.stationary_bad(self._blockage_p, self._blockage_r))
        # Power control: transmit power per generated step, by chunk (first step, values).
        self._tx_power_starts: list[int] = []
        self._tx_power: list[np.ndarray] = []

    # -- one chunk, step by step quantities as arrays
    def _large_scale(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(loss PL + SF [dB], LOS flags, distance travelled [m]); rows = stations."""
        cfg = self.config
        x, y, travelled = self.trajectory.sample(times)
        d2d = np.hypot(x[None, :] - self.bs_xy[:, :1], y[None, :] - self.bs_xy[:, 1:])
        if cfg.los == "probabilistic":
            p_los = los_probability(cfg.scenario, d2d, cfg.ue_height_m)
            from scipy.special import ndtr  # here: scipy.special takes ~0.2 s to import

            los = ndtr(self.los_field.at(travelled)) < p_los
        else:
            los = np.full(d2d.shape, cfg.los == "los")
        loss = np.empty_like(d2d)
        for b in range(d2d.shape[0]):
            loss[b] = path_loss_db(
                cfg.scenario, d2d[b], cfg.carrier_ghz, los[b], self.bs_height[b], cfg.ue_height_m
            )
        if cfg.shadowing:
            sf = np.where(
                los,
                self.params.shadow_std_los_db * self.shadow_los.at(travelled),
                self.params.shadow_std_nlos_db * self.shadow_nlos.at(travelled),
            )
            loss = loss + sf
        return loss, los, travelled

    def _serving_station(
        self, times: np.ndarray, loss: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Serving station per step and a mask of steps lost to handover interruptions."""
        return self.handover.decide(round(times[0] / self.config.step_s), loss)

    def _link_budget(
        self, times: np.ndarray
    ) -> tuple[np.ndarray | float, np.ndarray | bool, np.ndarray | None, np.ndarray | None]:
        """Per step: transmit power + antenna gain - serving loss [dBm], LOS of the serving
        link, steps lost to handover interruptions (None: none), distance travelled [m].

        A static device's loss never changes and it never hands over (its stations'
        losses keep their order): its budget is one number, computed once.
        """
        if self._static_budget is not None:
            return self._static_budget
        cfg, link = self.config, self.config.link
        loss, los, travelled = self._large_scale(times)
        serving, interrupted = self._serving_station(times, loss)
        cols = np.arange(times.size)
        serving_loss = loss[serving, cols]
        if link.power_control is None:
            tx_dbm = link.tx_power_dbm
        else:
            pc = link.power_control
            tx_dbm = np.minimum(
                link.tx_power_dbm,
                pc.p0_dbm + 10.0 * np.log10(link.resolved_prbs()) + pc.alpha * serving_loss,
            )
            self._tx_power_starts.append(round(times[0] / cfg.step_s))
            self._tx_power.append(tx_dbm.astype(np.float32))
        budget = tx_dbm + link.antenna_gain_db - serving_loss
        if isinstance(self.trajectory, StaticTrajectory):
            tx = float(np.atleast_1d(tx_dbm)[0])
            self._static_budget = (float(budget[0]), bool(los[serving[0], 0]), None, None)
            self._static_tx_dbm = tx
        return budget, los[serving, cols], interrupted if interrupted.any() else None, travelled

    def _fading_power(
        self, times: np.ndarray, travelled: np.ndarray | None, los: np.ndarray | bool
    ) -> np.ndarray | float:
        fading = self.config.fading
        if fading.kind == "none":
            return 1.0
        step = round(times[0] / self.config.step_s)
        if self._metres_per_step is not None:  # constant speed: distance = k metres_per_step
            effective_m = (step + np.arange(times.size)) * self._metres_per_step
        else:
            assert travelled is not None  # a moving device's budget comes with its path
            effective_m = travelled + self._env_extra_mps * times
        if fading.kind == "sum_of_sinusoids":
            if self._metres_per_step is not None:
                return self.step_power_gains(step + np.arange(times.size), los)
            scatter = self._sos.gains(effective_m)
        elif fading.kind == "ar1":
            scatter = self._ar1.next(times.size, self._ar1_rho)
        else:
            scatter = self._block.gains_at_times(times)
        return self._power_gain(scatter, effective_m, los)

    def step_power_gains(self, steps: np.ndarray, los: np.ndarray | bool) -> np.ndarray | float:
        """Fading power gain |h|^2 at these step indices (any shape) of a device moving at a
        constant speed with sum-of-sinusoids or no fading: the one function the step grid
        and the arrival windows both read their gains from."""
        if self.config.fading.kind == "none":
            return 1.0
        assert self.config.fading.kind == "sum_of_sinusoids" and self._metres_per_step is not None
        mps = self._metres_per_step
        if steps.ndim == 1 and steps.size and bool(np.all(np.diff(steps) == 1)):
            # A run of steps: the cheaper recurrence, equal to gains_at_steps bit for bit.
            scatter = self._sos.gains_on_grid(int(steps[0]), steps.size, mps)
        else:
            scatter = self._sos.gains_at_steps(steps, mps)
        return self._power_gain(scatter, steps * mps, los)

    def _power_gain(
        self, scatter: np.ndarray, effective_m: np.ndarray, los: np.ndarray | bool
    ) -> np.ndarray:
        """|h|^2 of the scattered gains, Rician (specular part at ``effective_m`` [m]) where LOS."""
        if los is False:
            h = scatter
        else:
            phase = self._los_rad_per_m * effective_m + self.los_phase0
            h = rician(scatter, self.k_linear, phase)
            if los is not True:
                h = np.where(los, h, scatter)
        return h.real**2 + h.imag**2

    def blockage_uniforms(self, start: int, count: int) -> np.ndarray:
        """The blockage chain's uniform at each step ``start .. start + count - 1``."""
        return self._blockage_stream.uniforms(0, start, count)[:, 0]

    def _blockage_db(self, count: int) -> np.ndarray:
        """Extra loss of the steps k0 .. k0 + count - 1 [dB]; one uniform per step."""
        u = self.blockage_uniforms(self._k0, count)
        states = gilbert.states_from_uniforms(u, self._blockage_p, self._blockage_r, self._blocked)
        self._blocked = int(states[-1])
        assert self.config.blockage is not None  # called only with blockage configured
        return states * self.config.blockage.loss_db

    def chunk_rates(self, steps: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(step start times [s], rate per step [bit/s]) of the next ``steps`` (default a chunk)."""
        n = self.steps_per_chunk if steps is None else steps
        k0 = self._k0
        times = (k0 + np.arange(n)) * self.config.step_s
        budget_dbm, los, interrupted, travelled = self._link_budget(times)
        gain = self._fading_power(times, travelled, los)
        blockage_db = self._blockage_db(n) if self.config.blockage is not None else None
        rates = self.rates(budget_dbm, gain, blockage_db, (n,))
        if interrupted is not None:
            rates[interrupted] = 0.0
        self._k0 = k0 + n
        return times, rates

    def rates(
        self,
        budget_dbm: np.ndarray | float,
        gain: np.ndarray | float,
        blockage_db: np.ndarray | None,
        shape: tuple[int, ...],
    ) -> np.ndarray:
        """Rate of each step [bit/s] from its link budget, fading power and blockage loss."""
        link = self.config.link
        rx_dbm = budget_dbm + 10.0 * np.log10(np.maximum(gain, 1e-30))
        if blockage_db is not None:
            rx_dbm = rx_dbm - blockage_db
        if np.ndim(rx_dbm) == 0:
            rx_dbm = np.full(shape, rx_dbm)
        snr_db = rx_dbm - (self.noise_dbm + link.interference_db())
        if self._cqi_rates is not None:  # the same numbers as link.rate_bps, fewer steps
            thresholds_db, level_rates = self._cqi_rates
            return level_rates[np.searchsorted(thresholds_db, snr_db, side="right")]
        return link.rate_bps(snr_db.ravel(), rx_dbm.ravel()).reshape(shape)

    def next_chunk(self) -> tuple[np.ndarray, np.ndarray]:
        # Short chunks after the start or a skip (a rare sender needs a fraction of a second),
        # doubling up to chunk_s while the capacity keeps asking for more. One segment per
        # step: the capacity merges runs of equal rate.
        landed, self._landed = self._landed, None
        if landed is not None:  # a skip landed in a precomputed window: the rest of it
            row, offset = landed
            assert self.arrival_windows is not None and self.arrival_windows.batch is not None
            windows = self.arrival_windows.batch
            steps = self.arrival_windows.window_steps - offset
            self._run_steps += steps
            self._blocked = int(windows.blocked[row, offset + steps])
            self._k0 += steps
            return np.full(steps, self.config.step_s), windows.rates[row, offset:]
        steps = min(self.steps_per_chunk, max(self.first_chunk_steps, self._run_steps))
        self._run_steps += steps
        _, rates = self.chunk_rates(steps)
        return np.full(steps, self.config.step_s), rates

    def set_anchors(self, anchors_s: np.ndarray) -> None:
        """The device's arrival times [s]: after a skip, its first chunk may be read from
        windows precomputed around them (:class:`~sim.channel.arrival_windows.ArrivalWindows`)."""
        self.arrival_windows = ArrivalWindows(self, anchors_s)

    @property
    def can_hand_over(self) -> bool:
        """Whether the serving station can change: several stations and a moving device."""
        return self.bs_xy.shape[0] > 1 and not isinstance(self.trajectory, StaticTrajectory)

    @property
    def handover_times_s(self) -> list[float]:
        """Times of the handovers decided so far [s] (decided as the steps are generated)."""
        return self.handover.handover_times_s

    def serving_over(self, t0_s: float, t1_s: float) -> list[tuple[float, int]]:
        """The serving station over [t0_s, t1_s): (from [s], station index) pieces, the
        first from ``t0_s``; the steps up to ``t1_s`` must have been generated (the
        capacity's ``bits_until_contiguous(t1_s)`` does that)."""
        handover = self.handover
        pieces = [(t0_s, handover.attachment(t0_s)[0])]
        pieces += [(t, handover.attachment(t)[0]) for t in handover.handovers_between(t0_s, t1_s)]
        return pieces if pieces[1:2] != [(t0_s, pieces[0][1])] else pieces[1:]

    @property
    def metres_per_step(self) -> float | None:
        """Distance the device and its scatterers move per step [m] (constant speed only)."""
        return self._metres_per_step

    @property
    def blockage_probabilities(self) -> tuple[float, float]:
        """Per-step (clear -> blocked, blocked -> clear) probabilities; (0, 0) without blockage."""
        if self.config.blockage is None:
            return 0.0, 0.0
        return self._blockage_p, self._blockage_r

    @property
    def next_step(self) -> int:
        """Index of the next step this source generates."""
        return self._k0

    @property
    def blocked(self) -> int:
        """Blockage state (1: blocked) at the step before :attr:`next_step`."""
        return self._blocked

    @property
    def static_budget(self) -> tuple[float, bool] | None:
        """A static device's (link budget [dBm], LOS) once known; None otherwise."""
        return None if self._static_budget is None else self._static_budget[:2]

    def skip_to(self, from_s: float, target_s: float) -> Skip | None:
        """Move every process to the last step at or before ``target_s`` without generating
        the steps in between (see module doc); the gap's fill is left to the capacity."""
        step = self.config.step_s
        k1 = math.floor(target_s / step)
        while k1 > 0 and k1 * step > target_s:
            k1 -= 1
        k0 = self._k0
        if k1 <= k0:
            return None
        accelerator = self.arrival_windows
        landed = accelerator.window_at(k1) if accelerator and accelerator.applies() else None
        if landed is not None:
            assert accelerator is not None and accelerator.batch is not None
            row, offset = landed
            self._blocked = int(accelerator.batch.blocked[row, offset])  # the state at k1 - 1
            self._landed = landed
        elif self.config.blockage is not None:
            p, r = self._blockage_p, self._blockage_r
            self._blocked = gilbert.state_after(
                self.blockage_uniforms, k0, k1 - 1, p, r, self._blocked
            )
        if self.config.fading.kind == "ar1":
            self._ar1.skip(k1 - k0, self._ar1_rho)
        if self.bs_xy.shape[0] > 1 and not isinstance(self.trajectory, StaticTrajectory):
            # The serving station depends on the path (hysteresis, time-to-trigger): replay it
            # from the large-scale loss, which needs no fading or link adaptation.
            for start in range(k0, k1, self.steps_per_chunk):
                times = (start + np.arange(min(self.steps_per_chunk, k1 - start))) * step
                self._serving_station(times, self._large_scale(times)[0])
        self._k0 = k1
        self._run_steps = 0
        return Skip(k1 * step, None)

    def max_rate_bps(self) -> float | None:
        """The link adaptation's top rate (None for Shannon, which has none)."""
        top = float(self.config.link.rate_bps(np.array([np.inf]), np.array([np.inf]))[0])
        return top if math.isfinite(top) else None

    def rate_law(self) -> RateLaw | None:
        """Law of this device's rate over its fast fading and blockage at its own mean link
        budget (:mod:`sim.channel.ratelaw`), for a proportional-fair cell; None when its
        rate has no fast fading to exploit (fading ``none``) or its mean budget moves
        (a moving device: not modelled, it ranks like a link without fading)."""
        if self.config.fading.kind == "none" or self._static_budget is None:
            return None
        if self._rate_law is None:
            budget_dbm, los = self._static_budget[0], self._static_budget[1]
            blockage = None
            if self.config.blockage is not None:
                blocked = gilbert.stationary_bad(self._blockage_p, self._blockage_r)
                blockage = (blocked, self.config.blockage.loss_db)

            def rates_of(budget: float, gain: np.ndarray, loss_db: np.ndarray | None) -> np.ndarray:
                return self.rates(budget, gain, loss_db, np.shape(gain))

            k = self.k_linear if los else None
            self._rate_law = fading_rate_law(budget_dbm, k, rates_of, blockage)
        return self._rate_law

    def tx_power_dbm_at(self, t_s: float) -> float:
        """Transmit power at ``t_s`` [dBm] (power control: the step must have been generated)."""
        link = self.config.link
        if link.power_control is None:
            return link.tx_power_dbm
        if self._static_budget is not None:
            return self._static_tx_dbm
        k = int(t_s / self.config.step_s)
        i = bisect_right(self._tx_power_starts, k) - 1
        if i >= 0 and k - self._tx_power_starts[i] < self._tx_power[i].size:
            return float(self._tx_power[i][k - self._tx_power_starts[i]])
        return link.tx_power_dbm
