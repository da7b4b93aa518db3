"""BottleFit's abstract, reproduced in simulation: sweep, reductions, and the claims table.

The BottleFit abstract (Matsubara et al., WoWMoM 2022; ../shared/reference/bottlefit_paper.md
§1) claims reductions "up to" some percentage without saying under which
conditions. This module runs the ``scenarios/bottlefit_{jetson,rpi}_{wifi,lte}.yaml``
scenarios over a grid (model x uplink rate x server background load x radio
state), computes BottleFit's (C = 12) reductions against local computing, edge
offloading and the autoencoder baseline (``ae_c12`` when the model profile has
it) in latency, mean board power and energy per inference, and reports for each
abstract figure the simulator's maximum over the grid, where it occurs, and the
rate at which the simulator reaches the paper's figure. Every simulator number
comes from runs; only the abstract's figures (:data:`ABSTRACT`) are typed in.

    python -m sim.report.bottlefit_table --size full --workers 4 --out docs/bottlefit

writes ``sweep.csv``, ``claims.md``, ``winners.md``, ``policies.md`` and the figures
(:mod:`sim.report.bottlefit_plots`).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
BOARDS = {"jetson": "jetson_nano", "rpi": "raspberry_pi4"}
"""Scenario family -> device profile of the file (the paper's boards: a Jetson Nano, and a
Raspberry Pi of unstated model; bottlefit_paper.md §5)."""

RADIOS = ("wifi", "wifi_awake", "lte")
"""Radio conditions: ``wifi`` and ``lte`` are the Huang et al. MobiSys'12 power-state models
of the scenario files (the radio idles between frames at 1 fps, so WiFi pays its 79 ms
promotion per frame and LTE its tail); ``wifi_awake`` is WiFi kept awake, as in a
back-to-back benchmark loop: no promotion delay or energy, no tail."""

WIFI_AWAKE = {
    "promotion_w": 0.0,
    "promotion_s": 0.0,
    "tx_base_w": 0.13286,
    "tx_w_per_mbps": 0.28317,
    "tail_w": 0.0,
    "tail_s": 0.0,
    "source": "Huang et al. MobiSys'12 WiFi transfer power; promotion and tail removed (radio kept "
    "awake by a back-to-back inference loop)",
}

BOTTLEFIT = "bottlefit_c12"
"""The abstract's configuration: the 12-channel bottleneck (77.1 % compression, <= 0.6 % loss)."""

BACKGROUND_PART = "resnet50/full"
"""Other tenants' jobs on the edge server (measured on the H100 profile)."""


