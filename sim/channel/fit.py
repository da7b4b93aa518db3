"""Fitting compact channel models to throughput traces, and the statistics that compare them.

Two models, both usable directly as a scenario's ``uplink``:

* a Markov chain of throughput states (``kind: markov``): bins below
  ``outage_bps`` form an outage state; the other bins are split into
  ``levels - 1`` equal-probability classes (quantiles of the pooled bins).
  Each state's rate is the mean of its bins; transitions are counted between
  consecutive bins of each trace; a state's jump law is the off-diagonal row
  of transition counts, normalised, and its mean holding time is its mean run
  length (about bin / (1 - P_kk)), adjusted so that the chain's
  time-stationary law equals the bins' empirical occupancy exactly. The
  fitted mean throughput and outage fraction are therefore the trace's. The
  chain is discrete-time on the bin grid (``step_s``).
* Gilbert-Elliott (``kind: gilbert_elliott``): bad = bins below ``bad_bps``;
  good/bad rates are the means of those bins; mean good/bad durations are the
  bins in each state over the number of good/bad cycles (the channels.md §B.7
  mean-run-length method, made exact for the bad fraction).

Statistics (for the trace and for a long realisation of each model): mean,
p5 and p95 of the bin throughput, outage fraction (bins < ``outage_bps``),
autocorrelation at 1 s, and the distribution (p10/p50/p90/p99) of the time to
send 10 kB and 45 kB from a uniformly random start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.channel.capacity import PiecewiseCapacity
from sim.channel.gilbert import run_lengths
from sim.channel.sources import MarkovSource
from sim.channel.traces import Trace, read_trace
from sim.errors import SimInputError

PAYLOADS_BYTES = (10_000, 45_000)
SEND_QUANTILES = (10, 50, 90, 99)


def load_trace(
    path: str | Path,
    fmt: str = "auto",
    *,
    bin_s: float = 0.1,
    column: str | None = None,
    select: dict | None = None,
) -> Trace:
    """Load one trace in any supported format (``fmt='auto'`` guesses); same reader and
    defaults as a scenario's ``kind: trace`` uplink (:func:`sim.channel.traces.read_trace`)."""
    path = Path(path)
    if not path.is_file():
        raise SimInputError("trace file not found", file=path)
    return read_trace(path, fmt, bin_s=bin_s, rate_column=column, select=select)


def binned(trace_or_edges: Trace | tuple[np.ndarray, np.ndarray], bin_s: float) -> np.ndarray:
    """Mean rate [bit/s] over consecutive bins of ``bin_s`` [s] (exact for piecewise-constant c)."""
    if isinstance(trace_or_edges, Trace):
        edges = np.concatenate([[0.0], np.cumsum(trace_or_edges.durations_s)])
        cum = np.concatenate(
            [[0.0], np.cumsum(trace_or_edges.durations_s * trace_or_edges.rates_bps)]
        )
    else:
        edges, rates = trace_or_edges
        cum = np.concatenate([[0.0], np.cumsum(np.diff(edges) * rates)])
    count = int(np.floor(edges[-1] / bin_s + 1e-9))
    grid = np.arange(count + 1) * bin_s
    return np.diff(np.interp(grid, edges, cum)) / bin_s


# ----------------------------------------------------------------------------- models
@dataclass
class MarkovFit:
    """A fitted Markov chain of throughput states."""

    rates_bps: np.ndarray
    mean_sojourn_s: np.ndarray
    jump: np.ndarray
    occupancy: np.ndarray  # empirical fraction of bins per state
    outage_state: bool
    step_s: float

    def as_uplink(self) -> dict:
        """The ``uplink:`` block of a scenario (``kind: markov``)."""
        jump = []
        for row in self.jump:
            row = [float(f"{v:.6g}") for v in row]
            if len(row) > 1:
                k = int(np.argmax(row))
                row[k] = 0.0
                row[k] = round(1.0 - sum(row), 9)
            jump.append(row)
        return {
            "kind": "markov",
            "rates_bps": [round(float(r)) for r in self.rates_bps],
            "mean_sojourn_s": [float(f"{s:.6g}") for s in self.mean_sojourn_s],
            "jump": jump,
            "step_s": self.step_s,
        }


@dataclass
class GilbertElliottFit:
    good_rate_bps: float
    bad_rate_bps: float
    mean_good_s: float
    mean_bad_s: float
    bad_threshold_bps: float
    step_s: float
    note: str = ""

    def as_uplink(self) -> dict:
        return {
            "kind": "gilbert_elliott",
            "good_rate_bps": round(self.good_rate_bps),
            "bad_rate_bps": round(self.bad_rate_bps),
            "mean_good_s": float(f"{self.mean_good_s:.6g}"),
            "mean_bad_s": float(f"{self.mean_bad_s:.6g}"),
            "step_s": self.step_s,
        }


