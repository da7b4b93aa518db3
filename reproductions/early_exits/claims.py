"""The early-exit comparison: runs (sweep specs beside this file) and the claims table.

The BottleFit abstract (../shared/reference/bottlefit_paper.md §1) says of SPINN
only that it "loses up to 6 %" accuracy, against BottleFit's "up to 0.6 %" at
77.1 % compression. For each such claim the table gives the simulator's figure
over the uplink-rate x load grid, with the condition (board, model, rate,
background load) where it is reached. SPINN-style figures rest on PROXY exit
figures (PORTEND's EfficientNet-B0 ImageNet table, sim/exits/data/) and on a
stand-in scheduler (sim/policies/spinn.py), never on SPINN's own numbers.

Accuracy here is the mean over the requests that finished (late ones included)
of their plan's expected top-1 (``accuracy_expected``: for a progressive plan the
sum over exits of share x accuracy at the threshold chosen); on-time accuracy
averages the accuracy of the exit each request took, counting a request that
missed its deadline (or was dropped) as wrong (sim/metrics.py).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
BOARDS = {"jetson": "Jetson Nano", "rpi": "Raspberry Pi 4"}
SPINN = "spinn"
BOTTLEFIT = "bottlefit_c12"
TOP1 = {"resnet152": 0.78312, "densenet201": 0.76896}
"""torchvision IMAGENET1K_V1 top-1 of the backbones (the model profiles' accuracy_top1)."""
LABEL = "SPINN-style (proxy figures from PORTEND, EfficientNet-B0 on ImageNet)"
PARAMS = {
    "devices.0.model": "model",
    "devices.0.deadline_s": "deadline_s",
    "cells.0.uplink.rate_bps": "rate_bps",
    "servers.0.background": "background",
}


def background_rate_hz(value) -> float:
    """Background jobs per second from the swept ``servers.0.background`` value."""
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else []
    return float(sum(item["rate_hz"] for item in value or []))


def tidy(summaries: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per board, point, strategy: replication means of the metrics used."""
    frames = []
    for board, summary in summaries.items():
        frame = summary.rename(columns=PARAMS).copy()
        frame["board"] = board
        frame["load_hz"] = frame["background"].map(background_rate_hz)
        frames.append(frame)
    runs = pd.concat(frames, ignore_index=True)
    metrics = [
        "accuracy",
        "accuracy_expected",
        "on_time_accuracy",
        "latency_mean_s",
        "deadline_miss_rate",
        "energy_whole_board_per_inference_j",
        "server_utilisation",
        "exit_share_device",
    ]
    metrics = [m for m in metrics if m in runs.columns]
    if "deadline_s" not in runs.columns:
        runs["deadline_s"] = math.nan
    keys = ["board", "model", "deadline_s", "rate_bps", "load_hz", "strategy"]
    return runs.groupby(keys, as_index=False, sort=False, dropna=False)[metrics].mean()


@dataclass(frozen=True)
class Row:
    claim: str
    source: str
    simulator: str
    conditions: str


def _pts(fraction: float) -> str:
    """A fraction as points of top-1 with one decimal, never '-0.0'."""
    return f"{round(100 * fraction, 1) + 0.0:.1f}"


def _where(row: pd.Series) -> str:
    return (
        f"{BOARDS.get(row['board'], row['board'])}, {row['model']}, deadline "
        f"{row['deadline_s']:g} s, {row['rate_bps'] / 1e6:g} Mbit/s, {row['load_hz']:g} background jobs/s "
        f"(server utilisation {100 * row['server_utilisation']:.0f} %)"
    )


def claims_table(points: pd.DataFrame) -> list[Row]:
    """The rows of the claims table from :func:`tidy`'s output."""
    points = points.copy()
    points["top1"] = points["model"].map(TOP1)
    points["loss"] = points["top1"] - points["accuracy_expected"]
    points["on_time_loss"] = points["top1"] - points["on_time_accuracy"]
    spinn = points[points["strategy"] == SPINN]
    bottlefit = points[points["strategy"] == BOTTLEFIT]
    rows = []
    worst = spinn.loc[spinn["loss"].idxmax()]
    loose = spinn["deadline_s"] == spinn.groupby("board")["deadline_s"].transform("max")
    by_deadline = "; ".join(
        f"{name} deadline: up to {_pts(part['loss'].max())} points "
        f"(median {_pts(part['loss'].median())})"
        for name, part in (("the scenarios'", spinn[loose]), ("the tight", spinn[~loose]))
        if len(part)
    )
    rows.append(
        Row(
            "SPINN loses up to 6 % accuracy",
            "BottleFit abstract (bottlefit_paper.md §1)",
            f"{LABEL}: expected top-1 up to {100 * worst['loss']:.1f} points below the full "
            f"model over {len(spinn)} grid points; {by_deadline}. The scheduler keeps "
            "thresholds that cost no accuracy while they are on time and lowers them when only "
            "shallow exits can be",
            f"worst at {_where(worst)}" if worst["loss"] >= 5e-4 else "no loss at any point",
        )
    )
    for model, losses in threshold_losses().items():
        rows.append(
            Row(
                f"(same, {model}: fixed thresholds, no scheduler)",
                "the plans' expected accuracy, sim/exits (no runs)",
                "; ".join(_loss_text(c, lo, hi) for c, (lo, hi) in losses),
                "any split (the exits, not where they run, set the accuracy); proxy table "
                "portend_efficientnet_b0, relative accuracies, conserving rule",
            )
        )
    worst_on_time = spinn.loc[spinn["on_time_loss"].idxmax()]
    rows.append(
        Row(
            "(same, counting late answers as wrong)",
            "on-time accuracy, sim/metrics.py",
            f"{LABEL}: on-time accuracy up to {100 * worst_on_time['on_time_loss']:.1f} points "
            "below the full model's top-1",
            f"at {_where(worst_on_time)}",
        )
    )
    bf_worst = bottlefit.loc[bottlefit["loss"].idxmax()]
    rows.append(
        Row(
            "BottleFit loses up to 0.6 % at 77.1 % compression",
            "BottleFit abstract (bottlefit_paper.md §1)",
            f"{100 * bf_worst['loss']:.1f} points: an INPUT (the profile's assumed loss of "
            "bottlefit_c12), not a result; on-time loss up to "
            f"{100 * bottlefit['on_time_loss'].max():.1f} points",
            f"on-time worst at {_where(bottlefit.loc[bottlefit['on_time_loss'].idxmax()])}",
        )
    )
    point = ["board", "model", "deadline_s", "rate_bps", "load_hz"]
    merged = spinn.merge(bottlefit, on=point, suffixes=("_spinn", "_bf"))
    more_accurate = (merged["on_time_accuracy_bf"] >= merged["on_time_accuracy_spinn"]).mean()
    faster = (merged["latency_mean_s_bf"] <= merged["latency_mean_s_spinn"]).mean()
    cheaper = (
        merged["energy_whole_board_per_inference_j_bf"]
        <= merged["energy_whole_board_per_inference_j_spinn"]
    ).mean()
    rows.append(
        Row(
            "BottleFit is more accurate than SPINN (implied by the comparison)",
            "BottleFit abstract",
            f"BottleFit's on-time accuracy >= {LABEL}'s at {100 * more_accurate:.0f} % of the "
            f"grid points; lower mean latency at {100 * faster:.0f} %, less whole-board energy "
            f"per inference at {100 * cheaper:.0f} %",
            f"{len(merged)} points: 2 boards x 2 models x 2 deadlines x 5 rates x 3 loads",
        )
    )
    fixed = points[points["strategy"].isin(["local", "offload"])]
    best_fixed = fixed.groupby(point)["on_time_accuracy"].max()
    gain = spinn.set_index(point)["on_time_accuracy"] - best_fixed
    top = gain.idxmax()
    rows.append(
        Row(
            "SPINN: up to +20.7 % accuracy under latency constraints (SPINN's abstract)",
            "spinn.md §1 (against other collaborative-inference systems)",
            f"{LABEL} vs the better of local and offload: on-time accuracy up to "
            f"{100 * gain.max():+.1f} points (median {100 * gain.median():+.1f})",
            f"at {BOARDS[top[0]]}, {top[1]}, deadline {top[2]:g} s, {top[3] / 1e6:g} Mbit/s, "
            f"{top[4]:g} jobs/s",
        )
    )
    rows.append(
        Row(
            "SPINN: 2x throughput, 6.8x lower server cost (SPINN's abstract)",
            "spinn.md §1",
            "not measured: throughput is set by the workload here, and SPINN's baselines are "
            "other collaborative systems, not in the simulator",
            "-",
        )
    )
    return rows


def _loss_text(c: float, lo: float, hi: float) -> str:
    if abs(hi - lo) < 5e-4:
        return f"c = {c:g}: {100 * lo:.1f} points"
    return f"c = {c:g}: {100 * lo:.1f}-{100 * hi:.1f} points"


def threshold_losses(
    thresholds: tuple[float, ...] = (0.0, 0.4, 0.6, 0.8),
) -> dict[str, list[tuple[float, tuple[float, float]]]]:
    """Per model, per threshold: (least, greatest) expected top-1 loss over the splits [1]."""
    from sim.plans import build_plan
    from sim.profiles.registry import ProfileLibrary

    library = ProfileLibrary(HERE)
    device = library.device("jetson_nano", file=None, key="device")  # losses are device-free
    out = {}
    for name, top1 in TOP1.items():
        model = library.model(name, file=None, key="model")
        splits = ["input", *(b.name for b in model.blocks[:-1]), "device"]
        rows = []
        for c in thresholds:
            losses = [
                top1 - build_plan("split", f"progressive_{s}_t{c:g}", model, device).accuracy
                for s in splits
            ]
            rows.append((c, (min(losses), max(losses))))
        out[name] = rows
    return out


def markdown(rows: list[Row]) -> str:
    lines = [
        "| claim | source | simulator | conditions |",
        "|---|---|---|---|",
        *(f"| {r.claim} | {r.source} | {r.simulator} | {r.conditions} |" for r in rows),
    ]
    return "\n".join(lines) + "\n"


def point_table(points: pd.DataFrame) -> str:
    """Markdown: per board, model, rate and load, each strategy's accuracy / latency / energy."""
    lines = [
        "| board | model | deadline s | Mbit/s | load jobs/s | strategy | top-1 % | "
        "on-time top-1 % | mean ms | miss % | J/inf board | device exits % |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for _, r in points.iterrows():
        exits = r.get("exit_share_device", math.nan)
        lines.append(
            f"| {BOARDS.get(r['board'], r['board'])} | {r['model']} | {r['deadline_s']:g} | "
            f"{r['rate_bps'] / 1e6:g} | "
            f"{r['load_hz']:g} | {r['strategy']} | {100 * r['accuracy_expected']:.1f} | "
            f"{100 * r['on_time_accuracy']:.1f} | {1000 * r['latency_mean_s']:.0f} | "
            f"{100 * r['deadline_miss_rate']:.1f} | "
            f"{r['energy_whole_board_per_inference_j']:.2f} | "
            + ("-" if math.isnan(exits) else f"{100 * exits:.0f}")
            + " |"
        )
    return "\n".join(lines) + "\n"
