"""Per-request exit draws: one uniform and one sequence number per request, by device.

Device ``k`` of group ``g`` draws its requests' uniforms from the named stream
``exits/<g>/<k>`` (:mod:`sim.rng`), the i-th uniform for its i-th request. The
stream's name does not mention the strategy and the arrivals are common to all
strategies, so every strategy of a scenario sees the same draw for the same
request (common random numbers): a sample that is "easy" under one threshold
or split is easy under all.
"""

from __future__ import annotations

import numpy as np


def exit_draws(run, counts: list[int], order: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(uniform [0, 1), device sequence number) per request row, or None if no plan has exits.

    ``counts``: arrivals per device (device order); ``order``: the permutation that sorted
    the concatenated arrivals into rows.
    """
    scenario = run.scenario
    wanted = set()
    for group in scenario.groups:
        plans = scenario.factory(group.spec.name, run.strategy).plans
        if any(getattr(p, "exits", None) is not None for p in plans):
            wanted.add(group.index)
    if not wanted:
        return None
    uniforms, sequence = [], []
    for device, count in zip(run.devices, counts, strict=True):
        if device.group in wanted:
            name = scenario.groups[device.group].spec.name
            uniforms.append(run.streams(f"exits/{name}/{device.index_in_group}").random(count))
        else:
            uniforms.append(np.zeros(count))
        sequence.append(np.arange(count, dtype=np.int64))
    u = np.concatenate(uniforms) if uniforms else np.zeros(0)
    seq = np.concatenate(sequence) if sequence else np.zeros(0, dtype=np.int64)
    return u[order], seq[order]


def decide_exit(run, row: int, plan, group) -> tuple[float, bool]:
    """Where request ``row`` of a progressive plan leaves (:mod:`sim.exits.plan`): records its
    exit and accuracy, notes the share of the server tail it needs; (device compute [s],
    answered on the device)."""
    u, seq = run._exit_draws
    decision = plan.exits.decide(float(u[row]), int(seq[row]), group.model.accuracy_top1.value)
    cols = run.requests.columns
    cols["exit"][row] = decision.index
    cols["exit_accuracy"][row] = decision.accuracy
    if not decision.on_device:
        run._exit_work[row] = decision.work_fraction
    return decision.device_s, decision.on_device
