"""What the BottleFit reproduction compares and where: the abstract's figures, the named
operating points, the sweep sizes. Data only; every other module of the reproduction reads it.

The abstract's figures (:data:`ABSTRACT`) are the only numbers typed in that are
compared with the simulator; inputs the simulator takes from the profiles
(compression, accuracy loss, head sizes) are listed apart from results
(:mod:`reproductions.bottlefit.claims`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
"""The checkout (this folder is not installed: it lives beside ``sim/``)."""
SCENARIOS = REPO / "scenarios"
BOARDS = {"jetson": "jetson_nano", "rpi": "raspberry_pi4"}
"""Scenario family -> device profile of the file (the paper's boards: a Jetson Nano, and a
Raspberry Pi of unstated model; bottlefit_paper.md §5)."""

BOTTLEFIT = "bottlefit_c12"
"""The abstract's configuration: the 12-channel bottleneck (77.1 % compression, <= 0.6 % loss)."""
AUTOENCODER = "ae_c12"
"""The autoencoder baseline at the same C (every model profile of the sweep has it)."""
STRATEGIES = ("local", "offload", BOTTLEFIT, AUTOENCODER)
BASELINES = {"local": "local", "offload": "offload", "autoencoder": AUTOENCODER}
"""Baseline name in the claims -> strategy label in the runs."""

BACKGROUND_PART = "resnet50/full"
"""Other tenants' jobs on the edge server (measured on the H100 profile)."""

RADIOS = ("wifi", "wifi_awake", "lte")
"""Radio conditions: ``wifi`` and ``lte`` are the Huang et al. MobiSys'12 power-state models
of the scenario files (the radio idles between frames at 1 fps, so WiFi pays its 79 ms
promotion per frame and LTE stays in its tail); ``wifi_awake`` is WiFi kept awake, as in a
back-to-back benchmark loop: no promotion delay or energy, no tail."""


@dataclass(frozen=True)
class Claim:
    """One figure of the abstract: BottleFit's reduction in ``metric`` against ``baseline``."""

    key: str
    text: str
    value: float  # fraction
    metric: str  # latency_s | power_w | compression | accuracy_loss | head_ratio
    baseline: str  # local | offload | autoencoder | jpeg | original | autoencoder_head
    board: str | None = None  # 'jetson' / 'rpi' when the claim is per board

    @property
    def is_input(self) -> bool:
        """True for figures the simulator takes as inputs (profiles), not results of runs."""
        return self.metric in ("compression", "accuracy_loss", "head_ratio")


ABSTRACT: tuple[Claim, ...] = (
    Claim("compression", "data compression vs the JPEG input", 0.771, "compression", "jpeg"),
    Claim(
        "accuracy_loss",
        "accuracy loss at that compression (up to)",
        0.006,
        "accuracy_loss",
        "original",
    ),
    Claim(
        "head_ratio",
        "head model size, autoencoder / BottleFit (x)",
        83.0,
        "head_ratio",
        "autoencoder_head",
    ),
    Claim("latency_local", "latency vs local computing", 0.89, "latency_s", "local"),
    Claim("power_local", "power vs local computing", 0.49, "power_w", "local"),
    Claim("latency_offload", "latency vs edge offloading", 0.55, "latency_s", "offload"),
    Claim("power_offload", "power vs edge offloading", 0.37, "power_w", "offload"),
    Claim(
        "latency_ae_jetson",
        "execution time vs autoencoder SC, Jetson",
        0.44,
        "latency_s",
        "autoencoder",
        "jetson",
    ),
    Claim(
        "power_ae_jetson",
        "power vs autoencoder SC, Jetson",
        0.54,
        "power_w",
        "autoencoder",
        "jetson",
    ),
    Claim(
        "latency_ae_rpi",
        "execution time vs autoencoder SC, Raspberry Pi",
        0.62,
        "latency_s",
        "autoencoder",
        "rpi",
    ),
    Claim(
        "power_ae_rpi",
        "power vs autoencoder SC, Raspberry Pi",
        0.40,
        "power_w",
        "autoencoder",
        "rpi",
    ),
)
"""The abstract's figures (https://ar5iv.labs.arxiv.org/html/2201.02693; bottlefit_paper.md §1).
These are the only numbers typed in that the simulator is compared with."""


@dataclass(frozen=True)
class OperatingPoint:
    """A named condition at which every claim is evaluated: radio state, uplink rate, load."""

    name: str
    radio: str  # one of RADIOS
    rate_bps: float
    load: float  # background utilisation of the edge server at batch 1

    @property
    def family(self) -> str:
        """The scenario file's radio (``wifi_awake`` runs on the WiFi file)."""
        return "lte" if self.radio == "lte" else "wifi"


OPERATING_POINTS: tuple[OperatingPoint, ...] = (
    OperatingPoint("LTE 1 Mbit/s, idle server", "lte", 1e6, 0.0),
    OperatingPoint("LTE 5 Mbit/s, idle server", "lte", 5e6, 0.0),
    OperatingPoint("LTE 5 Mbit/s, server 50 % busy", "lte", 5e6, 0.5),
    OperatingPoint("WiFi 10 Mbit/s, radio idles between frames, idle server", "wifi", 10e6, 0.0),
    OperatingPoint("WiFi 10 Mbit/s, radio kept awake, idle server", "wifi_awake", 10e6, 0.0),
    OperatingPoint("WiFi 10 Mbit/s, radio kept awake, server 50 % busy", "wifi_awake", 10e6, 0.5),
)
"""Where the claims are read. Rates stay at or below the top of the radio power models'
fitted range (``fitted_max_mbps`` of sim.channel.radio's presets: 10 Mbit/s for LTE and WiFi,
an assumed range; checked when the sweep is built). 5 Mbit/s is about 4GTest's median LTE
uplink (channels.md §B.8). A load of 50 % is the H100's utilisation by Poisson background
ResNet-50 jobs at batch 1; at load 0 the runs are deterministic (constant link, periodic
frames), so their replications agree exactly and are reported so."""


@dataclass(frozen=True)
class SweepSize:
    """How much to run: boards, models, named points (with replications), the rate curves."""

    models: tuple[str, ...]
    boards: tuple[str, ...] = ("jetson", "rpi")
    points: tuple[OperatingPoint, ...] = OPERATING_POINTS
    replications: int = 5
    curve_rates_bps: tuple[float, ...] = (0.25e6, 0.5e6, 1e6, 2e6, 5e6, 10e6)
    curve_radios: tuple[str, ...] = RADIOS
    duration_s: float = 32.0
    warmup_s: float = 2.0
    extra: dict[str, Any] = field(default_factory=dict)


SIZES: dict[str, SweepSize] = {
    "full": SweepSize(models=("densenet169", "densenet201", "resnet152")),
    "small": SweepSize(
        models=("densenet169",),
        points=(OPERATING_POINTS[1], OPERATING_POINTS[2], OPERATING_POINTS[4]),
        replications=2,
        curve_rates_bps=(1e6, 10e6),
        curve_radios=("wifi_awake", "lte"),
        duration_s=7.0,
        warmup_s=1.0,
    ),
}
"""``full`` for docs/bottlefit (about 10 CPU-minutes), ``small`` for the tests (about 1)."""
