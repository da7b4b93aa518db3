"""Run identity: a stable hash of a resolved scenario and a seed.

Two runs with the same id produce the same records, so a sweep that finds a
run id already stored skips it. The hash covers everything that changes
results: the validated spec after overrides (without its seed, description and
sweep block, which do not), the contents of every profile used, the service
models derived from them, the samples of every trace, the strategies run, the
simulator version and results revision, and the seed. It is BLAKE2b of canonical JSON, so it is the
same in every process and on every machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from typing import Any

from sim.scenario.model import Scenario

RUN_ID_HEX = 16
"""Characters of a run id (64 bits of BLAKE2b)."""


def _digest(payload: Any, size: int = RUN_ID_HEX // 2) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=size).hexdigest()


def resolved_content(scenario: Scenario, strategies: Sequence[str] | None = None) -> dict[str, Any]:
    """Everything about ``scenario`` that can change a run's results, as plain data."""
    from sim.provenance import RESULTS_REVISION, version

    spec = scenario.spec.model_dump(
        mode="json", by_alias=True, exclude={"seed", "description", "sweep"}
    )
    traces: dict[str, str | None] = {}
    for cell, trace in sorted(scenario.traces.items()):
        if trace is None:
            traces[cell] = None
            continue
        digest = hashlib.blake2b(digest_size=16)
        digest.update(trace.durations_s.astype("<f8").tobytes())
        digest.update(trace.rates_bps.astype("<f8").tobytes())
        traces[cell] = digest.hexdigest()
    return {
        "simulator": version(),
        "results_revision": RESULTS_REVISION,
        "spec": spec,
        "strategies": list(strategies) if strategies is not None else scenario.strategy_labels,
        "models": {
            g.model.name: g.model.model_dump(mode="json", by_alias=True) for g in scenario.groups
        },
        "devices": {
            g.device.name: g.device.model_dump(mode="json", by_alias=True) for g in scenario.groups
        },
        "servers": {
            name: profile.model_dump(mode="json", by_alias=True)
            for name, profile in sorted(scenario.servers.items())
        },
        "service_models": [
            [server, part, dataclasses.asdict(model)]
            for (server, part), model in sorted(scenario.service_models.items())
        ],
        "traces": traces,
    }


def scenario_key(scenario: Scenario, strategies: Sequence[str] | None = None) -> str:
    """Hash of the resolved scenario without its seed [16 hex characters]."""
    return _digest(resolved_content(scenario, strategies))


def run_id(scenario_hash: str, seed: int) -> str:
    """The id of the run of the scenario with hash ``scenario_hash`` under ``seed``."""
    return _digest({"scenario": scenario_hash, "seed": int(seed)})
