"""The reproduction's runs, as sweep specs run by ``sim.sweep``, read back as one row per run.

Per board (Jetson Nano, Raspberry Pi) and radio family (the WiFi and LTE
scenario files ``scenarios/bottlefit_<board>_<wifi|lte>.yaml``), two sweeps:

* ``points``: the named operating points of :data:`~reproductions.bottlefit.data.OPERATING_POINTS`
  for that family, times the models, with replications (seeds) for intervals;
* ``curves``: the models x uplink rates x radio states at an idle server, one
  replication (those runs are deterministic), for the rate curves and the winner maps.

Each sweep is stored under ``store/<size>/<board>_<family>_<kind>`` with run ids,
so a second invocation runs only what is missing (resume), and ``scheduler=``
sends the runs to a Dask cluster. :func:`per_run` turns a stored sweep into
one row per run and strategy with the metrics the claims need.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from reproductions.bottlefit.data import (
    AUTOENCODER,
    BACKGROUND_PART,
    BOARDS,
    SCENARIOS,
    STRATEGIES,
    OperatingPoint,
    SweepSize,
)

MODEL_KEY = "devices.0.model"
RATE_KEY = "cells.0.uplink.rate_bps"
RADIO_KEY = "cells.0.radio"
BACKGROUND_KEY = "servers.0.background"

ENERGY_COLUMNS = {
    "energy_whole_board_j": ("energy_whole_board_per_inference_j",),
    "energy_above_idle_j": ("energy_above_idle_per_inference_j", "energy_per_inference_j"),
}
"""Per-run energy figures taken from the run's summary (sim.metrics; first column present)."""


def radio_model(radio: str) -> Any:
    """The power-state model of a radio condition (``wifi_awake``: WiFi without promotion/tail)."""
    from sim.channel.radio import RADIO_PRESETS

    if radio == "wifi_awake":
        return RADIO_PRESETS["wifi"].model_copy(
            update={
                "promotion_w": 0.0,
                "promotion_s": 0.0,
                "tail_w": 0.0,
                "tail_s": 0.0,
                "source": RADIO_PRESETS["wifi"].source
                + "; promotion and tail removed (radio kept awake by a back-to-back loop)",
            }
        )
    return RADIO_PRESETS[radio]


def radio_value(radio: str) -> Any:
    """The scenario value of ``cells.0.radio`` for a radio condition."""
    return radio_model(radio).model_dump(mode="json") if radio == "wifi_awake" else radio


def check_in_range(point: OperatingPoint) -> None:
    """Refuse an operating point above its radio power model's fitted uplink range."""
    top = getattr(radio_model(point.radio), "fitted_max_mbps", None)
    if top is not None and point.rate_bps > top * 1e6 * (1 + 1e-9):
        raise ValueError(
            f"operating point '{point.name}': {point.rate_bps / 1e6:g} Mbit/s is above the "
            f"{point.radio} power model's fitted range (<= {top:g} Mbit/s)"
        )


def background_value(load: float) -> list[dict[str, Any]]:
    """``servers.0.background`` giving utilisation ``load`` of the H100 at batch 1."""
    if load <= 0:
        return []
    from sim.plans import measured_service_model
    from sim.profiles.registry import ProfileLibrary

    path = SCENARIOS / "bottlefit_jetson_lte.yaml"
    server = ProfileLibrary(SCENARIOS).server("h100_eager_pytorch", file=path, key="servers.0")
    service = measured_service_model(server, BACKGROUND_PART)
    if service is None:
        raise ValueError(f"server profile {server.name} has no measured {BACKGROUND_PART}")
    return [{"part": BACKGROUND_PART, "rate_hz": load / service.service_s(1)}]


@dataclass(frozen=True)
class PlannedSweep:
    """One sweep of the reproduction: scenario file, base overrides and its spec."""

    name: str  # <board>_<family>_<kind>
    board: str
    family: str
    kind: str  # points | curves
    scenario: Path
    overrides: tuple[str, ...]
    spec: dict[str, Any]
    labels: dict[str, dict[str, Any]]  # param column -> {stored text: label}


