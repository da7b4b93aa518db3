"""The optimiser against brute force on a small discrete space, the static optimum, and resume."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import optuna
import pytest

import sim
import sim.analysis.optimize as optimize_module
from sim.analysis.optimize import optimize
from sim.rng import replication_seeds
from tests.policies.conftest import one_device

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

STRATEGIES = ["local", "offload", "bottlefit_c2", "bottlefit_c12"]
RATES = [0.2e6, 5.0e6]
RATE_KEY = "cells.ap.uplink.rate_bps"
REPLICATIONS = 2


def scenario(compare=None):
    """One Jetson Nano with ResNet-152 on a constant Wi-Fi link to an idle H100."""
    return one_device(
        device="jetson_nano",
        model="resnet152",
        uplink={"kind": "constant", "rate_bps": RATES[0]},
        radio="wifi",
        drain_s=2.0,
        compare=compare or STRATEGIES,
    )


def brute_force() -> dict[tuple[float, str], dict[str, float]]:
    """Every configuration run with plain sim.run and the study's seeds: mean metrics."""
    base = scenario()
    seeds = replication_seeds(base.spec.seed, REPLICATIONS)
    table = {}
    for rate, strategy in itertools.product(RATES, STRATEGIES):
        config = base.with_overrides([f"{RATE_KEY}={rate}", f"compare=[{strategy}]"])
        rows = [sim.run(config, seed=seed).summary.iloc[0] for seed in seeds]
        table[(rate, strategy)] = {
            m: float(np.mean([r[m] for r in rows])) for m in ("latency_mean_s", "accuracy")
        }
    return table


@pytest.fixture(scope="module")
def brute() -> dict[tuple[float, str], dict[str, float]]:
    return brute_force()


def _space() -> list[str]:
    return [f"{RATE_KEY}={','.join(f'{r:g}' for r in RATES)}", f"strategy={','.join(STRATEGIES)}"]


def test_best_is_the_brute_force_best_and_the_static_choice(tmp_path: Path, brute):
    result = optimize(
        scenario(),
        _space(),
        objectives=["latency_mean_s"],
        trials=16,
        replications=REPLICATIONS,
        out=tmp_path / "o",
        workers=0,
        progress=False,
    )
    trials = result.trials
    assert len(trials) == 16 and trials["trial"].is_unique
    # Every trial's value is what plain runs of its configuration give (same seeds).
    for _, row in trials.iterrows():
        expected = brute[(row[RATE_KEY], row["strategy"])]["latency_mean_s"]
        assert row["latency_mean_s"] == pytest.approx(expected, rel=1e-12)
    best_config = min(brute, key=lambda c: brute[c]["latency_mean_s"])
    best = result.best
    assert (best[RATE_KEY], best["strategy"]) == best_config
    # The static optimum (Neurosurgeon) over the same plans, at the best rate, agrees.
    static = {"kind": "static_optimum", "name": "static", "candidates": STRATEGIES}
    at_rate = scenario([static]).with_overrides([f"{RATE_KEY}={best_config[0]}"])
    assert at_rate.factory("dev", "static").plans[0].name == best_config[1]
    # The best configuration is a ready scenario that reproduces the best trial.
    loaded = sim.load(result.best_file)
    assert loaded.strategy_labels == [best_config[1]]
    assert loaded.spec.cells[0].uplink.rate_bps == best_config[0]
    rerun = sim.run(loaded, seed=replication_seeds(loaded.spec.seed, REPLICATIONS)[0])
    assert rerun.summary.iloc[0]["latency_mean_s"] == pytest.approx(
        brute[best_config]["latency_mean_s"], rel=1e-12
    )
    assert (tmp_path / "o" / "plots" / "pareto.png").stat().st_size > 1000


def test_constraint_picks_the_best_feasible(tmp_path: Path, brute):
    accuracies = {config: values["accuracy"] for config, values in brute.items()}
    floor = float(np.median(list(accuracies.values())))  # rules some plans out
    result = optimize(
        scenario(),
        _space(),
        objectives=["latency_mean_s"],
        constraints=[f"accuracy>={floor}"],
        trials=16,
        replications=REPLICATIONS,
        out=tmp_path / "c",
        workers=0,
        progress=False,
        plots=False,
    )
    feasible = [c for c in brute if accuracies[c] >= floor]
    assert len(feasible) < len(brute)
    expected = min(feasible, key=lambda c: brute[c]["latency_mean_s"])
    assert (result.best[RATE_KEY], result.best["strategy"]) == expected
    assert result.trials.loc[~result.trials["feasible"], "accuracy"].lt(floor).all()
    # Neurosurgeon with the same accuracy floor chooses the same plan at that rate.
    static = {
        "kind": "static_optimum",
        "name": "static",
        "candidates": STRATEGIES,
        "min_accuracy": floor,
    }
    at_rate = scenario([static]).with_overrides([f"{RATE_KEY}={expected[0]}"])
    assert at_rate.factory("dev", "static").plans[0].name == expected[1]


