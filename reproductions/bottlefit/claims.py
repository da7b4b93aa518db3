"""From the reproduction's runs to the abstract's comparisons, each with an interval and a verdict.

For every result claim (latency and power against local computing, edge
offloading and the autoencoder baseline), at every named operating point,
board and model: BottleFit's reduction ``1 - bottlefit / baseline`` per
replication (paired: both strategies saw the same seed), its Student-t
interval across replications (:mod:`sim.stats`), and where the abstract's
figure lies: ``inside`` the interval, ``above`` it (the paper claims more than
the simulator gives) or ``below`` it. Replications that agree exactly (a
deterministic point) give a zero-width interval, reported as such.

Inputs are kept apart from results: the compression, accuracy loss and head
sizes come from the model profiles (architecture or assumption), and the board
timings from the device profiles, labelled measured / published / predicted.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

from reproductions.bottlefit.data import (
    ABSTRACT,
    AUTOENCODER,
    BOARDS,
    BOTTLEFIT,
    SCENARIOS,
    Claim,
)
from sim.stats import (
    IntervalWiderThanEffect,
    position,
    proportion_interval,
    t_interval,
    warn_if_wider_than_effect,
)

METRICS = ("latency_s", "power_w", "energy_whole_board_j", "energy_above_idle_j")
KEYS = ["board", "device", "model", "operating_point", "radio", "rate_bps", "load"]
REDUCTION_BOUNDS = (-math.inf, 1.0)
"""1 - x / baseline of positive quantities never exceeds 1."""


# ---------------------------------------------------------------- reductions with intervals


def reductions(frame: pd.DataFrame) -> pd.DataFrame:
    """BottleFit's reduction per run (replication), baseline and metric.

    A run where BottleFit or the baseline is saturated (requests queue on the device)
    gives NaN and ``saturated`` True: its latency grows with the run's length.
    """
    rows = []
    index = [*KEYS, "replication"]
    frame = frame.assign(saturated=frame["saturated"].astype(bool))
    for metric in METRICS:
        values = frame.pivot_table(index=index, columns="strategy", values=metric, aggfunc="first")
        saturated = frame.pivot_table(
            index=index, columns="strategy", values="saturated", aggfunc="max"
        )
        if BOTTLEFIT not in values:
            continue
        for baseline in ("local", "offload", "autoencoder"):
            if baseline not in values:
                continue
            red = 1.0 - values[BOTTLEFIT] / values[baseline]
            stuck = saturated[BOTTLEFIT].astype(bool) | saturated[baseline].astype(bool)
            part = pd.DataFrame(
                {"reduction": red.where(~stuck), "saturated": stuck}, index=values.index
            ).reset_index()
            part["metric"] = metric
            part["baseline"] = baseline
            rows.append(part)
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def reduction_intervals(frame: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per (board, model, operating point, baseline, metric): mean reduction and its interval
    over replications; ``note`` says 'saturated' or 'zero variance'."""
    red = reductions(frame)
    rows = []
    for key, part in red.groupby([*KEYS, "baseline", "metric"], sort=False, dropna=False):
        ci = t_interval(part["reduction"], level, bounds=REDUCTION_BOUNDS)
        note = ""
        if part["saturated"].any():
            note = f"saturated in {int(part['saturated'].sum())} of {len(part)} runs"
        elif ci["zero_variance"]:
            note = f"all {ci['n']} replications equal"
        rows.append(
            {
                **dict(zip([*KEYS, "baseline", "metric"], key, strict=True)),
                **{k: ci[k] for k in ("n", "mean", "half_width", "ci_low", "ci_high")},
                "zero_variance": bool(ci["zero_variance"]),
                "note": note,
            }
        )
    return pd.DataFrame(rows)


def _claim_rows(intervals: pd.DataFrame, claim: Claim) -> pd.DataFrame:
    part = intervals[
        (intervals["metric"] == claim.metric) & (intervals["baseline"] == claim.baseline)
    ]
    if claim.board is not None:
        part = part[part["board"] == claim.board]
    return part


def verdicts(intervals: pd.DataFrame) -> pd.DataFrame:
    """One row per result claim and (board, model, operating point): the simulator's reduction,
    its interval, and where the abstract's figure lies (inside / above / below)."""
    rows = []
    for claim in ABSTRACT:
        if claim.is_input:
            continue
        for _, r in _claim_rows(intervals, claim).iterrows():
            where = "saturated" if r["note"].startswith("saturated") else "no interval"
            if not r["note"].startswith("saturated") and not math.isnan(r["ci_low"]):
                where = position(claim.value, r["ci_low"], r["ci_high"])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", IntervalWiderThanEffect)
                    wide = warn_if_wider_than_effect(r["mean"], r["half_width"], claim.key)
                if wide:
                    where += " (interval wider than the reduction)"
            rows.append(
                {
                    "claim": claim.text,
                    "key": claim.key,
                    "abstract": claim.value,
                    **{k: r[k] for k in KEYS},
                    **{k: r[k] for k in ("n", "mean", "half_width", "ci_low", "ci_high")},
                    "zero_variance": r["zero_variance"],
                    "paper": where,
                }
            )
    return pd.DataFrame(rows)