def _text(value: Any) -> str:
    from sim.sweep.expand import format_value

    return format_value(value)


def plan(size: SweepSize) -> list[PlannedSweep]:
    """The sweeps of ``size`` (points and curves per board and radio family)."""
    import json

    sweeps = []
    for point in size.points:
        check_in_range(point)
    for board in size.boards:
        for family in ("wifi", "lte"):
            scenario = SCENARIOS / f"bottlefit_{board}_{family}.yaml"
            overrides = (
                f"compare={json.dumps(list(STRATEGIES))}",
                f"duration_s={size.duration_s!r}",
                f"warmup_s={size.warmup_s!r}",
            )
            points = [p for p in size.points if p.family == family]
            if points:
                zipped: dict[str, list[Any]] = {
                    RATE_KEY: [p.rate_bps for p in points],
                    BACKGROUND_KEY: [background_value(p.load) for p in points],
                    RADIO_KEY: [radio_value(p.radio) for p in points],
                }
                sweeps.append(
                    PlannedSweep(
                        f"{board}_{family}_points",
                        board,
                        family,
                        "points",
                        scenario,
                        overrides,
                        {
                            "grid": {MODEL_KEY: list(size.models)},
                            "zip": zipped,
                            "replications": size.replications,
                        },
                        {
                            "point": {
                                "|".join(_text(zipped[k][i]) for k in zipped): p.name
                                for i, p in enumerate(points)
                            }
                        },
                    )
                )
            radios = [r for r in size.curve_radios if (r == "lte") == (family == "lte")]
            if radios:
                sweeps.append(
                    PlannedSweep(
                        f"{board}_{family}_curves",
                        board,
                        family,
                        "curves",
                        scenario,
                        overrides,
                        {
                            "grid": {
                                MODEL_KEY: list(size.models),
                                RADIO_KEY: [radio_value(r) for r in radios],
                                RATE_KEY: list(size.curve_rates_bps),
                            },
                            "replications": 1,
                        },
                        {RADIO_KEY: {_text(radio_value(r)): r for r in radios}},
                    )
                )
    return sweeps


