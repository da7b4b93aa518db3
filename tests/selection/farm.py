"""N identical M/M/1 servers behind a selection policy, built as a real scenario and run
by the real engine (helpers for the validation tests in this folder).

Poisson arrivals (many devices, each Poisson), exponential service at batch 1 and
one worker per server, a network of negligible delay: every server is an M/M/1
queue whose arrivals the selection policy decides. Time is measured in mean
service times (S(1) of the server profile).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

import sim
from sim.engine import Run
from sim.scenario.load import build_scenario

SHIPPED = Path(sim.__file__).parent / "profiles" / "data" / "servers"
DEVICES_PER_SERVER = 4  # each device Poisson at lambda S^-1 / 4: the superposition is Poisson


def instant_profile(folder: Path) -> str:
    """The shipped H100 profile with JPEG decoding at 0 s, written to ``folder`` (its path).

    The engine chooses a server when the payload leaves the device, and the
    server counts a job only once it arrives; any delay in between is load the
    dispatcher cannot see. Mitzenmacher's model has none, so neither may the farm.
    """
    text = (SHIPPED / "h100_eager_pytorch.yaml").read_text()
    text = re.sub(r"jpeg_decode_s: \{value: 0\.001,", "jpeg_decode_s: {value: 0.0,", text)
    assert "jpeg_decode_s: {value: 0.0," in text
    path = folder / "h100_instant_decode.yaml"
    path.write_text(text.replace("name: h100_eager_pytorch", "name: h100_instant_decode", 1))
    return str(path)


def farm_data(
    servers: int,
    load: float,
    policy: str,
    *,
    service_s: float,
    duration_units: float,
    seed: int,
    d: int | None = None,
    report_units: float = 0.0,
    profile: str = "h100_eager_pytorch",
) -> dict:
    """Scenario data: ``servers`` M/M/1 servers at utilisation ``load``, ``duration_units``
    mean service times long (10 % warm-up), policy ``policy`` (d, report interval in units)."""
    selection: dict = {"policy": policy}
    if d is not None:
        selection["d"] = d
    if report_units > 0:
        selection["report_interval_s"] = report_units * service_s
    devices = servers * DEVICES_PER_SERVER
    rate_hz = load / service_s * servers / devices
    duration = duration_units * service_s
    return {
        "name": "mm1_farm",
        "seed": seed,
        "duration_s": duration,
        "warmup_s": 0.1 * duration,
        "drain_s": 0.0,
        "compare": ["offload"],
        "devices": [
            {
                "name": "cams",
                "count": devices,
                "device": "jetson_nano",
                "model": "resnet152",
                "workload": {"kind": "poisson", "rate_hz": rate_hz},
                "deadline_s": 1000.0,
                "cell": "ap",
                "selection": selection,
            }
        ],
        "cells": [
            {
                "name": "ap",
                "node": "ap",
                "radio": "none",
                "sharing": "dedicated",
                "uplink": {"kind": "constant", "rate_bps": 1.0e15},
                "downlink_bps": 1.0e15,
                "propagation_s": 0.0,
            }
        ],
        "network": {
            "links": [
                {"a": "ap", "b": f"n{i}", "latency_s": 0.0, "capacity_bps": 1.0e18}
                for i in range(servers)
            ]
        },
        "servers": [
            {
                "name": f"s{i}",
                "node": f"n{i}",
                "profile": profile,
                "service_variability": {"kind": "exponential"},
            }
            for i in range(servers)
        ],
        "outputs": {"per_batch": False, "plots": False},
    }


def service_s() -> float:
    """S(1) of resnet152/full on the shipped H100 profile [s] (the time unit)."""
    data = farm_data(1, 0.5, "random", service_s=0.01, duration_units=10.0, seed=0)
    scenario = build_scenario(data, None)
    return scenario.service_models[("s0", "resnet152/full")].service_s(1)


def run_farm(data: dict, sample_units: float = 1.0) -> dict:
    """Run the farm; mean sojourn [units] of requests arriving after warm-up, and the
    time-sampled fraction of servers with at least i jobs, i = 1..8 (sampled every
    ``sample_units`` after warm-up: PASTA-free, plain time sampling)."""
    scenario = build_scenario(data, None)
    unit = scenario.service_models[("s0", "resnet152/full")].service_s(1)
    run = Run(scenario, "offload")
    servers = sorted(run.servers.values(), key=lambda s: s.index)
    counts: list[list[int]] = []
    warmup = scenario.spec.warmup_s
    step = sample_units * unit

    def sampler(env):
        yield env.timeout(warmup)
        while True:
            counts.append([s.jobs for s in servers])
            yield env.timeout(step)

    run.env.process(sampler(run.env))
    result = run.run()
    req = result.requests
    req = req[(req["t_arrival"] >= warmup) & req["t_service_end"].notna()]
    sojourn = (req["t_service_end"] - req["t_server_arrival"]).to_numpy() / unit
    jobs = np.asarray(counts)
    s_i = np.array([(jobs >= i).mean() for i in range(1, 9)])
    return {
        "T": float(sojourn.mean()),
        "s": s_i,
        "n": int(sojourn.size),
        "servers_used": set(req["server"].astype(str)),
        "unit_s": unit,
    }
