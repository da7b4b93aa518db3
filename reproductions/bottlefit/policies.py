"""Policy comparison of the BottleFit reproduction: per-request choices over time against the channel, and a table.

One figure: the top panel is the uplink capacity c(t) one device saw [Mbit/s]
(the same under every strategy: common random numbers); below it one panel per
strategy with each request of that device at its arrival time, on the row of
the plan it used (local at the bottom, then plans by payload size, offload at
the top), marked by outcome (on time, late, dropped or failed).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from reproductions.bottlefit.claims import frame_markdown
from reproductions.bottlefit.data import SCENARIOS

POLICY_SCENARIOS = ("policy_congested", "policy_erratic")
"""The policy-comparison scenarios under ``scenarios/``."""
POLICY_PLOTTED = ("bottlefit_c12", "static_optimum", "adaptive", "adaptive_any", "deadline_aware")
"""The strategies whose choices the report plots."""

OUTCOME_STYLE = {
    "completed": ("o", "#55A868", "on time"),
    "completed_late": ("^", "#DD8452", "late"),
    "dropped": ("x", "#C44E52", "dropped"),
    "failed": ("x", "#000000", "failed"),
}


def plan_order(requests: pd.DataFrame) -> list[str]:
    """Variants ordered for the y axis: local, then by payload size [bytes], offload last."""
    sizes = requests.groupby("variant", observed=True)["payload_bytes"].first()
    kinds = requests.groupby("variant", observed=True)["kind"].first().astype(str)
    rank = {"local": 0, "split": 1, "offload": 2}
    return sorted(sizes.index.astype(str), key=lambda v: (rank[kinds[v]], sizes[v], v))


def choices_over_time(
    results,
    strategies: Sequence[str] | None = None,
    *,
    device: int = 0,
    start_s: float | None = None,
    span_s: float | None = None,
    path: str | Path | None = None,
):
    """Draw (and write to ``path`` if given) the choices of ``device`` under each strategy.

    ``start_s`` defaults to the end of the warm-up and ``span_s`` to the rest of the run.
    Returns the :class:`matplotlib.figure.Figure` (no pyplot state: show it by returning it
    from a notebook cell).
    """
    spec = results.scenario.spec
    strategies = list(strategies) if strategies is not None else results.strategies
    start = spec.warmup_s if start_s is None else float(start_s)
    end = spec.duration_s if span_s is None else min(spec.duration_s, start + float(span_s))
    req = results.requests
    req = req[(req["device"] == device) & (req["t_arrival"] >= start) & (req["t_arrival"] < end)]
    req = req[req["strategy"].isin(strategies)]
    order = plan_order(req) if len(req) else []
    row_of = {v: i for i, v in enumerate(order)}

    fig = Figure(figsize=(11, 1.8 + 0.35 * max(len(order), 2) * len(strategies)))
    axes = fig.subplots(
        len(strategies) + 1,
        1,
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": [1.2] + [0.25 * max(len(order), 2)] * len(strategies)},
    )
    ax = axes[0, 0]
    capacity = results.runs[strategies[0]].capacity.get(device)
    if capacity is not None:
        if hasattr(capacity, "segments_until"):
            edges, rates = capacity.segments_until(end)
            edges = np.clip(edges, start, end)
            ax.step(edges[:-1], rates / 1e6, where="post", color="#4C72B0", lw=1)
        else:
            times = np.linspace(start, end, 400)
            ax.plot(times, [capacity.rate_at(t) / 1e6 for t in times], color="#4C72B0", lw=1)
    ax.set_ylabel("uplink\n[Mbit/s]")
    ax.set_yscale("symlog", linthresh=0.1)
    ax.grid(alpha=0.3)
    ax.set_title(
        f"{results.scenario.name}: device {device}, plan per request vs its channel", fontsize=9
    )

    for ax, strategy in zip(axes[1:, 0], strategies, strict=True):
        part = req[req["strategy"] == strategy]
        for outcome, (marker, colour, label) in OUTCOME_STYLE.items():
            rows = part[part["outcome"] == outcome]
            if rows.empty:
                continue
            y = rows["variant"].astype(str).map(row_of).to_numpy()
            ax.scatter(rows["t_arrival"], y, marker=marker, s=14, color=colour, label=label, lw=1)
        ax.set_yticks(range(len(order)), order, fontsize=7)
        ax.set_ylim(-0.6, len(order) - 0.4)
        ax.set_title(strategy, fontsize=9, loc="left")
        ax.grid(alpha=0.3)
    handles = [
        Line2D([], [], marker=m, color=c, ls="", label=lab) for m, c, lab in OUTCOME_STYLE.values()
    ]
    axes[0, 0].legend(handles=handles, fontsize=7, ncol=4, loc="upper right")
    axes[-1, 0].set_xlabel("arrival time [s]")
    axes[-1, 0].set_xlim(start, end)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


def policy_table(results) -> pd.DataFrame:
    """Per strategy: latency percentiles [ms], energy per inference [J] on both bases, accuracy,
    misses with the run's 95 % interval (batch clusters, in [0, 100] %), and the policies' own
    counters (summed over devices)."""
    summary = results.summary.set_index("strategy")
    table = pd.DataFrame(
        {
            "p50_ms": 1e3 * summary["latency_p50_s"],
            "p95_ms": 1e3 * summary["latency_p95_s"],
            "p99_ms": 1e3 * summary["latency_p99_s"],
            "J_per_inference_board": summary["energy_whole_board_per_inference_j"],
            "J_per_inference_above_idle": summary["energy_above_idle_per_inference_j"],
            "top1_pct": 100 * summary["accuracy"],
            "miss_pct": 100 * summary["deadline_miss_rate"],
        }
    )
    if "deadline_miss_rate_ci95_low" in summary:  # the run's own bounded interval (sim.stats)
        table["miss_low_pct"] = 100 * summary["deadline_miss_rate_ci95_low"]
        table["miss_high_pct"] = 100 * summary["deadline_miss_rate_ci95_high"]
    devices = results.devices
    counters = [
        c
        for c in devices.columns
        if c.startswith("policy_")
        and (c.endswith(("fallbacks", "switches", "probes")) or "choices_" in c)
    ]
    if counters:
        sums = devices.groupby("strategy", observed=True)[counters].sum(min_count=1)
        sums.columns = [c.removeprefix("policy_") for c in sums.columns]
        table = table.join(sums)
    return table


def policy_report(out: Path, overrides: dict[str, list[str]] | None = None) -> str:
    """Run the policy-comparison scenarios; write ``policies.md`` and the choice plots."""
    import sim

    out.mkdir(parents=True, exist_ok=True)
    parts = []
    for name in POLICY_SCENARIOS:
        scenario = sim.load(SCENARIOS / f"{name}.yaml", (overrides or {}).get(name))
        results = sim.run(scenario)
        table = policy_table(results)
        digits = {"J_": 3, "_ms": 1, "_pct": 2}  # energy [J], latency [ms], percentages
        table = table.round(
            {
                c: d
                for c in table.columns
                for part, d in digits.items()
                if c.startswith(part) or c.endswith(part)
            }
        )
        counters = [c for c in table.columns if not any(p in c for p in ("J_", "_ms", "_pct"))]
        for column in counters:
            values = table[column].dropna()  # the policies' counters: whole numbers
            if len(values) and (values == values.round()).all():
                table[column] = table[column].astype("Int64")
        table.to_csv(out / f"{name}_policies.csv")
        parts.append(f"**{name}** ({scenario.spec.duration_s:g} s, seed {results.seed}):\n\n")
        parts.append(frame_markdown(table.astype(object).fillna("")) + "\n\n")
        choices_over_time(
            results,
            [s for s in POLICY_PLOTTED if s in results.strategies],
            device=0,
            start_s=scenario.spec.warmup_s + 5.0,
            span_s=30.0,
            path=out / f"{name}_choices.png",
        )
    text = "".join(parts)
    (out / "policies.md").write_text(text)
    return text