def test_two_objectives_give_the_brute_force_front(tmp_path: Path, brute):
    result = optimize(
        scenario(),
        _space(),
        objectives=["latency_mean_s", "max:accuracy"],
        trials=20,
        replications=REPLICATIONS,
        population=6,
        out=tmp_path / "p",
        workers=0,
        progress=False,
    )
    tried = {(r[RATE_KEY], r["strategy"]) for _, r in result.trials.iterrows()}

    def dominated(c, others):
        a = brute[c]
        return any(
            brute[o]["latency_mean_s"] <= a["latency_mean_s"]
            and brute[o]["accuracy"] >= a["accuracy"]
            and (
                brute[o]["latency_mean_s"] < a["latency_mean_s"]
                or brute[o]["accuracy"] > a["accuracy"]
            )
            for o in others
        )

    front = {c for c in tried if not dominated(c, tried)}
    found = {(r[RATE_KEY], r["strategy"]) for _, r in result.pareto.iterrows()}
    assert found == front
    assert (tmp_path / "p" / "plots" / "pareto.png").is_file()
    for row in result.pareto.itertuples():
        path = tmp_path / "p" / "pareto" / f"trial-{row.trial}.yaml"
        assert sim.load(path).strategy_labels == [row.strategy]


def test_interrupted_study_resumes_without_losing_or_repeating(tmp_path: Path, monkeypatch):
    calls = {"n": 0}
    real = optimize_module.run_points

    def interrupted_fourth(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # Ctrl-C in the middle of the fourth trial
        return real(*args, **kwargs)

    args = dict(
        objectives=["latency_mean_s"],
        trials=8,
        replications=REPLICATIONS,
        out=tmp_path / "r",
        workers=0,
        progress=False,
        plots=False,
    )
    monkeypatch.setattr(optimize_module, "run_points", interrupted_fourth)
    with pytest.raises(KeyboardInterrupt):
        optimize(scenario(), _space(), **args)
    storage = f"sqlite:///{tmp_path / 'r' / 'study.db'}"
    study = optuna.load_study(study_name="policy_test", storage=storage)
    states = [t.state for t in study.trials]
    assert states[:3] == [optuna.trial.TrialState.COMPLETE] * 3
    assert states[3] == optuna.trial.TrialState.FAIL
    first = {t.number: (t.params, t.values) for t in study.trials[:3]}
    interrupted = study.trials[3].params
    stored = {p: p.stat().st_mtime_ns for p in (tmp_path / "r" / "runs").rglob("_runs/*.json")}

    monkeypatch.setattr(optimize_module, "run_points", real)
    result = optimize(scenario(), _space(), **args)
    study = optuna.load_study(study_name="policy_test", storage=storage)
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(complete) == 8 == len(result.trials)  # none lost, none extra
    for number, (params, values) in first.items():  # kept as they were
        assert (study.trials[number].params, study.trials[number].values) == (params, values)
    retries = [t for t in complete if t.user_attrs.get("retry_of") == 3]
    assert len(retries) == 1 and retries[0].params == interrupted  # retried, same configuration
    for path, stamp in stored.items():  # no stored run was computed again
        assert path.stat().st_mtime_ns == stamp
    # Running the finished study again runs nothing and adds no trial.
    again = optimize(scenario(), _space(), **args)
    assert len(again.trials) == 8


def test_a_study_made_with_other_settings_is_refused(tmp_path: Path):
    from sim.errors import SimInputError

    args = dict(
        trials=2, replications=1, out=tmp_path / "s", workers=0, progress=False, plots=False
    )
    optimize(scenario(), _space(), objectives=["latency_mean_s"], **args)
    with pytest.raises(SimInputError, match="made with other objectives"):
        optimize(scenario(), _space(), objectives=["accuracy"], **args)