def verdict_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per claim: the simulator's range of mean reductions over the named points, and at how
    many (board, model, point) combinations the paper's figure lies inside, above or below."""
    rows = []
    for claim in ABSTRACT:
        if claim.is_input:
            continue
        part = table[table["key"] == claim.key] if len(table) else table
        counts: Any = part["paper"].str.split(" ").str[0].value_counts() if len(part) else {}
        means = part["mean"].dropna() if len(part) else pd.Series(dtype=float)
        rows.append(
            {
                "claim": claim.text,
                "abstract": claim.value,
                "sim_min": float(means.min()) if len(means) else math.nan,
                "sim_max": float(means.max()) if len(means) else math.nan,
                "inside": int(counts.get("inside", 0)),
                "paper_above": int(counts.get("above", 0)),
                "paper_below": int(counts.get("below", 0)),
                "saturated": int(counts.get("saturated", 0)),
                "cases": len(part),
            }
        )
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- inputs and timings


def inputs_table(models: list[str]) -> pd.DataFrame:
    """The abstract's input-like figures against what the profiles give the simulator.

    Compression and head sizes follow from the architecture (model profiles,
    computed); the accuracy loss is whatever the profile assumes. None of them is
    a result of the runs.
    """
    from sim.profiles.registry import ProfileLibrary

    library = ProfileLibrary(SCENARIOS)
    rows = []
    for name in models:
        model = library.model(name, file=None, key="model")
        bf = model.variants[BOTTLEFIT]
        jpeg = model.jpeg_bytes.value
        rows.append(
            {
                "figure": "data compression vs the JPEG input",
                "model": name,
                "abstract": "77.1%",
                "profile": f"{1 - bf.payload_bytes / jpeg:.1%}",
                "from": f"{bf.payload_bytes:,} B bottleneck vs {jpeg:,.0f} B JPEG "
                "(architecture: C x 29 x 29 uint8 + 8 B)",
            }
        )
        loss = model.accuracy_top1.value - bf.accuracy_top1.value
        rows.append(
            {
                "figure": "accuracy loss at that compression",
                "model": name,
                "abstract": "up to 0.6%",
                "profile": f"{loss:.1%}",
                "from": f"top-1 {model.accuracy_top1.value:.4f} -> {bf.accuracy_top1.value:.4f}; "
                f"{bf.accuracy_top1.provenance}: {bf.accuracy_top1.source}",
            }
        )
        ae = model.variants.get(AUTOENCODER)
        if ae is not None:
            front = [b.params for b in model.blocks[: model.block_index(ae.replaces_through) + 1]]
            if all(p is not None for p in front):
                head_ae = sum(p or 0 for p in front) + ae.encoder.params
                rows.append(
                    {
                        "figure": "head size, autoencoder / BottleFit",
                        "model": name,
                        "abstract": "83x",
                        "profile": f"{head_ae / bf.encoder.params:.1f}x",
                        "from": f"{AUTOENCODER} head {head_ae:,} params (blocks through "
                        f"{ae.replaces_through} + encoder) vs BottleFit encoder "
                        f"{bf.encoder.params:,}",
                    }
                )
    return pd.DataFrame(rows)


def timing_label(provenance: str, source: str) -> str:
    """measured / published / predicted, as a device profile's model entry says."""
    text = source.lower()
    if provenance == "measured" or text.startswith("measured") or "blocks: measured" in text:
        return "measured"
    if "blocks: published" in text:
        return "published (whole model; split over blocks by the cost model)"
    if "predicted" in text:
        return "predicted (cost model; no published figure)"
    return provenance


def timings_table(models: list[str], boards: list[str]) -> pd.DataFrame:
    """Per board and model: local inference, BottleFit and autoencoder heads [ms], the board's
    idle and compute power [W], and where the timings come from."""
    from sim.profiles.registry import ProfileLibrary

    library = ProfileLibrary(SCENARIOS)
    rows = []
    for board in boards:
        device = library.device(BOARDS[board], file=None, key="device")
        for name in models:
            model = library.model(name, file=None, key="model")
            times = device.models.get(name)
            if times is None:
                continue
            ae = model.variants.get(AUTOENCODER)
            front = 0.0
            if ae is not None:
                for block in model.blocks[: model.block_index(ae.replaces_through) + 1]:
                    front += times.blocks_s.get(block.name, math.nan)
            compute_w = times.compute_w or device.power.compute_w
            rows.append(
                {
                    "device": device.name,
                    "model": name,
                    "local_ms": 1e3 * sum(times.blocks_s.values()),
                    "bottlefit_head_ms": 1e3 * times.parts_s.get(f"{BOTTLEFIT}.encoder", math.nan),
                    "ae_head_ms": 1e3
                    * (front + times.parts_s.get(f"{AUTOENCODER}.encoder", math.nan)),
                    "idle_w": device.power.idle_w.value,
                    "compute_w": compute_w.value,
                    "timings": timing_label(times.provenance, times.source),
                }
            )
    return pd.DataFrame(rows)


