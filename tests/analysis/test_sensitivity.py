"""Sensitivity indices against what is known: a parameter without effect, one that alone
drives the metric, and an M/M/1 queue whose indices follow from the closed form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.analysis.metrics import RecordMetric
from sim.analysis.params import Range
from sim.analysis.sensitivity import analyse, problem, sensitivity
from sim.scenario.load import build_scenario
from tests.conftest import PROFILES, REPO, toy_scenario, toy_spec

RATE = "cells.ap.uplink.rate_bps=2e5:2e6:log"  # the payload's transfer time: drives latency
NO_EFFECT = "devices.dev.accuracy.bottlefit_c2=0.5:0.9"  # expected top-1: no effect on timing
WEAK = "network.links.0.latency_s=0.001:0.002"  # 1 ms more wired latency


def _row(result, metric: str, param: str, index: str):
    rows = result.indices
    found = rows[(rows["metric"] == metric) & (rows["param"] == param) & (rows["index"] == index)]
    assert len(found) == 1
    return found.iloc[0]


def test_sobol_no_effect_and_dominant_parameter(tmp_path: Path):
    result = sensitivity(
        toy_scenario(),
        [RATE, WEAK, NO_EFFECT],
        method="sobol",
        samples=16,
        metrics="latency_mean_s,accuracy",
        out=tmp_path / "s",
        workers=0,
        progress=False,
        resamples=200,
    )
    rate, weak, none = (p.split("=")[0] for p in (RATE, WEAK, NO_EFFECT))
    # No effect on latency: the total index's interval contains 0.
    st = _row(result, "latency_mean_s", none, "ST")
    assert st["ci_low"] <= 0.0 <= st["ci_high"]
    # The uplink rate alone drives latency: the largest first-order and total index.
    assert result.ranking("latency_mean_s", "bottlefit_c2")[0] == rate
    assert _row(result, "latency_mean_s", rate, "S1")["value"] > max(
        _row(result, "latency_mean_s", p, "S1")["value"] for p in (weak, none)
    )
    assert _row(result, "latency_mean_s", rate, "ST")["value"] > max(
        _row(result, "latency_mean_s", p, "ST")["value"] for p in (weak, none)
    )
    # And the accuracy override alone drives accuracy; the timing parameters do not.
    assert result.ranking("accuracy", "bottlefit_c2")[0] == none
    for param in (rate, weak):
        st = _row(result, "accuracy", param, "ST")
        assert st["ci_low"] <= 0.0 <= st["ci_high"]
    # Outputs: tables and one plot per metric.
    for name in ("indices.parquet", "indices.csv", "points.parquet", "points.csv"):
        assert (tmp_path / "s" / name).is_file()
    assert (tmp_path / "s" / "plots" / "sobol_latency_mean_s.png").stat().st_size > 1000
    # N x (D + 2) design points, each one sweep run.
    assert result.points["point"].nunique() == 16 * (3 + 2)


def test_morris_ranks_the_same_way(tmp_path: Path):
    result = sensitivity(
        toy_scenario(),
        [RATE, WEAK, NO_EFFECT],
        method="morris",
        samples=6,
        metrics=["latency_mean_s"],
        out=tmp_path / "m",
        workers=0,
        progress=False,
        plots=False,
    )
    rate, _, none = (p.split("=")[0] for p in (RATE, WEAK, NO_EFFECT))
    assert result.ranking("latency_mean_s", "bottlefit_c2")[0] == rate
    assert _row(result, "latency_mean_s", none, "mu_star")["value"] == 0.0
    assert _row(result, "latency_mean_s", none, "sigma")["value"] == 0.0
    assert len(result.points) == 6 * (3 + 1)  # N trajectories of D + 1 points


def test_repeated_points_run_once(tmp_path: Path):
    from sim.analysis.evaluate import Execution, run_points

    key = "cells.ap.uplink.rate_bps"
    points = [{key: 1e6}, {key: 2e6}, {key: 1e6}]
    rows = run_points(
        toy_scenario(),
        points,
        metrics=["latency_mean_s"],
        out=tmp_path / "p",
        replications=2,
        execution=Execution(workers=0, progress=False),
    )
    assert list(rows["point"]) == [0, 0, 1, 1, 2, 2]
    assert rows["run_id"].nunique() == 4  # 2 distinct points x 2 seeds
    first, third = rows[rows["point"] == 0], rows[rows["point"] == 2]
    assert list(first["run_id"]) == list(third["run_id"])
    # Common random numbers: the same two seeds at every point.
    assert list(first["seed"]) == list(rows[rows["point"] == 1]["seed"])


def test_resume_runs_nothing_again(tmp_path: Path):
    args = dict(method="morris", samples=4, metrics="latency_mean_s", workers=0, progress=False)
    first = sensitivity(toy_scenario(), [RATE, WEAK], out=tmp_path / "r", plots=False, **args)
    stamps = {p: p.stat().st_mtime_ns for p in (tmp_path / "r" / "sweep").rglob("*.parquet")}
    again = sensitivity(toy_scenario(), [RATE, WEAK], out=tmp_path / "r", plots=False, **args)
    assert again.indices.equals(first.indices)
    for path, stamp in stamps.items():
        if "run_id=" in str(path):
            assert path.stat().st_mtime_ns == stamp, path  # stored runs were not redone


# --- M/M/1: Sobol' indices of the mean wait over (arrival rate, service rate) ----------

LAMBDA = (40.0, 50.0)  # background arrival rate [1/s]
MU = (70.0, 120.0)  # service rate [1/s] (the toy server's flat S(b) = 1/mu); rho <= 0.71
DURATION_S, WARMUP_S = 80.0, 10.0


def mm1_wait_s(lam: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Mean wait in queue of M/M/1: rho / (mu - lambda) (Kleinrock, Queueing Systems I, 3.23)."""
    return lam / (mu * (mu - lam))


