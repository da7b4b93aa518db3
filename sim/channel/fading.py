"""Small-scale fading: Rayleigh and Rician gains, correlated in time by Doppler.

Three generators of a unit-power complex gain h(t) (E|h|^2 = 1), each vectorised
over a chunk of sample times and continuing seamlessly across chunks:

* :class:`SumOfSinusoids` (Clarke/Jakes): h = M^-1/2 sum_m exp(j(2 pi f_D cos(a_m) t + phi_m))
  with arrival angles a_m = (2 pi m - pi + theta)/M and random phases. Averaged
  over realisations its autocorrelation is exactly J0(2 pi f_D tau) for any M
  (the random rotation theta spreads the angles uniformly); for M >= 16 the
  marginal is close to complex Gaussian. The phase advances with the distance
  travelled, so a varying speed changes the Doppler spread continuously.
* :class:`AR1Fading` (Gauss-Markov): h[n+1] = rho h[n] + sqrt(1 - rho^2) w[n],
  rho = J0(2 pi f_D T) (channels.md §B.4): matches J0 at lag T only; its
  correlation decays exponentially beyond. It can skip n steps exactly in law
  (h <- rho^n h + sqrt(1 - rho^2n) w).
* :class:`BlockFading`: i.i.d. CN(0, 1) per block of one coherence time
  T_c = 0.423 / f_D (Rappaport's rule, channels.md §B.4).

Rician (LOS) links add a specular component: h = sqrt(K/(K+1)) e^{j phi(t)} +
sqrt(1/(K+1)) h_scatter (channels.md §B.4).

Closed forms used by the tests and by users: Rayleigh outage, level-crossing
rate and average fade duration (channels.md §B.7).
"""

from __future__ import annotations

import math

import numpy as np

from sim.channel.pathloss import SPEED_OF_LIGHT_MPS
from sim.rng import CounterStream

RAPPAPORT_COHERENCE = 0.423  # T_c = 0.423 / f_D (Rappaport, channels.md §B.4)
_AR1_STEPS, _AR1_SKIPS = 0, 1  # families of AR1Fading's counter stream


def coherence_time_s(doppler: float) -> float:
    """Coherence time T_c = 0.423 / f_D [s] (Rappaport's rule)."""
    return RAPPAPORT_COHERENCE / doppler if doppler > 0 else math.inf


def jakes_autocorrelation(doppler: float, lag_s: float | np.ndarray) -> np.ndarray:
    """Clarke/Jakes autocorrelation of the complex gain, J0(2 pi f_D tau)."""
    from scipy.special import j0  # here, not at the top: scipy.special takes ~0.2 s to import

    return j0(2.0 * np.pi * doppler * np.asarray(lag_s, dtype=float))


def rayleigh_outage(threshold_over_mean: float | np.ndarray) -> np.ndarray:
    """P(|h|^2 < x) for Rayleigh fading, 1 - exp(-x) (x = threshold / mean power)."""
    return 1.0 - np.exp(-np.asarray(threshold_over_mean, dtype=float))


def rayleigh_rate_outage(
    rate_bps: float, bandwidth_hz: float, mean_snr_db: float | np.ndarray
) -> np.ndarray:
    """P(B log2(1 + SNR |h|^2) < R) = 1 - exp(-(2^{R/B} - 1) / SNR_mean)."""
    snr = 10.0 ** (np.asarray(mean_snr_db, dtype=float) / 10.0)
    return rayleigh_outage((2.0 ** (rate_bps / bandwidth_hz) - 1.0) / snr)


def level_crossing_rate_hz(doppler: float, rho: float) -> float:
    """Rayleigh level-crossing rate N = sqrt(2 pi) f_D rho e^{-rho^2} [1/s], rho^2 = threshold/mean."""
    return math.sqrt(2.0 * math.pi) * doppler * rho * math.exp(-(rho**2))


def average_fade_duration_s(doppler: float, rho: float) -> float:
    """Rayleigh average fade duration (e^{rho^2} - 1) / (sqrt(2 pi) f_D rho) [s]."""
    return (math.exp(rho**2) - 1.0) / (math.sqrt(2.0 * math.pi) * doppler * rho)


def complex_normal(rng: np.random.Generator, size: int | tuple[int, ...]) -> np.ndarray:
    """CN(0, 1) samples: real and imaginary parts N(0, 1/2)."""
    return (rng.standard_normal(size) + 1j * rng.standard_normal(size)) * math.sqrt(0.5)