def fit_markov(
    series: list[np.ndarray], bin_s: float, *, levels: int = 10, outage_bps: float = 1e5
) -> MarkovFit:
    """Fit a Markov chain of throughput states to binned series (see module doc)."""
    pooled = np.concatenate(series)
    usable = pooled[pooled >= outage_bps]
    has_outage = bool((pooled < outage_bps).any())
    classes = levels - 1 if has_outage else levels
    if usable.size:
        quantiles = np.quantile(usable, np.linspace(0.0, 1.0, classes + 1)[1:-1])
        edges = np.unique(quantiles)
    else:
        edges = np.zeros(0)

    def state_of(x: np.ndarray) -> np.ndarray:
        cls = np.searchsorted(edges, x, side="right") + (1 if has_outage else 0)
        return np.where(x < outage_bps, 0, cls) if has_outage else cls

    n_states = edges.size + 1 + (1 if has_outage else 0)
    counts = np.zeros((n_states, n_states))
    sums = np.zeros(n_states)
    bins = np.zeros(n_states)
    runs = np.zeros(n_states)
    for x in series:
        s = state_of(x)
        np.add.at(counts, (s[:-1], s[1:]), 1.0)
        np.add.at(sums, s, x)
        np.add.at(bins, s, 1.0)
        values, _ = run_lengths(s)
        np.add.at(runs, values, 1.0)
    present = bins > 0
    counts = counts[np.ix_(present, present)]
    sums, bins, runs = sums[present], bins[present], runs[present]
    n = int(present.sum())
    rates = sums / bins
    jump = counts.copy()
    np.fill_diagonal(jump, 0.0)
    for k in range(n):
        if jump[k].sum() == 0 and n > 1:  # never left inside a trace: go to the neighbours
            for j in (k - 1, k + 1):
                if 0 <= j < n:
                    jump[k, j] = 1.0
    if n == 1:
        jump = np.ones((1, 1))
    else:
        jump = jump / jump.sum(axis=1, keepdims=True)
    # Holding times: the mean run lengths (bins / runs, about bin / (1 - P_kk)),
    # adjusted so that the chain's time-stationary law (embedded law x holding
    # time) equals the bins' occupancy exactly, whatever the traces' end effects.
    occupancy = bins / bins.sum()
    embedded = MarkovSource(rates, np.ones(n), jump, np.random.default_rng(0)).stationary()
    scale = bins.sum() * bin_s / runs.sum()
    sojourn = np.maximum(scale * occupancy / np.maximum(embedded, 1e-300), bin_s)
    return MarkovFit(rates, sojourn, jump, occupancy, bool(has_outage), bin_s)


def fit_gilbert_elliott(
    series: list[np.ndarray], bin_s: float, *, bad_bps: float
) -> GilbertElliottFit:
    """Fit a two-state good/bad channel: bad bins are those below ``bad_bps``."""
    pooled = np.concatenate(series)
    note = ""
    if not (pooled < bad_bps).any():
        bad_bps = float(np.quantile(pooled, 0.1)) + 1e-9
        note = f"no bins below the outage threshold: bad = below the 10th percentile ({bad_bps / 1e6:.3g} Mbit/s)"
    # Mean durations from the number of good/bad cycles (mean of the two
    # transition counts), so that mean_bad / (mean_good + mean_bad) equals the
    # fraction of bad bins exactly, whatever state the traces start or end in.
    bad_bins = good_bins = cycles = 0.0
    for x in series:
        bad = x < bad_bps
        bad_bins += float(bad.sum())
        good_bins += float((~bad).sum())
        cycles += 0.5 * float(np.count_nonzero(np.diff(bad.astype(np.int8))))
    cycles = max(cycles, 1.0)
    return GilbertElliottFit(
        good_rate_bps=float(pooled[pooled >= bad_bps].mean()),
        bad_rate_bps=float(pooled[pooled < bad_bps].mean()),
        mean_good_s=max(good_bins / cycles, 1.0) * bin_s,
        mean_bad_s=max(bad_bins / cycles, 1.0) * bin_s,
        bad_threshold_bps=bad_bps,
        step_s=bin_s,
        note=note,
    )


def simulate_markov(
    rates_bps: np.ndarray,
    mean_sojourn_s: np.ndarray,
    jump: np.ndarray,
    horizon_s: float,
    rng: np.random.Generator,
    step_s: float | None = None,
) -> PiecewiseCapacity:
    """A realisation of the fitted chain, generated up to ``horizon_s`` [s]."""
    source = MarkovSource(rates_bps, mean_sojourn_s, jump, rng, step_s=step_s)
    capacity = PiecewiseCapacity(source)
    capacity.bits_until(horizon_s)
    return capacity


