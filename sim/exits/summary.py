"""Exit shares per strategy: summary columns and a per-exit table with binomial intervals."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sim.stats import clopper_pearson_interval


def exit_figures(req: pd.DataFrame) -> dict[str, float]:
    """Summary columns over the window's requests ``req`` of one strategy.

    ``accuracy_expected``: mean over finished requests of their plan's expected top-1
    (``accuracy`` averages the exits actually taken, so it carries their sampling noise);

    ``exit_share_device``: share of requests answered at a device exit;
    ``exit_share_server_early``: share that left at a server-side exit before the final
    (NaN for strategies with no progressive plan).
    """
    empty = {
        "accuracy_expected": math.nan,
        "exit_share_device": math.nan,
        "exit_share_server_early": math.nan,
    }
    if "exit" not in req or not len(req):
        return empty
    done = req[req["outcome"].isin(["completed", "completed_late"])]
    expected = float(done["plan_accuracy"].mean()) if len(done) else math.nan
    named = req["exit"].astype(str)
    progressive = named != ""
    if not progressive.any():
        return {**empty, "accuracy_expected": expected}
    n = len(req)
    device = int(req["exit_on_device"].sum())
    server_early = int((progressive & ~req["exit_on_device"] & (named != "final")).sum())
    return {
        "accuracy_expected": expected,
        "exit_share_device": device / n,
        "exit_share_server_early": server_early / n,
    }


def exit_table(requests: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per (strategy, exit): requests, share with its Clopper-Pearson interval, mean
    expected accuracy, on-device flag. Only requests of progressive plans are counted."""
    rows: list[dict[str, Any]] = []
    if "exit" not in requests:
        return pd.DataFrame(rows)
    for strategy, part in requests.groupby("strategy", observed=True, sort=False):
        part = part[part["exit"].astype(str) != ""]
        n = len(part)
        if not n:
            continue
        for name, rows_of in part.groupby("exit", observed=True, sort=False):
            k = len(rows_of)
            low, high = clopper_pearson_interval(k, n, level)
            rows.append(
                {
                    "strategy": strategy,
                    "exit": str(name),
                    "on_device": bool(rows_of["exit_on_device"].any()),
                    "requests": k,
                    "share": k / n,
                    "share_low": low,
                    "share_high": high,
                    "accuracy": float(rows_of["accuracy"].mean()),
                }
            )
    return pd.DataFrame(rows)