@dataclass(frozen=True)
class Claim:
    """One figure of the abstract: BottleFit's reduction in ``metric`` against ``baseline``."""

    key: str
    text: str
    value: float  # fraction
    metric: str  # latency_s | power_w | energy_j | compression | accuracy_loss | head_ratio
    baseline: str  # local | offload | autoencoder | jpeg | original | autoencoder_head
    board: str | None = None  # 'jetson' / 'rpi' when the claim is per board


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
These are the only numbers typed in: they are what the simulator is compared with."""


@dataclass(frozen=True)
class SweepSize:
    """The grid of one sweep."""

    models: tuple[str, ...]
    rates_bps: tuple[float, ...]
    loads: tuple[float, ...]  # background utilisation of the edge server at batch 1
    radios: tuple[str, ...]
    boards: tuple[str, ...] = ("jetson", "rpi")
    duration_s: float = 32.0
    warmup_s: float = 2.0
    extra: dict[str, str] = field(default_factory=dict)


SIZES: dict[str, SweepSize] = {
    "full": SweepSize(
        models=("densenet169", "densenet201", "resnet152"),
        rates_bps=(0.25e6, 0.5e6, 1e6, 2e6, 5e6, 10e6, 20e6, 50e6, 100e6),
        loads=(0.0, 0.5, 0.9),
        radios=RADIOS,
    ),
    "small": SweepSize(
        models=("densenet169", "resnet152"),
        rates_bps=(0.5e6, 5e6, 50e6),
        loads=(0.0, 0.9),
        radios=("wifi", "wifi_awake"),
        duration_s=12.0,
    ),
    "tiny": SweepSize(
        models=("densenet169",),
        rates_bps=(1e6, 50e6),
        loads=(0.0,),
        radios=("wifi",),
        duration_s=5.0,
        warmup_s=1.0,
    ),
}
"""Sweep sizes: ``full`` for the README, ``small`` for a quick look, ``tiny`` for the tests."""


# ---------------------------------------------------------------- running the grid


@dataclass(frozen=True)
class Point:
    """One scenario run of the grid."""

    board: str
    model: str
    radio: str
    rate_bps: float
    load: float
    duration_s: float
    warmup_s: float

    @property
    def path(self) -> Path:
        radio = "lte" if self.radio == "lte" else "wifi"
        return SCENARIOS / f"bottlefit_{self.board}_{radio}.yaml"


def _background_rate_hz(server_profile, load: float) -> float:
    """Arrival rate of background jobs [1/s] giving utilisation ``load`` at batch 1."""
    from sim.plans import measured_service_model

    service = measured_service_model(server_profile, BACKGROUND_PART)
    if service is None:
        raise ValueError(f"server profile {server_profile.name} has no measured {BACKGROUND_PART}")
    return load / service.service_s(1)


def point_overrides(point: Point) -> list[str]:
    """The ``--set`` overrides that turn the scenario file into this grid point."""
    from sim.profiles.registry import ProfileLibrary
    from sim.yamlio import read_yaml

    raw = read_yaml(point.path).data
    library = ProfileLibrary(point.path.parent)
    compare = ["local", "offload", BOTTLEFIT]
    ae = ae_match(library.model(point.model, file=point.path, key="devices.0.model"))
    if ae is not None:
        compare.append(ae)
    overrides = [
        f"devices.0.model={point.model}",
        f"cells.0.uplink.rate_bps={point.rate_bps!r}",
        f"compare={json.dumps(compare)}",
        f"duration_s={point.duration_s!r}",
        f"warmup_s={point.warmup_s!r}",
    ]
    if point.radio == "wifi_awake":
        overrides.append(f"cells.0.radio={json.dumps(WIFI_AWAKE)}")
    if point.load > 0:
        server = library.server(
            raw["servers"][0]["profile"], file=point.path, key="servers.0.profile"
        )
        rate = _background_rate_hz(server, point.load)
        overrides.append(
            f"servers.0.background={json.dumps([{'part': BACKGROUND_PART, 'rate_hz': rate}])}"
        )
    return overrides


def ae_match(model) -> str | None:
    """The autoencoder variant to compare with BottleFit C = 12: same C, else the nearest C."""
    ae = [
        (abs(v.channels - 12), v.channels, n)
        for n, v in model.variants.items()
        if v.kind == "autoencoder"
    ]
    return min(ae)[2] if ae else None


def run_point(point: Point) -> list[dict]:
    """Run one grid point; one row per strategy with latency, power, energy and accuracy."""
    import sim
    from sim.metrics import finished, in_window

    scenario = sim.load(point.path, point_overrides(point))
    results = sim.run(scenario)
    spec = scenario.spec
    idle_w = scenario.groups[0].device.power.idle_w.value
    radio = scenario.groups[0].cell.radio_model()
    req = in_window(results.requests, spec.warmup_s, spec.duration_s)
    rows = []
    for strategy in results.strategies:
        part = req[req["strategy"] == strategy]
        done = finished(part)
        latency = (done["t_done"] - done["t_arrival"]).to_numpy()
        busy = (done["t_head_end"] - done["t_head_start"]).fillna(0.0).to_numpy()
        energy = (done["e_compute_j"] + done["e_radio_j"]).to_numpy()
        in_flight = energy - _tail_j(done, results.requests, strategy, radio)
        power = (in_flight + idle_w * np.maximum(latency - busy, 0.0)) / latency
        variant = str(done["variant"].iloc[0]) if len(done) else strategy
        # At 1 fps a request that waits for the processor or the radio means the device cannot
        # keep up with this strategy (e.g. a JPEG that takes longer than a frame interval to
        # send): its latency grows with the run's length and is not a per-inference figure.
        waits = (part["t_head_start"] - part["t_arrival"]).fillna(0.0).to_numpy()
        waits = np.maximum(
            waits, (part["t_uplink_start"] - part["t_head_end"]).fillna(0.0).to_numpy()
        )
        saturated = bool(len(done) < len(part) or (waits > 1e-6).any())
        rows.append(
            {
                "board": point.board,
                "device": scenario.groups[0].device.name,
                "model": point.model,
                "radio": point.radio,
                "rate_bps": point.rate_bps,
                "load": point.load,
                "strategy": "autoencoder" if variant.startswith("ae_c") else strategy,
                "variant": variant,
                "requests": len(part),
                "finished": len(done),
                "latency_s": float(latency.mean()) if latency.size else math.nan,
                "latency_p95_s": float(np.percentile(latency, 95)) if latency.size else math.nan,
                "energy_j": float(energy.mean()) if energy.size else math.nan,
                "power_w": float(power.mean()) if power.size else math.nan,
                "accuracy": float(done["accuracy"].mean()) if len(done) else math.nan,
                "saturated": saturated,
            }
        )
    return rows


def _tail_j(done: pd.DataFrame, every: pd.DataFrame, strategy: str, radio) -> np.ndarray:
    """Radio tail energy charged to each request of ``done`` [J] (one device per run).

    The engine charges a transfer's request with the tail up to the next transfer's start
    (or the whole tail): tail(min(next t_uplink_start - t_uplink_end, tail length)).
    """
    from sim.policies.costs import tail_energy_j

    sent = every[(every["strategy"] == strategy) & every["t_uplink_end"].notna()]
    sent = sent.sort_values("t_uplink_start")
    gaps = sent["t_uplink_start"].shift(-1) - sent["t_uplink_end"]
    total = float(getattr(radio, "tail_total_s", radio.tail_s))
    tails = pd.Series(
        tail_energy_j(radio, gaps.fillna(np.inf).clip(upper=total).to_numpy()), index=sent.index
    )
    return tails.reindex(done.index, fill_value=0.0).to_numpy()


def grid(size: SweepSize) -> list[Point]:
    return [
        Point(board, model, radio, rate, load, size.duration_s, size.warmup_s)
        for board in size.boards
        for model in size.models
        for radio in size.radios
        for load in size.loads
        for rate in size.rates_bps
    ]


def sweep(size: str | SweepSize = "full", workers: int | None = 1) -> pd.DataFrame:
    """Run the grid; one row per (board, model, radio, rate, load, strategy).

    ``workers`` > 1 runs points in that many processes (``None``: one per CPU).
    """
    spec = SIZES[size] if isinstance(size, str) else size
    points = grid(spec)
    if workers is None:
        workers = os.cpu_count() or 1
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            chunks = list(pool.map(run_point, points, chunksize=4))
    else:
        chunks = [run_point(p) for p in points]
    return pd.DataFrame([row for chunk in chunks for row in chunk])


# ---------------------------------------------------------------- from runs to reductions

KEYS = ["board", "device", "model", "radio", "rate_bps", "load"]


def reductions(frame: pd.DataFrame) -> pd.DataFrame:
    """BottleFit's reduction 1 - bottlefit / baseline, per grid point, baseline and metric.

    Rows where BottleFit or the baseline is saturated (requests queue on the device) are
    left out: their latency grows with the length of the run.
    """
    if "saturated" in frame:
        frame = frame[~frame["saturated"].astype(bool)]
    wide = frame.pivot_table(
        index=KEYS, columns="strategy", values=["latency_s", "power_w", "energy_j"]
    )
    rows = []
    for metric in ("latency_s", "power_w", "energy_j"):
        table = wide[metric]
        for baseline in ("local", "offload", "autoencoder"):
            if baseline not in table or BOTTLEFIT not in table:
                continue
            red = 1.0 - table[BOTTLEFIT] / table[baseline]
            part = red.rename("reduction").reset_index()
            part["metric"] = metric
            part["baseline"] = baseline
            rows.append(part)
    out = pd.concat(rows, ignore_index=True)
    return out.dropna(subset=["reduction"])


def _profile_figures(models: Sequence[str]) -> dict[str, tuple[float, str]]:
    """Compression, accuracy loss and head-size ratio from the model profiles."""
    from sim.profiles.registry import ProfileLibrary

    library = ProfileLibrary(SCENARIOS)
    compression, loss, ratio = [], [], []
    for name in models:
        model = library.model(name, file=None, key="model")
        bf = model.variants.get(BOTTLEFIT)
        if bf is None:
            continue
        compression.append(
            (
                1.0 - bf.payload_bytes / model.jpeg_bytes.value,
                name,
                f"{bf.payload_bytes:,} B vs JPEG {model.jpeg_bytes.value:,.0f} B",
            )
        )
        loss.append(
            (
                model.accuracy_top1.value - bf.accuracy_top1.value,
                name,
                f"top-1 {model.accuracy_top1.value:.4f} -> {bf.accuracy_top1.value:.4f} "
                f"({bf.accuracy_top1.provenance})",
            )
        )
        ae_name = ae_match(model)
        if ae_name is not None:
            ae = model.variants[ae_name]
            front = [b.params for b in model.blocks[: model.block_index(ae.replaces_through) + 1]]
            if all(p is not None for p in front):
                head_ae = sum(front) + ae.encoder.params
                ratio.append(
                    (
                        head_ae / bf.encoder.params,
                        name,
                        f"{ae_name} head {head_ae:,} params vs BottleFit {bf.encoder.params:,}",
                    )
                )
    figures: dict[str, tuple[float, str]] = {}
    for key, items, pick in (
        ("compression", compression, max),
        ("accuracy_loss", loss, max),
        ("head_ratio", ratio, min),
    ):
        if items:
            value, name, how = pick(items)
            spread = ""
            if len(items) > 1:
                lo, hi = min(i[0] for i in items), max(i[0] for i in items)
                fmt = "{:.1f}x" if key == "head_ratio" else "{:.1%}"
                spread = f"; range {fmt.format(lo)}-{fmt.format(hi)} over {len(items)} models"
            figures[key] = (value, f"{name}: {how}{spread}")
    return figures


def _crossing(part: pd.DataFrame, value: float) -> str:
    """Rates at which a reduction curve (sorted by rate) crosses ``value`` (log-rate interpolation)."""
    part = part.sort_values("rate_bps")
    x = np.log10(part["rate_bps"].to_numpy())
    y = part["reduction"].to_numpy()
    hits = []
    for i in range(len(y) - 1):
        a, b = y[i] - value, y[i + 1] - value
        if a == 0:
            hits.append(10 ** x[i])
        elif a * b < 0:
            hits.append(10 ** (x[i] + (x[i + 1] - x[i]) * a / (a - b)))
    if len(y) and y[-1] == value:
        hits.append(10 ** x[-1])
    if not hits:
        return f"not reached (range {y.min():.0%} to {y.max():.0%})" if len(y) else "-"
    return ", ".join(f"{h / 1e6:.2g} Mbit/s" for h in hits)


def _conditions(row: pd.Series) -> str:
    return (
        f"{row['device']}, {row['model']}, {row['radio']}, {row['rate_bps'] / 1e6:g} Mbit/s, "
        f"server load {row['load']:.0%}"
    )


def claims_table(frame: pd.DataFrame) -> pd.DataFrame:
    """Each abstract figure beside the simulator's maximum over the grid, with its conditions.

    Columns: claim, abstract, simulator, conditions (where the maximum occurs), reached_at
    (the rates at which the same board/model/radio/load curve equals the abstract's figure),
    and for power claims the energy-per-inference maximum as a second reading.
    """
    red = reductions(frame)
    figures = _profile_figures(sorted(frame["model"].unique()))
    rows = []
    for claim in ABSTRACT:
        row = {
            "claim": claim.text,
            "abstract": claim.value,
            "simulator": math.nan,
            "conditions": "",
            "reached_at": "",
            "energy_reading": math.nan,
            "energy_conditions": "",
        }
        if claim.metric in ("compression", "accuracy_loss", "head_ratio"):
            if claim.metric in figures:
                row["simulator"], row["conditions"] = figures[claim.metric]
            else:
                row["conditions"] = "not in the profiles (block parameters or AE variants missing)"
        else:
            part = red[(red["metric"] == claim.metric) & (red["baseline"] == claim.baseline)]
            if claim.board is not None:
                part = part[part["board"] == claim.board]
            if part.empty:
                row["conditions"] = f"no runs with a {claim.baseline} baseline"
            else:
                top = part.loc[part["reduction"].idxmax()]
                row["simulator"] = float(top["reduction"])
                row["conditions"] = _conditions(top)
                same = part
                for key in ("device", "model", "radio", "load"):
                    same = same[same[key] == top[key]]
                row["reached_at"] = _crossing(same, claim.value)
            if claim.metric == "power_w":
                energy = red[(red["metric"] == "energy_j") & (red["baseline"] == claim.baseline)]
                if claim.board is not None:
                    energy = energy[energy["board"] == claim.board]
                if not energy.empty:
                    top = energy.loc[energy["reduction"].idxmax()]
                    row["energy_reading"] = float(top["reduction"])
                    row["energy_conditions"] = _conditions(top)
        rows.append(row)
    return pd.DataFrame(rows)


def board_maxima(frame: pd.DataFrame) -> pd.DataFrame:
    """BottleFit's largest reduction per device, by metric and baseline (fractions)."""
    red = reductions(frame)
    table = red.pivot_table(
        index=["metric", "baseline"], columns="device", values="reduction", aggfunc="max"
    )
    return table.rename(index={"latency_s": "latency", "power_w": "power", "energy_j": "energy"})


def winners(frame: pd.DataFrame, metric: str = "latency_s", load: float = 0.0) -> pd.DataFrame:
    """Which strategy has the least ``metric`` at each rate, per board, model and radio."""
    part = frame[frame["load"] == load]
    best = part.loc[part.groupby(KEYS)[metric].idxmin()]
    table = best.pivot_table(
        index=["device", "model", "radio"], columns="rate_bps", values="strategy", aggfunc="first"
    )
    table.columns = [f"{c / 1e6:g} Mbit/s" for c in table.columns]
    return table


# ---------------------------------------------------------------- formatting


def _pct(value: float) -> str:
    return (
        "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.1%}"
    )


def claims_markdown(table: pd.DataFrame) -> str:
    """The claims table as Markdown (percentages; the head ratio as a factor)."""
    lines = [
        "| abstract claim (BottleFit C=12 vs ...) | abstract | simulator, max over the sweep | where the max occurs | sim. equals the abstract at | energy/inference, max (where) |",
        "|---|---|---|---|---|---|",
    ]
    for _, row in table.iterrows():
        ratio = "head" in row["claim"]
        fmt = (lambda v: "-" if math.isnan(v) else f"{v:.1f}x") if ratio else _pct
        energy = ""
        if not math.isnan(row["energy_reading"]):
            energy = f"{_pct(row['energy_reading'])} ({row['energy_conditions']})"
        lines.append(
            f"| {row['claim']} | {fmt(row['abstract'])} | {fmt(row['simulator'])} | "
            f"{row['conditions']} | {row['reached_at']} | {energy} |"
        )
    return "\n".join(lines)


def frame_markdown(table: pd.DataFrame) -> str:
    """A small DataFrame (with a named index) as a Markdown table."""
    frame = table.reset_index()
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


# ---------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="full")
    parser.add_argument(
        "--workers", type=int, default=None, help="processes (default: one per CPU)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "bottlefit")
    parser.add_argument(
        "--no-policies",
        dest="policies",
        action="store_false",
        help="skip the policy comparison (scenarios/policy_congested.yaml, policy_erratic.yaml)",
    )
    args = parser.parse_args(argv)
    frame = sweep(args.size, workers=args.workers)
    args.out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out / "sweep.csv", index=False)
    claims = claims_table(frame)
    per_board = (100 * board_maxima(frame)).round(1).astype(str) + " %"
    (args.out / "claims.md").write_text(
        claims_markdown(claims)
        + "\n\nLargest reduction per device (all models, radios, rates, loads):\n\n"
        + frame_markdown(per_board)
        + "\n"
    )
    latency = winners(frame, "latency_s")
    energy = winners(frame, "energy_j")
    (args.out / "winners.md").write_text(
        "Least latency (idle server):\n\n"
        + frame_markdown(latency)
        + "\n\nLeast energy per inference (idle server):\n\n"
        + frame_markdown(energy)
        + "\n"
    )
    if args.policies:
        from sim.report.policy_plot import policy_report

        policy_report(args.out)
    from sim.report.bottlefit_plots import plot_reductions, plot_winners

    plot_reductions(frame, args.out / "reductions.png")
    plot_winners(frame, args.out / "winners_latency.png", "latency_s")
    plot_winners(frame, args.out / "winners_energy.png", "energy_j")
    print(claims_markdown(claims))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