def power_bounds(timings: pd.DataFrame) -> pd.DataFrame:
    """The largest power reduction against local that the model allows, per board:
    1 - idle_w / compute_w (BottleFit draws at least idle while in flight; local draws compute)."""
    per = timings.groupby("device", sort=False)[["idle_w", "compute_w"]].first()
    per["max_power_reduction_vs_local"] = 1.0 - per["idle_w"] / per["compute_w"]
    return per.reset_index()


# ---------------------------------------------------------------- winners (rate curves)


def winners(frame: pd.DataFrame, metric: str = "latency_s") -> pd.DataFrame:
    """Which strategy has the least ``metric`` at each rate, per board, model and radio
    (the idle-server rate curves; saturated runs excluded)."""
    part = frame[(frame["kind"] == "curves") & ~frame["saturated"].astype(bool)]
    keys = ["device", "model", "radio", "rate_bps"]
    part = part.dropna(subset=[metric])
    best = part.loc[part.groupby(keys)[metric].idxmin()]
    table = best.pivot_table(
        index=["device", "model", "radio"], columns="rate_bps", values="strategy", aggfunc="first"
    )
    table.columns = [f"{float(c) / 1e6:g} Mbit/s" for c in table.columns]
    return table


# ---------------------------------------------------------------- Markdown


def frame_markdown(table: pd.DataFrame, index: bool = True) -> str:
    """A small DataFrame as a Markdown table (the index as columns when ``index``)."""
    frame = table.reset_index() if index else table
    head = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def _pct(value: float) -> str:
    return "-" if value is None or math.isnan(value) else f"{100 * value:.1f}%"


def _cell(r: pd.Series) -> str:
    """``61.2 ± 0.4 %: paper above``; ``59.0 % (all 5 equal): ...`` for a deterministic point."""
    if r["paper"] == "saturated":
        return "saturated"
    mean, half = 100 * r["mean"], 100 * r["half_width"]
    if r["zero_variance"]:
        text = f"{mean:.1f} % (all {int(r['n'])} equal)"
    elif math.isnan(half):
        text = f"{mean:.1f} %"
    elif math.isclose(r["ci_high"], 1.0) and r["mean"] + r["half_width"] > 1.0:  # clipped at 1
        text = f"{mean:.1f} % [{100 * r['ci_low']:.1f}, 100]"
    else:
        text = f"{mean:.1f} ± {half:.2g} %"
    return f"{text}: paper {r['paper']}"


def claims_markdown(table: pd.DataFrame, summary: pd.DataFrame, level: float = 0.95) -> str:
    """Per result claim: a table of operating points (rows) by board and model (columns)."""
    lines = [
        "| claim (BottleFit C=12 vs ...) | abstract | simulator, range of means over the named "
        "points | paper inside the interval | paper above | paper below | saturated |",
        "|---|---|---|---|---|---|---|",
    ]
    for _, s in summary.iterrows():
        lines.append(
            f"| {s['claim']} | {_pct(s['abstract'])} | {_pct(s['sim_min'])} to "
            f"{_pct(s['sim_max'])} | {s['inside']} of {s['cases']} | {s['paper_above']} | "
            f"{s['paper_below']} | {s['saturated']} |"
        )
    for claim in ABSTRACT:
        if claim.is_input or table.empty:
            continue
        part = table[table["key"] == claim.key]
        if part.empty:
            continue
        lines += [
            "",
            f"**{claim.text}** (abstract {_pct(claim.value)}; reduction, {level:.0%} "
            "interval over replications):",
            "",
        ]
        columns = list(dict.fromkeys(part["device"] + " " + part["model"]))
        lines.append("| operating point | " + " | ".join(columns) + " |")
        lines.append("|---|" + "---|" * len(columns))
        for point, rows in part.groupby("operating_point", sort=False):
            cells = {f"{r['device']} {r['model']}": _cell(r) for _, r in rows.iterrows()}
            lines.append(f"| {point} | " + " | ".join(cells.get(c, "-") for c in columns) + " |")
    return "\n".join(lines)


def point_table(frame: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Per operating point, board, model and strategy: each metric's mean and interval."""
    part = frame[frame["kind"] == "points"]
    rows = []
    for key, runs in part.groupby([*KEYS, "strategy"], sort=False):
        row = dict(zip([*KEYS, "strategy"], key, strict=True))
        row["replications"] = len(runs)
        row["saturated_runs"] = int(runs["saturated"].astype(bool).sum())
        for metric in (*METRICS, "accuracy"):
            if metric == "accuracy":  # a proportion: Korn-Graubard over the runs' requests
                done = runs["finished"].to_numpy(dtype=float)
                ci = proportion_interval(runs["accuracy"].fillna(0.0) * done, done, level)
            else:
                values = runs[metric].to_numpy(dtype=float)
                ci = t_interval(values[np.isfinite(values)], level, bounds=(0.0, math.inf))
            row[metric] = ci["mean"]
            row[f"{metric}_low"] = ci["ci_low"]
            row[f"{metric}_high"] = ci["ci_high"]
        rows.append(row)
    return pd.DataFrame(rows)