# ----------------------------------------------------------------------------- statistics
@dataclass
class ChannelStatistics:
    """Throughput statistics [Mbit/s], outage fraction, ACF at 1 s, send-time quantiles [ms]."""

    mean_mbps: float
    p5_mbps: float
    p95_mbps: float
    outage_fraction: float
    acf_1s: float
    send_ms: dict[int, list[float]] = field(default_factory=dict)  # payload bytes -> quantiles

    def as_dict(self) -> dict:
        out: dict[str, Any] = {
            "mean_mbps": round(self.mean_mbps, 4),
            "p5_mbps": round(self.p5_mbps, 4),
            "p95_mbps": round(self.p95_mbps, 4),
            "outage_fraction": round(self.outage_fraction, 4),
            "acf_1s": round(self.acf_1s, 3),
        }
        for size, values in self.send_ms.items():
            out[f"send_{size // 1000}kB_ms_p{'/p'.join(map(str, SEND_QUANTILES))}"] = [
                round(v, 1) for v in values
            ]
        return out


def autocorrelation(series: list[np.ndarray], lag_bins: int) -> float:
    """Pooled autocorrelation at ``lag_bins``: each series about its own mean."""
    num = den = 0.0
    for x in series:
        if x.size <= lag_bins:
            continue
        d = x - x.mean()
        num += float(np.dot(d[:-lag_bins], d[lag_bins:])) if lag_bins else float(np.dot(d, d))
        den += float(np.dot(d, d))
    return num / den if den > 0 else float("nan")


def send_times_s(
    edges: np.ndarray, cum: np.ndarray, rates: np.ndarray, starts: np.ndarray, bits: float
) -> np.ndarray:
    """Vectorised finish - start of ``bits`` over a piecewise-constant capacity [s]."""
    target = np.interp(starts, edges, cum) + bits
    i = np.searchsorted(cum, target, side="left")
    out = np.full(starts.size, np.inf)
    ok = i < cum.size
    seg = i[ok] - 1
    out[ok] = edges[seg] + (target[ok] - cum[seg]) / rates[seg] - starts[ok]
    return out


def _tiled(trace: Trace, min_extra_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(edges, cum bits, rates) of a trace looped until it covers duration + ``min_extra_s``."""
    copies = 1 + int(np.ceil(min_extra_s / trace.duration_s)) + 1
    durations = np.tile(trace.durations_s, copies)
    rates = np.tile(trace.rates_bps, copies)
    edges = np.concatenate([[0.0], np.cumsum(durations)])
    cum = np.concatenate([[0.0], np.cumsum(durations * rates)])
    return edges, cum, rates


def statistics(
    series: list[np.ndarray],
    bin_s: float,
    *,
    outage_bps: float,
    send: list[tuple[np.ndarray, np.ndarray, np.ndarray, float]],
    rng: np.random.Generator,
    samples: int = 4000,
) -> ChannelStatistics:
    """Statistics of binned ``series``; ``send``: (edges, cum, rates, usable span) per realisation."""
    pooled = np.concatenate(series)
    lag = max(1, round(1.0 / bin_s))
    spans = np.array([s[3] for s in send])
    which = rng.choice(len(send), size=samples, p=spans / spans.sum())
    send_ms: dict[int, list[float]] = {}
    for size in PAYLOADS_BYTES:
        times = np.empty(samples)
        for k, (edges, cum, rates, span) in enumerate(send):
            mask = which == k
            starts = rng.uniform(0.0, span, size=int(mask.sum()))
            times[mask] = send_times_s(edges, cum, rates, starts, 8.0 * size)
        send_ms[size] = [float(np.percentile(times, q) * 1000.0) for q in SEND_QUANTILES]
    return ChannelStatistics(
        mean_mbps=float(pooled.mean() / 1e6),
        p5_mbps=float(np.percentile(pooled, 5) / 1e6),
        p95_mbps=float(np.percentile(pooled, 95) / 1e6),
        outage_fraction=float((pooled < outage_bps).mean()),
        acf_1s=autocorrelation(series, lag),
        send_ms=send_ms,
    )


def trace_statistics(
    traces: list[Trace], bin_s: float, *, outage_bps: float, rng: np.random.Generator
) -> ChannelStatistics:
    """Statistics of the traces themselves (send times over each trace, looped)."""
    series = [binned(t, bin_s) for t in traces]
    send = [(*_tiled(t, 120.0), t.duration_s) for t in traces]
    return statistics(series, bin_s, outage_bps=outage_bps, send=send, rng=rng)


def capacity_statistics(
    capacity: PiecewiseCapacity,
    horizon_s: float,
    bin_s: float,
    *,
    outage_bps: float,
    rng: np.random.Generator,
) -> ChannelStatistics:
    """Statistics of one long realisation of a model over [0, horizon_s]."""
    edges, rates = capacity.segments_until(horizon_s)
    series = [binned((edges, rates), bin_s)]
    cum = capacity.cum_bits[: edges.size]
    usable = max(horizon_s - 300.0, 0.5 * horizon_s)
    send = [(edges, cum, rates, usable)]
    return statistics(series, bin_s, outage_bps=outage_bps, send=send, rng=rng)