def run(
    size: SweepSize,
    store: Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run (or resume) every sweep of ``size`` under ``store``; name -> SweepResult."""
    import sim

    results = {}
    for planned in plan(size):
        results[planned.name] = sim.sweep(
            planned.scenario,
            planned.spec,
            overrides=list(planned.overrides),
            out=store / planned.name,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
        )
    return results


# ---------------------------------------------------------------- from stored runs to rows


def _label_columns(frame: pd.DataFrame, planned: PlannedSweep) -> pd.DataFrame:
    """Board, model, radio, rate, load and (for points) the operating point's name."""
    out = frame.copy()
    out["board"] = planned.board
    out["model"] = out[MODEL_KEY].astype(str)
    out["rate_bps"] = out[RATE_KEY].astype(float) if RATE_KEY in out else math.nan
    if planned.kind == "points":
        keys = [RATE_KEY, BACKGROUND_KEY, RADIO_KEY]
        text = out[keys].apply(lambda r: "|".join(_text(v) for v in r), axis=1)
        out["operating_point"] = text.map(planned.labels["point"])
        from reproductions.bottlefit.data import OPERATING_POINTS

        by_name = {p.name: p for p in OPERATING_POINTS}
        out["radio"] = out["operating_point"].map(lambda n: by_name[n].radio)
        out["load"] = out["operating_point"].map(lambda n: by_name[n].load)
    else:
        out["operating_point"] = ""
        out["radio"] = out[RADIO_KEY].astype(str).map(planned.labels[RADIO_KEY])
        out["load"] = 0.0
    return out


def _request_metrics(requests: pd.DataFrame, radio: Any, idle_w: float, compute_w: float) -> dict:
    """Latency, in-flight board power and saturation of one run and strategy's requests.

    Power while an inference is in flight [W]: the board's idle draw, plus compute above
    idle while the head (or the whole model) runs, plus the radio's promotion and transfer
    energy, over the request's latency. The radio tail after the transfer is not in flight
    (it is in the energy figures). Local computing therefore draws ``compute_w`` and any
    split at least ``idle_w``: the power reduction against local is at most
    1 - idle_w / compute_w.
    """
    from sim.metrics import finished

    done = finished(requests)
    latency = (done["t_done"] - done["t_arrival"]).to_numpy()
    busy = (done["t_head_end"] - done["t_head_start"]).fillna(0.0).clip(lower=0).to_numpy()
    sent = done["t_uplink_end"].notna().to_numpy()
    promo_s = (
        (done["t_tx_start"] - done["t_uplink_start"]).fillna(0.0).clip(0.0, radio.promotion_s)
    ).to_numpy()
    tx_s = (done["t_uplink_end"] - done["t_tx_start"]).fillna(0.0).clip(lower=0).to_numpy()
    bits = 8.0 * done["bytes_sent"].fillna(0.0).to_numpy()
    radio_j = np.array(
        [
            radio.promotion_w * p + radio.transfer_energy_j(d, b) if s else 0.0
            for s, p, d, b in zip(sent, promo_s, tx_s, bits, strict=True)
        ]
    )
    energy = idle_w * latency + (compute_w - idle_w) * busy + radio_j
    waits = (requests["t_head_start"] - requests["t_arrival"]).fillna(0.0).to_numpy()
    waits = np.maximum(
        waits, (requests["t_uplink_start"] - requests["t_head_end"]).fillna(0.0).to_numpy()
    )
    return {
        "requests": len(requests),
        "finished": len(done),
        "latency_s": float(latency.mean()) if latency.size else math.nan,
        "power_w": float((energy / latency).mean()) if latency.size else math.nan,
        "accuracy": float(done["accuracy"].mean()) if len(done) else math.nan,
        # At 1 fps a request that waits for the processor or the radio means the device
        # cannot keep up (e.g. a JPEG slower to send than a frame interval): its latency
        # grows with the run's length and is not a per-inference figure.
        "saturated": bool(len(done) < len(requests) or (waits > 1e-6).any()),
    }


def per_run(result: Any, planned: PlannedSweep, size: SweepSize) -> pd.DataFrame:
    """One row per run and strategy: labels, latency, power, energy on both bases, saturation."""
    from sim.metrics import in_window
    from sim.profiles.registry import ProfileLibrary

    device = ProfileLibrary(SCENARIOS).device(BOARDS[planned.board], file=None, key="device")
    idle_w, compute_w = device.power.idle_w.value, device.power.compute_w.value
    summary = _label_columns(result.summary, planned)
    requests = _label_columns(result.table("requests"), planned)
    rows = []
    for (run_id, strategy), part in requests.groupby(["run_id", "strategy"], sort=False):
        first = part.iloc[0]
        window = in_window(part, size.warmup_s, size.duration_s)
        row = {
            "board": planned.board,
            "device": BOARDS[planned.board],
            "model": first["model"],
            "operating_point": first["operating_point"],
            "radio": first["radio"],
            "rate_bps": float(first["rate_bps"]),
            "load": float(first["load"]),
            "replication": int(first["replication"]),
            "seed": int(first["seed"]),
            "strategy": "autoencoder" if strategy == AUTOENCODER else str(strategy),
            **_request_metrics(window, radio_model(first["radio"]), idle_w, compute_w),
        }
        match = summary[(summary["run_id"] == run_id) & (summary["strategy"] == strategy)]
        for name, candidates in ENERGY_COLUMNS.items():
            column = next((c for c in candidates if c in match.columns), None)
            row[name] = float(match[column].iloc[0]) if column and len(match) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def collect(results: dict[str, Any], size: SweepSize) -> pd.DataFrame:
    """Every run of the reproduction, one row per run and strategy (kind: points | curves)."""
    frames = []
    for planned in plan(size):
        frame = per_run(results[planned.name], planned, size)
        frame.insert(0, "kind", planned.kind)
        frames.append(frame)
    return pd.DataFrame() if not frames else pd.concat(frames, ignore_index=True)
