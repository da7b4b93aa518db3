"""Global sensitivity analysis: SALib designs, each point a sweep run, SALib indices.

* ``sobol``: Saltelli's extension of the Sobol' sequence (``SALib.sample.sobol``,
  N x (D + 2) points without second-order terms) and Sobol' first-order (S1)
  and total (ST) indices with bootstrap confidence intervals
  (``SALib.analyze.sobol``; Saltelli et al. 2010, Jansen 1999 estimators).
* ``morris``: Morris elementary effects on a p-level grid (``SALib.sample.morris``,
  N trajectories of D + 1 points) and mu*, sigma with a bootstrap interval on mu*
  (``SALib.analyze.morris``; Campolongo et al. 2007).

Log parameters are sampled uniformly in log space, so their indices speak of
log(parameter). The metric of a point is its mean over the replications, which
share seeds with every other point (common random numbers); the intervals SALib
reports cover the design's sampling error, not the simulation noise left in the
means (more replications shrink that).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from sim.analysis.evaluate import (
    Execution,
    check_execution,
    claim_study_folder,
    point_means,
    run_points,
)
from sim.analysis.metrics import Metric, metric_name, resolve_metrics
from sim.analysis.params import Choice, Param, Range, check_params
from sim.analysis.params import overrides as point_overrides
from sim.errors import SimInputError

Method = Literal["sobol", "morris"]
INDEX_COLUMNS = ("strategy", "metric", "param", "index", "value", "conf", "ci_low", "ci_high")
MORRIS_LEVELS = 4


def problem(params: Sequence[Range | Choice]) -> dict[str, Any]:
    """SALib's problem dict; log parameters in natural-log space, a categorical one as
    [0, number of choices) (each choice equally likely)."""
    bounds = []
    for p in params:
        if isinstance(p, Choice):
            bounds.append([0.0, float(len(p.values))])
        else:
            bounds.append([math.log(p.low), math.log(p.high)] if p.log else [p.low, p.high])
    return {"num_vars": len(params), "names": [p.key for p in params], "bounds": bounds}


def design(
    params: Sequence[Range | Choice], method: Method, samples: int, seed: int
) -> tuple[dict[str, Any], np.ndarray]:
    """(SALib problem, design matrix in SALib's space [points x params])."""
    prob = problem(params)
    if method == "sobol":
        from SALib.sample import sobol

        return prob, sobol.sample(prob, samples, calc_second_order=False, seed=seed)
    from SALib.sample import morris

    return prob, morris.sample(prob, samples, num_levels=MORRIS_LEVELS, seed=seed)


def to_values(params: Sequence[Range | Choice], row: np.ndarray) -> list[Any]:
    """One design row in parameter units (log parameters exponentiated, a categorical
    parameter's choice number ``floor(x)``)."""
    values: list[Any] = []
    for p, x in zip(params, row, strict=True):
        if isinstance(p, Choice):
            values.append(p.values[min(math.floor(x), len(p.values) - 1)])
        else:
            values.append(float(math.exp(x)) if p.log else float(x))
    return values


def analyse(
    prob: dict[str, Any],
    method: Method,
    matrix: np.ndarray,
    y: np.ndarray,
    *,
    seed: int,
    conf_level: float = 0.95,
    resamples: int = 500,
) -> pd.DataFrame:
    """Indices of one output ``y`` (one value per design row): rows param, index, value, conf."""
    names = prob["names"]
    rows = []
    # A NaN output (a strategy finished nothing) has no indices; a constant one has no
    # variance to share out (Sobol' indices are 0/0): both come out NaN.
    if not np.isfinite(y).all() or (method == "sobol" and np.ptp(y) == 0):
        for name in names:
            for index in ("S1", "ST") if method == "sobol" else ("mu_star", "sigma", "mu"):
                rows.append({"param": name, "index": index, "value": math.nan, "conf": math.nan})
        return pd.DataFrame(rows)
    if method == "sobol":
        from SALib.analyze import sobol

        res = sobol.analyze(
            prob,
            y,
            calc_second_order=False,
            num_resamples=resamples,
            conf_level=conf_level,
            seed=seed,
        )
        for i, name in enumerate(names):
            rows.append(
                {"param": name, "index": "S1", "value": res["S1"][i], "conf": res["S1_conf"][i]}
            )
            rows.append(
                {"param": name, "index": "ST", "value": res["ST"][i], "conf": res["ST_conf"][i]}
            )
    else:
        from SALib.analyze import morris

        res = morris.analyze(
            prob,
            matrix,
            y,
            num_resamples=resamples,
            conf_level=conf_level,
            num_levels=MORRIS_LEVELS,
            seed=seed,
        )
        for i, name in enumerate(names):
            rows.append(
                {
                    "param": name,
                    "index": "mu_star",
                    "value": res["mu_star"][i],
                    "conf": res["mu_star_conf"][i],
                }
            )
            rows.append(
                {"param": name, "index": "sigma", "value": res["sigma"][i], "conf": math.nan}
            )
            rows.append({"param": name, "index": "mu", "value": res["mu"][i], "conf": math.nan})
    frame = pd.DataFrame(rows)
    frame["value"] = frame["value"].astype(float)
    frame["conf"] = frame["conf"].astype(float)
    return frame


@dataclass
class SensitivityResult:
    """Indices (tidy), the design with its per-point means, and where they are stored."""

    method: Method
    params: list[Range | Choice]
    metrics: list[str]
    strategies: list[str]
    indices: pd.DataFrame
    points: pd.DataFrame
    runs: pd.DataFrame
    out: Path | None = None

    def table(self, index: str | None = None) -> pd.DataFrame:
        """Wide view: one row per strategy, metric and parameter; a column per index
        (and ``<index>_conf``)."""
        frame = self.indices if index is None else self.indices[self.indices["index"] == index]
        wide = frame.pivot_table(
            index=["strategy", "metric", "param"],
            columns="index",
            values=["value", "conf"],
            sort=False,
            dropna=False,
        )
        pairs = cast(list[tuple[str, str]], list(wide.columns))
        wide.columns = [n if v == "value" else f"{n}_conf" for v, n in pairs]
        return wide.reset_index()

    def ranking(self, metric: str, strategy: str) -> list[str]:
        """Parameters, most influential first (by ST for Sobol, mu* for Morris)."""
        index = "ST" if self.method == "sobol" else "mu_star"
        rows = self.indices[
            (self.indices["metric"] == metric)
            & (self.indices["strategy"] == strategy)
            & (self.indices["index"] == index)
        ]
        return list(rows.sort_values("value", ascending=False)["param"])

    def plot(self, metric: str | None = None) -> Any:
        """Bars of the indices with their intervals (:func:`sim.analysis.plots.plot_indices`)."""
        from sim.analysis.plots import plot_indices

        return plot_indices(self.indices, self.method, metric or self.metrics[0])

    def format(self) -> str:
        """Text table of indices ± half-width per strategy and metric (what the CLI prints)."""
        lines = []
        wide = self.table()
        shown = ["S1", "ST"] if self.method == "sobol" else ["mu_star", "sigma"]
        for (strategy, metric), part in wide.groupby(["strategy", "metric"], sort=False):
            lines.append(f"{metric} [{strategy}]")
            for _, row in part.iterrows():
                cells = []
                for index in shown:
                    conf = row.get(f"{index}_conf", math.nan)
                    text = f"{row[index]:.3g}"
                    if isinstance(conf, float) and math.isfinite(conf):
                        text += f" ± {conf:.2g}"
                    cells.append(f"{index} {text:>16}")
                lines.append(f"  {row['param']:<44} " + "  ".join(cells))
        return "\n".join(lines)


def sensitivity(
    scenario: Any,
    params: Sequence[Param | str],
    *,
    method: Method = "sobol",
    samples: int = 64,
    metrics: Sequence[Metric] | str = ("deadline_miss_rate",),
    replications: int = 1,
    seed: int | None = None,
    strategies: Sequence[str] | None = None,
    overrides: Sequence[str] = (),
    out: str | Path | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    local_cluster: bool = False,
    progress: bool = True,
    conf_level: float = 0.95,
    resamples: int = 500,
    plots: bool = True,
    announce: Callable[[str], None] | None = None,
) -> SensitivityResult:
    """Sobol' or Morris indices of ``metrics`` over ``params``, per compared strategy.

    ``scenario``: a :class:`~sim.scenario.load.Scenario` or a scenario file;
    ``params``: :class:`~sim.analysis.params.Range` objects or ``'key=LOW:HIGH[:log]'``;
    ``samples``: N (Sobol: N x (D + 2) points, N a power of 2; Morris: N
    trajectories of D + 1 points); ``metrics``: summary metric names (or
    :class:`~sim.analysis.metrics.RecordMetric`); ``replications`` seeds per
    point (the same at every point). Runs go to ``out/sweep`` (default
    ``results/sensitivity/<scenario name>``; re-running resumes), the tables to
    ``out/indices.{parquet,csv}`` and ``out/points.{parquet,csv}``, the plots to
    ``out/plots/``. Execution as :func:`sim.sweep.runner.sweep`.
    """
    from sim.analysis.metrics import split_list
    from sim.analysis.params import parse_param
    from sim.sweep.runner import open_target

    resolved, _, _ = open_target(scenario, overrides)
    ranges = [parse_param(p, allow_int=False) if isinstance(p, str) else p for p in params]
    for p in ranges:
        if isinstance(p, Range) and p.integer:
            raise SimInputError(
                "sensitivity takes continuous ranges or categorical choices",
                file="--param",
                key=p.key,
                allowed="KEY=LOW:HIGH[:log] or KEY=A,B,C",
            )
        if p.key == "strategy":
            raise SimInputError(
                "sensitivity reports indices per compared strategy and cannot vary the "
                "strategy; vary a named strategy's settings instead",
                file="--param",
                value=p.label,
                allowed="e.g. compare.1.variant=bottlefit_c1,bottlefit_c12 with a named split",
            )
    if method not in ("sobol", "morris"):
        raise SimInputError(
            "unknown method", file="--method", value=method, allowed="sobol, morris"
        )
    check_execution(workers, samples, "--samples")
    if samples < 2:
        raise SimInputError("too few samples", file="--samples", value=samples, allowed=">= 2")
    if replications < 1:
        raise SimInputError("replications must be >= 1", file="--replications", value=replications)
    chosen = resolve_metrics(
        split_list(metrics)
        if isinstance(metrics, str)
        else [
            m for item in metrics for m in (split_list(item) if isinstance(item, str) else [item])
        ]
    )
    check_params(resolved, ranges)
    labels = list(strategies) if strategies is not None else resolved.strategy_labels
    unknown = [s for s in labels if s not in resolved.strategy_labels]
    if unknown or not labels:
        raise SimInputError(
            "unknown strategy",
            file="--strategies",
            value=",".join(unknown),
            allowed=", ".join(resolved.strategy_labels),
        )
    base_seed = seed if seed is not None else resolved.spec.seed
    prob, matrix = design(ranges, method, samples, base_seed)
    points = [point_overrides(ranges, to_values(ranges, row)) for row in matrix]
    folder = Path(out) if out is not None else Path("results") / "sensitivity" / resolved.name
    claim_study_folder(folder, "sensitivity")
    if announce is not None:
        announce(
            f"sensitivity {resolved.name}: {method}, N={samples}, {len(ranges)} parameters -> "
            f"{len(points)} points x {replications} replication(s), strategies "
            f"{', '.join(labels)} -> {folder}/"
        )
    runs = run_points(
        resolved,
        points,
        metrics=chosen,
        out=folder / "sweep",
        replications=replications,
        seed=base_seed,
        strategies=labels,
        execution=Execution(workers, scheduler, local_cluster, progress=progress),
    )
    names = [metric_name(m) for m in chosen]
    keys = [p.key for p in ranges]
    means = point_means(runs, keys, names)
    pieces = []
    for strategy in labels:
        part = means[means["strategy"] == strategy].sort_values("point")
        if len(part) != len(matrix):
            raise RuntimeError(f"{strategy}: {len(part)} of {len(matrix)} points have results")
        for name in names:
            frame = analyse(
                prob,
                method,
                matrix,
                part[name].to_numpy(dtype=float),
                seed=base_seed,
                conf_level=conf_level,
                resamples=resamples,
            )
            frame.insert(0, "metric", name)
            frame.insert(0, "strategy", strategy)
            pieces.append(frame)
    indices = pd.concat(pieces, ignore_index=True)
    indices["ci_low"] = indices["value"] - indices["conf"]
    indices["ci_high"] = indices["value"] + indices["conf"]
    indices["method"] = method
    indices["samples"] = samples
    indices["replications"] = replications
    indices["conf_level"] = conf_level
    result = SensitivityResult(method, ranges, names, labels, indices, means, runs, out=folder)
    write_outputs(result, folder, plots=plots)
    return result


def write_outputs(result: SensitivityResult, folder: Path, *, plots: bool = True) -> list[Path]:
    """Tables (Parquet and CSV) and one index plot per metric, each written atomically."""
    from sim.analysis.plots import save_figure
    from sim.sweep.store import atomic_write_bytes
    from sim.sweep.worker import parquet_bytes

    written = []
    for name, frame in (("indices", result.indices), ("points", result.points)):
        for suffix, data in (
            ("parquet", parquet_bytes(frame)),
            ("csv", frame.to_csv(index=False).encode("utf-8")),
        ):
            path = folder / f"{name}.{suffix}"
            atomic_write_bytes(path, data)
            written.append(path)
    if plots:
        for metric in result.metrics:
            path = folder / "plots" / f"{result.method}_{metric}.png"
            save_figure(result.plot(metric), path)
            written.append(path)
    return written