def complex_normal_from_uniforms(u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """CN(0, 1) from two uniforms in [0, 1) (Box-Muller): |h|^2 = -ln(1 - u1) ~ Exp(1), phase 2 pi u2."""
    return np.sqrt(-np.log1p(-np.asarray(u1))) * np.exp(2j * np.pi * np.asarray(u2))


def _clip_rho(rho: float) -> float:
    return float(np.clip(rho, -0.999999, 0.999999))


class SumOfSinusoids:
    """Clarke/Jakes fading by a sum of M sinusoids, driven by the distance travelled.

    ``gains(distance_m)`` takes the (equivalent) distance travelled at each sample
    [m]; a time grid t at speed v is distance v t. The spatial frequency of path m
    is cos(a_m) / wavelength, so f_D = v / wavelength = v fc / c.
    """

    def __init__(self, carrier_hz: float, rng: np.random.Generator, sinusoids: int = 16) -> None:
        self.wavelength_m = SPEED_OF_LIGHT_MPS / carrier_hz
        m = np.arange(1, sinusoids + 1)
        theta = rng.uniform(-np.pi, np.pi)
        angles = (2.0 * np.pi * m - np.pi + theta) / sinusoids
        self._spatial_rad_per_m = 2.0 * np.pi * np.cos(angles) / self.wavelength_m
        self._phases = rng.uniform(-np.pi, np.pi, sinusoids)
        self._norm = 1.0 / math.sqrt(sinusoids)
        self._grid_step = math.nan  # metres per step of the cached table of gains_on_grid
        self._grid_table = np.zeros((0, sinusoids), dtype=complex)

    def gains(self, distance_m: np.ndarray) -> np.ndarray:
        """Complex gains h at the given distances travelled [m] (shape of ``distance_m``)."""
        d = np.asarray(distance_m, dtype=float)
        phase = d[..., None] * self._spatial_rad_per_m + self._phases
        return self._norm * np.exp(1j * phase).sum(axis=-1)

    def gains_at_times(self, times_s: np.ndarray, doppler: float) -> np.ndarray:
        """Gains on a time grid at a constant Doppler f_D [Hz]."""
        return self.gains(np.asarray(times_s) * doppler * self.wavelength_m)

    GRID_BLOCK = 32  # steps per block of gains_on_grid

    def gains_on_grid(self, start: int, count: int, metres_per_step: float) -> np.ndarray:
        """Gains at distances k * metres_per_step [m], k = start .. start + count - 1.

        A constant speed on a time grid. Step k = B a + b is exp(i(w_m d B a + phi_m))
        times a per-device table exp(i w_m d b): one complex exponential per block of
        B steps and path instead of one per step, and the value at step k depends on
        k alone, not on where the chunk starts.
        """
        block = self.GRID_BLOCK
        table = self._table(metres_per_step)
        first = start // block
        heads = self._heads(np.arange(first, (start + count - 1) // block + 1), metres_per_step)
        # (blocks, B, M) products summed over the paths: the same sum for a step in any chunk.
        values = (heads[:, None, :] * table).sum(axis=-1).ravel()
        offset = start - first * block
        return self._norm * values[offset : offset + count]

    def gains_at_steps(self, steps: np.ndarray, metres_per_step: float) -> np.ndarray:
        """:meth:`gains_on_grid` at any integer steps (any shape), with the same numbers:
        each step's value is the same product of its block's head and its table row."""
        block = self.GRID_BLOCK
        table = self._table(metres_per_step)
        blocks, inverse = np.unique(steps // block, return_inverse=True)
        heads = self._heads(blocks, metres_per_step)
        values = (heads[inverse.reshape(steps.shape)] * table[steps % block]).sum(axis=-1)
        return self._norm * values

    def _table(self, metres_per_step: float) -> np.ndarray:
        """exp(i w_m d b) for b = 0 .. B - 1 [(B, M)], cached per step length d."""
        if self._grid_step != metres_per_step:
            self._grid_step = metres_per_step
            per_step = self._spatial_rad_per_m * metres_per_step
            self._grid_table = np.exp(1j * (np.arange(self.GRID_BLOCK)[:, None] * per_step))
        return self._grid_table

    def _heads(self, blocks: np.ndarray, metres_per_step: float) -> np.ndarray:
        """exp(i(w_m d B a + phi_m)) for the blocks a [(len(blocks), M)]."""
        distance = blocks * (self.GRID_BLOCK * metres_per_step)
        return np.exp(1j * (distance[:, None] * self._spatial_rad_per_m + self._phases))


class AR1Fading:
    """Gauss-Markov fading with the Jakes correlation at one step: rho = J0(2 pi f_D T).

    The innovation of step k is addressed by k (a :class:`~sim.rng.CounterStream`),
    so :meth:`skip` can move ahead without drawing the skipped steps and the steps
    after it are the ones a step-by-step run would draw there.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self.stream = CounterStream.from_generator(rng)
        self.position = 0  # index of the next step
        self._last: complex | None = None  # gain at step position - 1 (None: nothing yet)

    def next(self, count: int, rho: float) -> np.ndarray:
        """The next ``count`` gains with step correlation ``rho`` (|rho| < 1 kept stationary)."""
        rho = _clip_rho(rho)
        u = self.stream.uniforms(_AR1_STEPS, self.position, count)
        w = complex_normal_from_uniforms(u[:, 0], u[:, 1])
        innovations = w * math.sqrt(1.0 - rho**2)
        if self._last is None:
            innovations[0] = w[0]  # step 0 starts from the stationary law CN(0, 1)
            start = 0j
        else:
            start = rho * self._last
        from scipy.signal import lfilter  # here: scipy.signal costs ~1 s to import

        out, _ = lfilter([1.0], [1.0, -rho], innovations, zi=np.array([start]))
        self._last = complex(out[-1])
        self.position += count
        return out

    def skip(self, count: int, rho: float) -> None:
        """Move ``count`` steps ahead, exactly in law: h <- rho^n h + sqrt(1 - rho^2n) w.

        w is addressed by the step reached, so two runs that skip to the same step
        from the same state land on the same gain.
        """
        if count <= 0:
            return
        rho = _clip_rho(rho)
        u = self.stream.uniforms(_AR1_SKIPS, self.position + count, 1)[0]
        w = complex(complex_normal_from_uniforms(u[0], u[1]))
        if self._last is None:
            self._last = w
        else:
            decay = rho**count
            self._last = decay * self._last + math.sqrt(1.0 - decay**2) * w
        self.position += count

    @staticmethod
    def step_correlation(doppler: float, step_s: float) -> float:
        from scipy.special import j0

        return float(j0(2.0 * np.pi * doppler * step_s))


class BlockFading:
    """i.i.d. CN(0, 1) gain per block of ``block_s`` [s] on a time grid.

    Block b's gain is addressed by b, so any set of times gets the same gains
    whatever was sampled before (nothing to carry from one chunk to the next).
    """

    def __init__(self, rng: np.random.Generator, block_s: float) -> None:
        self.stream = CounterStream.from_generator(rng)
        self.block_s = float(block_s)

    def gains_at_times(self, times_s: np.ndarray) -> np.ndarray:
        blocks = np.floor(np.asarray(times_s) / self.block_s).astype(np.int64)
        first = int(blocks[0])
        u = self.stream.uniforms(0, first, int(blocks[-1]) - first + 1)
        return complex_normal_from_uniforms(u[:, 0], u[:, 1])[blocks - first]


def rician(
    scatter: np.ndarray, k_linear: float | np.ndarray, los_phase_rad: np.ndarray
) -> np.ndarray:
    """Rician gain from a unit-power scattered part and a specular phase (E|h|^2 = 1)."""
    k = np.asarray(k_linear, dtype=float)
    return np.sqrt(k / (k + 1.0)) * np.exp(1j * los_phase_rad) + np.sqrt(1.0 / (k + 1.0)) * scatter


def fading_power_quantile(q: np.ndarray, k_linear: float | None = None) -> np.ndarray:
    """Inverse CDF of the power gain |h|^2 (E|h|^2 = 1) at probabilities ``q``.

    Rayleigh (``k_linear`` None or 0): |h|^2 ~ Exp(1), -ln(1 - q). Rician with K:
    2 (K + 1) |h|^2 is noncentral chi-square with 2 degrees of freedom and
    non-centrality 2K (channels.md §B.4 with h = sqrt(K/(K+1)) e^{j phi} +
    sqrt(1/(K+1)) CN(0, 1)).
    """
    q = np.asarray(q, dtype=float)
    if not k_linear:
        return -np.log1p(-q)
    from scipy.stats import ncx2  # here: scipy.stats costs ~0.5 s to import

    return ncx2.ppf(q, 2.0, 2.0 * k_linear) / (2.0 * (k_linear + 1.0))
