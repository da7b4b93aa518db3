"""Which numbers a study reads from its runs: summary metrics, record metrics, constraints.

A metric is a column of a run's summary (:func:`sim.metrics.summarize`, one
row per strategy), named in full (``latency_p95_s``) or without its unit
suffix when that is unambiguous (``latency_p95``, ``energy`` for
``energy_per_inference_j``). From Python a :class:`RecordMetric` computes a
number from a per-run record table instead (e.g. the mean wait of background
jobs). Objectives are minimised unless the metric is a "more is better" one
(:data:`MAXIMISED`) or the name is prefixed ``max:``/``min:``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

import pandas as pd

from sim.errors import SimInputError, did_you_mean

MAXIMISED = frozenset(
    {"accuracy", "on_time_accuracy", "throughput_rps", "completed", "server_utilisation"}
)
"""Summary metrics where more is better (the default direction of an objective on them)."""
NOT_METRICS = frozenset(
    {
        "strategy",
        "latency_mean_ci95_s",
        "deadline_miss_rate_ci95_low",
        "deadline_miss_rate_ci95_high",
    }
)


@dataclass(frozen=True)
class RecordMetric:
    """A metric computed from one record table of a run (Python API).

    ``fn`` gets the rows of ``table`` (``requests``, ``background``, ``batches``, ...)
    of one run and one strategy and returns a number. Its runs keep their records.
    """

    name: str
    table: str
    fn: Callable[[pd.DataFrame], float] = field(compare=False)


Metric = str | RecordMetric


@cache
def summary_metrics() -> tuple[str, ...]:
    """The summary's metric columns, read from :func:`sim.metrics.summarize` on no requests."""
    import numpy as np

    from sim.collect import REQUEST_COLUMNS
    from sim.metrics import summarize

    requests = pd.DataFrame({c: pd.Series([], dtype=t) for c, t in REQUEST_COLUMNS.items()})
    for column in ("e_compute_j", "e_radio_j", "accuracy", "bytes_sent"):
        requests[column] = pd.Series([], dtype=np.float64)
    requests["strategy"] = pd.Series([], dtype=object)
    requests["outcome"] = pd.Series([], dtype=object)
    devices = pd.DataFrame({"strategy": [], "e_total_j": []})
    servers = pd.DataFrame({"strategy": [], "utilisation": [], "workers": []})
    summary = summarize(requests, devices, servers, pd.DataFrame(), windows={"x": (0.0, 1.0)})
    return tuple(c for c in summary.columns if c not in NOT_METRICS)


def resolve_metric(name: str, option: str = "--metric") -> str:
    """The summary column ``name`` means: exact, or the one column ``name_<unit>`` / ``name_...``."""
    known = summary_metrics()
    name = name.strip()
    if name in known:
        return name
    matches = [m for m in known if m.startswith(name + "_")]
    if len(matches) == 1:
        return matches[0]
    matches = matches or [m for m in known if name and name in m]
    hint = f"; '{name}' could be {', '.join(matches)}" if matches else did_you_mean(name, known)
    raise SimInputError(f"unknown metric{hint}", file=option, value=name, allowed=", ".join(known))


def resolve_metrics(metrics: Sequence[Metric], option: str = "--metric") -> list[Metric]:
    """Names resolved (:func:`resolve_metric`), record metrics kept; no repeats."""
    if not metrics:
        raise SimInputError("no metric given", file=option, allowed=", ".join(summary_metrics()))
    out: list[Metric] = []
    for metric in metrics:
        resolved = metric if isinstance(metric, RecordMetric) else resolve_metric(metric, option)
        if metric_name(resolved) in [metric_name(m) for m in out]:
            raise SimInputError("metric given twice", file=option, value=metric_name(resolved))
        out.append(resolved)
    return out


def metric_name(metric: Metric) -> str:
    return metric.name if isinstance(metric, RecordMetric) else metric


def split_list(text: str | Sequence[str]) -> list[str]:
    """``'a,b'`` or ``['a', 'b,c']`` -> ``['a', 'b', 'c']``."""
    items = [text] if isinstance(text, str) else list(text)
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


@dataclass(frozen=True)
class Objective:
    """A metric to minimise or maximise (mean over replications)."""

    metric: str
    maximise: bool

    @property
    def direction(self) -> str:
        return "maximize" if self.maximise else "minimize"


def parse_objective(text: str) -> Objective:
    """``energy_per_inference_j``, ``latency_p95``, ``max:accuracy`` or ``min:...``."""
    head, sep, rest = text.partition(":")
    if sep and head in ("max", "min"):
        return Objective(resolve_metric(rest, "--objective"), head == "max")
    metric = resolve_metric(text, "--objective")
    return Objective(metric, metric in MAXIMISED)


_CONSTRAINT = re.compile(r"^\s*([A-Za-z0-9_]+)\s*(<=|>=)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """``metric <= bound`` or ``metric >= bound`` on the mean over replications."""

    metric: str
    upper: bool
    bound: float

    @property
    def label(self) -> str:
        return f"{self.metric}{'<=' if self.upper else '>='}{self.bound:g}"

    def violation(self, value: float) -> float:
        """Optuna's convention: <= 0 when satisfied; a NaN metric counts as violated."""
        if math.isnan(value):
            return math.inf
        return value - self.bound if self.upper else self.bound - value


def parse_constraint(text: str) -> Constraint:
    """``deadline_miss_rate<=0.05`` -> :class:`Constraint`."""
    match = _CONSTRAINT.match(text)
    if not match:
        raise SimInputError(
            "expected METRIC<=BOUND or METRIC>=BOUND",
            file="--constraint",
            value=text,
            allowed="e.g. deadline_miss_rate<=0.05",
        )
    name, op, bound_text = match.groups()
    try:
        bound = float(bound_text)
    except ValueError:
        raise SimInputError(
            "the bound must be a number", file="--constraint", key=name, value=bound_text
        ) from None
    if not math.isfinite(bound):
        raise SimInputError("the bound must be finite", file="--constraint", value=bound_text)
    return Constraint(resolve_metric(name, "--constraint"), op == "<=", bound)