def mm1_scenario():
    """The toy server alone with Poisson background jobs and exponential service (M/M/1);
    its one device computes locally, so only background jobs reach the server."""
    spec = toy_spec(compare=["local"], duration_s=DURATION_S, warmup_s=WARMUP_S, drain_s=2.0)
    spec["servers"][0]["service_variability"] = {"kind": "exponential"}
    spec["servers"][0]["background"] = [{"part": "toy/full", "rate_hz": 45.0}]
    spec["outputs"] = {"per_batch": False}
    return build_scenario(spec, REPO / "tests" / "mm1.yaml")


def _profile_for(folder: Path):
    text = (PROFILES / "toy_server.yaml").read_text()

    def encode(mu: float) -> str:
        path = folder / f"mu_{mu!r}.yaml"
        if not path.exists():
            service = f"{{1: {1.0 / mu!r}, 8: {1.0 / mu!r}}}"
            path.write_text(text.replace("{1: 0.010, 8: 0.010}", service))
        return str(path)

    return encode


def _mean_wait(background) -> float:
    window = background[
        (background["t_arrival"] >= WARMUP_S) & (background["t_arrival"] < DURATION_S)
    ]
    return float((window["t_service_start"] - window["t_arrival"]).mean())


def test_mm1_indices_match_the_closed_form(tmp_path: Path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    scenario = mm1_scenario()
    params = [
        Range("servers.srv.background.0.rate_hz", *LAMBDA),
        Range("servers.srv.profile", *MU, encode=_profile_for(profiles)),
    ]
    samples = 32
    result = sensitivity(
        scenario,
        params,
        method="sobol",
        samples=samples,
        metrics=[RecordMetric("wait_s", "background", _mean_wait)],
        out=tmp_path / "mm1",
        workers=0,
        progress=False,
        plots=False,
        resamples=300,
    )
    # The same design through the same SALib analysis, with the closed form as the model.
    from SALib.sample import sobol

    prob = problem(params)
    matrix = sobol.sample(prob, samples, calc_second_order=False, seed=scenario.spec.seed)
    exact = analyse(prob, "sobol", matrix, mm1_wait_s(matrix[:, 0], matrix[:, 1]), seed=0)
    # The simulated waits follow the closed form point by point (a sanity check of the runs).
    means = result.points.sort_values("point")
    theory = mm1_wait_s(matrix[:, 0], matrix[:, 1])
    assert np.corrcoef(means["wait_s"], theory)[0, 1] > 0.97
    # The closed form's indices on a design 128 times larger: the indices themselves.
    big = sobol.sample(prob, 4096, calc_second_order=False, seed=1)
    truth = analyse(prob, "sobol", big, mm1_wait_s(big[:, 0], big[:, 1]), seed=0)
    truth = truth.set_index(["param", "index"])["value"]
    for _, row in exact.iterrows():
        sim_row = _row(result, "wait_s", row["param"], row["index"])
        # Same design, same analysis: only the simulation noise in the 128 point means
        # separates the two estimates (observed: within 0.03).
        assert abs(sim_row["value"] - row["value"]) <= 0.05, (row.to_dict(), sim_row)
        # And the simulated index's interval holds the closed form's index.
        assert sim_row["ci_low"] <= truth[(row["param"], row["index"])] <= sim_row["ci_high"]
    # Service rate matters more than arrival rate on these ranges (closed form and simulation).
    assert result.ranking("wait_s", "local") == list(
        exact[exact["index"] == "ST"].sort_values("value", ascending=False)["param"]
    )


def test_constant_output_has_no_indices():
    prob = problem([Range("a", 0.0, 1.0), Range("b", 0.0, 1.0)])
    frame = analyse(prob, "sobol", np.zeros((8, 2)), np.ones(8), seed=0)
    assert frame["value"].isna().all()


@pytest.mark.parametrize("bad", ["a.b=1:1", "a.b=-1:1:log", "a.b=1:2:int"])
def test_bad_ranges_are_refused(bad: str, tmp_path: Path):
    from sim.errors import SimInputError

    with pytest.raises(SimInputError):
        sensitivity(toy_scenario(), [bad], out=tmp_path / "x", workers=0, progress=False)
    assert not (tmp_path / "x").exists()


def test_dask_gives_the_same_indices(tmp_path: Path):
    """The points run on a Dask LocalCluster give the indices computed in this process."""
    pytest.importorskip("distributed")
    args = dict(method="morris", samples=3, metrics="latency_mean_s", progress=False, plots=False)
    here = sensitivity(toy_scenario(), [RATE, WEAK], out=tmp_path / "here", workers=0, **args)
    dask = sensitivity(
        toy_scenario(), [RATE, WEAK], out=tmp_path / "dask", workers=1, local_cluster=True, **args
    )
    assert dask.indices.equals(here.indices)
