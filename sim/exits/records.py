"""Per-request exit columns of the request table (added by :func:`sim.collect.request_frame`).

``exit``: the exit a request of a progressive plan left at (an exit name, or
``final``); empty for other plans. ``exit_on_device``: whether it was answered
on the device (no transfer). ``accuracy``: for progressive plans, the expected
top-1 of the exit taken (the proxy table's accuracy of the samples that leave
there, or the replayed sample's 0/1 correctness), replacing the plan's mean;
``plan_accuracy``: the plan's expected top-1 (for progressive plans, the sum over
its exits of share x accuracy at its threshold).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

EXIT_COLUMNS = {"exit": np.int8, "exit_accuracy": np.float64}
"""Written by the engine: exit index (-1: no exits in the plan) and the request's accuracy."""


def add_exit_columns(frame: pd.DataFrame, run, cols: dict[str, np.ndarray]) -> None:
    """Add ``exit`` and ``exit_on_device`` to ``frame`` and set progressive rows' ``accuracy``."""
    import pandas as pd

    plans = run.plans
    n = len(frame)
    index = cols["exit"].astype(np.int64)
    plan = cols["plan"].astype(np.int64)
    labels: list[str] = [""]
    codes = np.zeros(n, dtype=np.int64)
    on_device = np.zeros(n, dtype=bool)
    for p_code, p in enumerate(plans):
        exits = getattr(p, "exits", None)
        if exits is None:
            continue
        names = exits.exit_names()
        mine = (plan == p_code) & (index >= 0)
        for k, name in enumerate(names):
            rows = mine & (index == k)
            if not rows.any():
                continue
            if name not in labels:
                labels.append(name)
            codes[rows] = labels.index(name)
            local = exits.on_device[k] if k < len(exits.on_device) else exits.final_on_device
            if local:
                on_device[rows] = True
    frame["exit"] = pd.Categorical.from_codes(codes, categories=pd.Index(labels))
    frame["exit_on_device"] = on_device
    # The plan's expectation over its exits (sum of share x accuracy): the same for every
    # request of a plan, so its mean is free of the exit draws' noise.
    frame["plan_accuracy"] = frame["accuracy"].to_numpy(dtype=float, copy=True)
    given = ~np.isnan(cols["exit_accuracy"])
    if given.any():
        accuracy = frame["accuracy"].to_numpy(dtype=float, copy=True)
        accuracy[given] = cols["exit_accuracy"][given]
        frame["accuracy"] = accuracy


def exit_report(plan) -> dict:
    """What summary.json says of a plan's exits: their source (a proxy table's label, or the
    replay file), threshold, and per exit (then 'final') where it runs, share and accuracy."""
    exits = getattr(plan, "exits", None)
    if exits is None:
        return {}
    names = exits.exit_names()
    where = [*("device" if d else "server" for d in exits.on_device)]
    where.append("device" if exits.final_on_device or plan.server is None else "server")
    final_accuracy = math.nan if exits.active else plan.accuracy
    return {
        "exits": {
            "source": exits.label,
            "threshold": exits.threshold,
            "active": exits.active,
            "exits": [
                {"exit": n, "runs_on": w, "share": s, "accuracy": a}
                for n, w, s, a in zip(
                    names, where, exits.shares(), exits.accuracies(final_accuracy), strict=True
                )
            ],
        }
    }
