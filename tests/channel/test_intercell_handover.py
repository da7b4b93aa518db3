"""Inter-cell handover: A3 timing by hand, resume of a transfer in flight, per-cell sharing.

Geometry of the hand calculations: two UMa stations 25 m high at x = 0 (a) and x = 400 m
(b), a handset (1.5 m) driving along y = 0 in +x at 10 m/s, LOS forced, no shadowing, no
fading. Both links stay below the LOS breakpoint d'_BP = 4 (25 - 1)(1.5 - 1) fc / c
= 320 m, where TR 38.901 Table 7.4.1-1 gives PL = 28 + 22 log10(d3D) + 20 log10(fc):
serving a minus neighbour b is 22 log10(d3D_a / d3D_b), so A3 (threshold
Hys + Off) enters past the x where d3D_a^2 = r d3D_b^2, r = 10^(2 (Hys + Off) / 22),
a quadratic solved below. Truncated Shannon (TR 36.942: min(2.0, 0.4 log2(1 + SNR))
bit/s/Hz x 10 MHz, no overhead): SNR is above 30 dB on the whole route (23 dBm, PL < 88
dB, noise -174 + 70 + 5 dBm), so every link carries exactly 2.0 x 10 MHz = 20 Mbit/s
except during a handover interruption: "constant capacity" conditions.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy
from pydantic import ValidationError

from sim.channel.capacity import PiecewiseCapacity
from sim.channel.config import CellConfig, build_capacity
from sim.channel.intercell import build_cells, cell_names, station_nodes
from sim.channel.link import DeviceUplink, RadioMeter, TransferResult, Window
from sim.channel.physical import PhysicalSource
from sim.channel.physical_config import PhysicalUplink
from sim.channel.radio import RADIO_PRESETS

STEP_S = 0.01
SPEED_MPS = 10.0
RATE_BPS = 2.0 * 10e6  # truncated Shannon's cap x bandwidth (see module doc)
DH_M = 25.0 - 1.5  # station minus handset height [m]
STATION_B_X_M = 400.0


def _uplink(x0: float, *, moving: bool = True, **handover) -> dict:
    return {
        "kind": "physical",
        "scenario": "uma",
        "base_stations": [
            {"name": "a", "height_m": 25.0},
            {"name": "b", "x_m": STATION_B_X_M, "height_m": 25.0, "node": "site_b"},
        ],
        "stations_as_cells": True,
        "position_m": [x0, 0.0],
        "mobility": (
            {"kind": "straight_line", "speed_mps": SPEED_MPS, "heading_deg": 0.0}
            if moving
            else {"kind": "static"}
        ),
        "los": "los",
        "shadowing": False,
        "fading": {"kind": "none"},
        "link": {"mapping": "truncated_shannon", "bandwidth_hz": 10e6},
        "handover": handover,
        "step_s": STEP_S,
        "chunk_s": 1.0,
    }


def _cell(sharing: str = "shared", **uplink) -> CellConfig:
    return CellConfig(
        name="c", node="site_a", radio="none", sharing=sharing, uplink=_uplink(**uplink)
    )


def _a3_entry_x(threshold_db: float) -> float:
    """x [m] where 22 log10(d3D_a / d3D_b) = threshold: (1 - r) x^2 + 2 r L x - r (L^2 + h^2)
    + h^2 = 0 with L the station spacing, r = 10^(threshold / 11)."""
    r = 10.0 ** (threshold_db / 11.0)
    a, b, c = 1.0 - r, 2.0 * r * STATION_B_X_M, -r * (STATION_B_X_M**2 + DH_M**2) + DH_M**2
    if a == 0.0:
        return -c / b
    roots = [(-b + s * math.sqrt(b * b - 4 * a * c)) / (2 * a) for s in (1.0, -1.0)]
    (x,) = [x for x in roots if 0.0 < x < STATION_B_X_M]
    return x


def _hand_handover_step(x0: float, threshold_db: float, ttt_steps: int) -> int:
    """First step whose position is past the A3 entry point, plus the time-to-trigger."""
    x_star = _a3_entry_x(threshold_db)
    metres = SPEED_MPS * STEP_S
    entry = math.floor((x_star - x0) / metres) + 1
    # Away from a tie: the simulator's float position cannot land on the other side.
    assert (
        abs(x0 + entry * metres - x_star) > 1e-6 and abs(x0 + (entry - 1) * metres - x_star) > 1e-6
    )
    return entry + ttt_steps


def _source(cell: CellConfig, seed: int = 0) -> PhysicalSource:
    capacity = build_capacity(cell.uplink, None, np.random.default_rng(seed), horizon_s=60.0)
    assert isinstance(capacity, PiecewiseCapacity) and isinstance(capacity.source, PhysicalSource)
    return capacity.source


# Start positions 100-141 m, entry steps 370 apart, each a fraction of a step off the grid.
STARTS_M = [100.0 + 3.7 * i + 0.013 for i in range(12)]


@pytest.mark.parametrize(
    ("ttt_s", "ttt_steps", "hys_db", "offset_db"),
    [(0.16, 16, 3.0, 0.0), (0.256, 26, 3.0, 0.0), (0.0, 0, 3.0, 0.0), (0.16, 16, 2.0, 1.5)],
)
def test_handover_time_by_hand(ttt_s, ttt_steps, hys_db, offset_db):
    for x0 in STARTS_M:
        cell = _cell(
            x0=x0,
            time_to_trigger_s=ttt_s,
            hysteresis_db=hys_db,
            a3_offset_db=offset_db,
        )
        source = _source(cell)
        capacity = PiecewiseCapacity(source)
        capacity.bits_until(25.0)
        k_h = _hand_handover_step(x0, hys_db + offset_db, ttt_steps)
        assert source.handover_times_s == [pytest.approx(k_h * STEP_S, abs=1e-9)], x0
        # 50 ms interruption = 5 whole steps at rate 0, full rate on either side (1 us probes).
        t_h = k_h * STEP_S
        assert capacity.rate_at(t_h - 1e-6) == RATE_BPS
        assert capacity.rate_at(t_h + 1e-6) == 0.0
        assert capacity.rate_at(t_h + 0.05 - 1e-6) == 0.0
        assert capacity.rate_at(t_h + 0.05 + 1e-6) == RATE_BPS
        assert source.serving_over(0.0, 25.0) == [(0.0, 0), (pytest.approx(t_h), 1)]


def test_time_to_trigger_counts_steps_not_float_differences():
    """The start positions above include entry steps where the float difference of the step
    times falls short of 0.16 s, so the old float comparison fired one step (10 ms) late."""
    short = []
    for x0 in STARTS_M:
        entry = _hand_handover_step(x0, 3.0, 0)
        short.append((entry + 16) * STEP_S - entry * STEP_S < 0.16)
    assert any(short) and not all(short)  # both kinds are exercised by the test above


def test_ttt_step_count_rounds_up_with_a_tolerance():
    from sim.channel.handover import whole_steps

    assert whole_steps(0.16, 0.01) == 16
    assert whole_steps(0.165, 0.01) == 17
    assert whole_steps(0.256, 0.01) == 26
    assert whole_steps(0.05, 0.01) == 5
    assert whole_steps(0.0, 0.01) == 0
    assert whole_steps(5.12, 0.001) == 5120


def _device(env, key, cell, cells, x0, *, moving=True, seed=0, **kw) -> DeviceUplink:
    config = _cell(sharing=cell.sharing, x0=x0, moving=moving, **kw)
    capacity = build_capacity(config.uplink, None, np.random.default_rng(seed), horizon_s=60.0)
    radio = RadioMeter(RADIO_PRESETS["none"], Window(0.0, 100.0), lambda row, j: None)
    return DeviceUplink(
        env, key, capacity, radio, cell=build_cells(env, cell, cells), cell_names=cell_names(cell)
    )


def _send(env, uplink, at_s, bits, results, name):
    def go(_e):
        uplink.send(0, bits, lambda r: results.__setitem__(name, r))

    env.timeout(at_s).callbacks.append(go)


def _one_transfer(env, uplink, sharing, at_s, bits) -> TransferResult:
    """One transfer from ``at_s``: through the cell's events (shared) or by arithmetic."""
    if sharing != "shared":
        return uplink.dedicated(0, at_s, bits)
    results: dict[str, TransferResult] = {}
    _send(env, uplink, at_s, bits, results, "m")
    env.run(until=30.0)
    return results["m"]


@pytest.mark.parametrize("x0", STARTS_M[:4])
@pytest.mark.parametrize("sharing", ["shared", "dedicated"])
def test_transfer_in_flight_resumes_in_the_new_cell(x0, sharing):
    """6 Mbit starting 100 ms before the handover: 2 Mbit sent in a, nothing for 50 ms, the
    other 4 Mbit in b: end = t_h + 0.05 + 4e6 / 20e6, all 6 Mbit delivered."""
    t_h = _hand_handover_step(x0, 3.0, 16) * STEP_S
    env = simpy.Environment()
    cell = _cell(sharing=sharing, x0=x0)
    cells: dict = {}
    uplink = _device(env, 1, cell, cells, x0)
    result = _one_transfer(env, uplink, sharing, t_h - 0.1, 6e6)
    assert result.ok and result.bits_sent == 6e6
    assert result.end_s == pytest.approx(t_h + 0.05 + 0.2, abs=1e-6)
    assert result.cell == "c/b"
    if sharing == "shared":
        assert set(cells) == {"c/a", "c/b"}
        assert cells["c/a"].active == {} and cells["c/b"].active == {}


def test_transfer_that_ends_before_the_handover_stays_in_its_cell():
    x0 = STARTS_M[0]
    t_h = _hand_handover_step(x0, 3.0, 16) * STEP_S
    env = simpy.Environment()
    cell = _cell(x0=x0)
    uplink = _device(env, 1, cell, {}, x0)
    results: dict[str, TransferResult] = {}
    _send(env, uplink, t_h - 0.1, 1e6, results, "m")  # 50 ms at 20 Mbit/s
    env.run(until=30.0)
    assert results["m"].end_s == pytest.approx(t_h - 0.05, abs=1e-9)
    assert results["m"].cell == "c/a" and results["m"].bits_sent == 1e6


def test_per_cell_air_time_by_hand():
    """A mover and a static device S_a share cell a (half the air time each), then the mover
    is in no cell for 50 ms (S_a alone), then it shares cell b with a static S_b, which had
    cell b to itself until then. All rates 20 Mbit/s; hand calculation of the three ends."""
    x0 = STARTS_M[1]
    t_h = _hand_handover_step(x0, 3.0, 16) * STEP_S
    t0 = t_h - 0.2
    env = simpy.Environment()
    cell = _cell(x0=x0)
    cells: dict = {}
    mover = _device(env, 1, cell, cells, x0)
    s_a = _device(env, 2, cell, cells, 60.0, moving=False)
    s_b = _device(env, 3, cell, cells, 340.0, moving=False)
    results: dict[str, TransferResult] = {}
    bits_m, bits_a, bits_b = 4e6, 6e6, 10e6
    for uplink, bits, name in ((mover, bits_m, "m"), (s_a, bits_a, "a"), (s_b, bits_b, "b")):
        _send(env, uplink, t0, bits, results, name)
    env.run(until=30.0)
    half = RATE_BPS / 2
    join = t_h + 0.05
    left_m = bits_m - half * (t_h - t0)  # 2 Mbit left at the handover
    end_m = join + left_m / half
    end_a = t_h + (bits_a - half * (t_h - t0)) / RATE_BPS
    sent_b_alone = RATE_BPS * (join - t0)
    end_b = end_m + (bits_b - sent_b_alone - half * (end_m - join)) / RATE_BPS
    assert end_a < end_m < end_b  # the regime the formulas assume
    assert results["m"].end_s == pytest.approx(end_m, abs=1e-6)
    assert results["a"].end_s == pytest.approx(end_a, abs=1e-6)
    assert results["b"].end_s == pytest.approx(end_b, abs=1e-6)
    assert [results[n].cell for n in "mab"] == ["c/b", "c/a", "c/b"]
    assert all(
        results[n].bits_sent == b for n, b in zip("mab", (bits_m, bits_a, bits_b), strict=True)
    )


@pytest.mark.parametrize("n", [1, 2, 3])
def test_same_cell_stretches_n_fold_other_cell_does_not(n):
    """n static devices in cell a and one in cell b send 2 Mbit at once: those in a take n
    times 0.1 s, the one in b 0.1 s."""
    env = simpy.Environment()
    cell = _cell(x0=60.0, moving=False)
    cells: dict = {}
    results: dict[str, TransferResult] = {}
    for i in range(n):
        _send(env, _device(env, i, cell, cells, 60.0 + i, moving=False), 1.0, 2e6, results, f"a{i}")
    _send(env, _device(env, 99, cell, cells, 340.0, moving=False), 1.0, 2e6, results, "b")
    env.run(until=10.0)
    for i in range(n):
        assert results[f"a{i}"].end_s == pytest.approx(1.0 + 0.1 * n, abs=1e-9)
        assert results[f"a{i}"].cell == "c/a"
    assert results["b"].end_s == pytest.approx(1.1, abs=1e-9) and results["b"].cell == "c/b"


def _oracle_end(config: PhysicalUplink, seed: int, t0: float, bits: float) -> float:
    """End of a transfer alone in its cells, from an independent replay of the device's
    steps (same seed): the first time the summed step rates reach ``bits`` (a transfer in no
    cell during an interruption sends nothing, as the steps' rate 0 there says)."""
    source = PhysicalSource(config, np.random.default_rng(seed))
    times, rates = source.chunk_rates(round(60.0 / config.step_s))
    k0 = math.floor(t0 / config.step_s + 1e-9)
    first = (times[k0] + config.step_s - t0) * rates[k0]
    if first >= bits:
        return t0 + bits / rates[k0]
    cum = first + np.cumsum(rates[k0 + 1 :] * config.step_s)
    j = int(np.searchsorted(cum, bits))
    before = first if j == 0 else cum[j - 1]
    return float(times[k0 + 1 + j] + (bits - before) / rates[k0 + 1 + j])


@pytest.mark.parametrize("seed", range(6))
def test_fading_route_with_handovers_against_an_independent_replay(seed):
    """Fading, shadowing and probabilistic LOS on; random start between the stations; a long
    transfer spanning one or more handovers: bits conserved, end equals the replay's."""
    rng = np.random.default_rng(100 + seed)
    x0 = float(rng.uniform(100.0, 150.0))
    uplink = _uplink(x0) | {
        "los": "probabilistic",
        "shadowing": True,
        "fading": {"kind": "sum_of_sinusoids"},
        "link": {"mapping": "lte_cqi", "bandwidth_hz": 10e6},
    }
    cell = CellConfig(name="c", node="site_a", radio="none", sharing="shared", uplink=uplink)
    env = simpy.Environment()
    cells: dict = {}
    capacity = build_capacity(cell.uplink, None, np.random.default_rng(seed), horizon_s=60.0)
    radio = RadioMeter(RADIO_PRESETS["none"], Window(0.0, 100.0), lambda row, j: None)
    device = DeviceUplink(
        env, 1, capacity, radio, cell=build_cells(env, cell, cells), cell_names=cell_names(cell)
    )
    results: dict[str, TransferResult] = {}
    bits = 300e6  # 10-20 s, 100-200 m: crosses the border region
    _send(env, device, 1.0, bits, results, "m")
    env.run(until=60.0)
    result = results["m"]
    source = capacity.source
    assert isinstance(source, PhysicalSource)
    assert result.ok and result.bits_sent == bits
    assert len([t for t in source.handover_times_s if 1.0 < t < result.end_s]) >= 1
    assert isinstance(cell.uplink, PhysicalUplink)
    assert result.end_s == pytest.approx(_oracle_end(cell.uplink, seed, 1.0, bits), abs=1e-6)
    assert result.cell == cell_names(cell)[source.handover.station_before(result.end_s)]


def test_neighbour_load_noise_rise_by_hand():
    """eta lowers the SINR by 10 log10(1 / (1 - eta)): with Shannon (B log2(1 + SNR) x 0.75)
    the rate at eta follows from the rate at 0 by hand; several static positions."""
    for eta in (0.25, 0.5, 0.8):
        for x0 in (200.0, 900.0, 2500.0):
            rates = []
            for load in (0.0, eta):
                config = _uplink(x0, moving=False) | {
                    "base_stations": [{"name": "a", "height_m": 25.0}],
                    "link": {"mapping": "shannon", "bandwidth_hz": 10e6, "neighbour_load": load},
                }
                cell = CellConfig(name="c", node="n", radio="none", uplink=config)
                _, step_rates = _source(cell).chunk_rates(1)
                rates.append(float(step_rates[0]))
            keep = 10e6 * 0.75
            snr0 = 2.0 ** (rates[0] / keep) - 1.0
            assert rates[1] == pytest.approx(keep * math.log2(1.0 + snr0 * (1.0 - eta)), rel=1e-9)


@pytest.mark.parametrize("eta", [-0.1, 1.0, 1.5])
def test_neighbour_load_out_of_range_is_refused(eta):
    with pytest.raises(ValidationError, match="neighbour_load"):
        PhysicalUplink(kind="physical", link={"neighbour_load": eta})


def test_station_node_needs_stations_as_cells():
    with pytest.raises(ValidationError, match="set stations_as_cells: true or remove node"):
        PhysicalUplink(kind="physical", base_stations=[{"name": "a", "node": "x"}])


def test_cell_names_and_nodes():
    cell = _cell(x0=0.0)
    assert cell_names(cell) == ("c/a", "c/b")
    assert station_nodes(cell) == {"c/a": "site_a", "c/b": "site_b"}
    one = CellConfig(name="c", node="n", uplink={"kind": "constant", "rate_bps": 1e6})
    assert cell_names(one) == ("c",) and station_nodes(one) == {"c": "n"}


def test_handover_counts_over_a_window_with_skips():
    """Handovers counted over windows of a capacity that skipped parts of them (a skip
    replays the serving station): as a source that generated every step, and by hand."""
    t_h = _hand_handover_step(100.0, 3.0, 16) * STEP_S
    windows = [(0.0, 10.0), (0.0, t_h), (0.0, t_h + 0.001), (t_h + 0.001, 40.0), (5.0, 40.0)]
    counts = []
    for skip in (None, 1.0):
        config = _cell(x0=100.0).uplink
        capacity = build_capacity(
            config, None, np.random.default_rng(0), horizon_s=60.0, skip_after_s=skip
        )
        radio = RadioMeter(RADIO_PRESETS["none"], Window(0.0, 100.0), lambda row, j: None)
        uplink = DeviceUplink(simpy.Environment(), 0, capacity, radio)
        counts.append([uplink.handovers_between(a, b) for a, b in windows])
    assert counts[0] == counts[1] == [0, 0, 1, 0, 1]


def _a3_oracle(loss: np.ndarray, threshold_db: float, ttt_steps: int) -> list[int]:
    """Handover steps of A3 with time-to-trigger, one step at a time (plain loop)."""
    serving, candidate, since, steps = int(np.argmin(loss[:, 0])), -1, 0, []
    for k in range(loss.shape[1]):
        others = loss[:, k].copy()
        others[serving] = np.inf
        best = int(np.argmin(others))
        if loss[serving, k] - others[best] > threshold_db:
            if candidate != best:
                candidate, since = best, k
            if k - since >= ttt_steps:
                serving, candidate = best, -1
                steps.append(k)
        else:
            candidate = -1
    return steps


@pytest.mark.parametrize("seed", range(5))
def test_a3_on_a_random_route_matches_a_step_by_step_oracle(seed):
    """Random waypoint among three stations with shadowing (losses that cross back and
    forth): the handover steps equal a plain-loop A3 oracle's on the same losses."""
    config = PhysicalUplink(
        kind="physical",
        base_stations=[
            {"name": "a"},
            {"name": "b", "x_m": 300.0},
            {"name": "c", "x_m": 150.0, "y_m": 260.0},
        ],
        stations_as_cells=True,
        mobility={
            "kind": "random_waypoint",
            "area_m": {"x_m": [0.0, 300.0], "y_m": [0.0, 260.0]},
            "speed_mps": [5.0, 15.0],
        },
        position_m=(150.0, 100.0),
        fading={"kind": "none"},
        handover={"hysteresis_db": 1.0, "time_to_trigger_s": 0.1, "a3_offset_db": 0.5},
        step_s=STEP_S,
        chunk_s=0.37,  # chunk edges inside running timers
    )
    source = PhysicalSource(config, np.random.default_rng(seed))
    PiecewiseCapacity(source).bits_until(120.0)
    replay = PhysicalSource(config, np.random.default_rng(seed))
    times = np.arange(round(120.0 / STEP_S)) * STEP_S
    expected = _a3_oracle(replay._large_scale(times)[0], 1.5, 10)
    got = [round(t / STEP_S) for t in source.handover_times_s if t < times[-1]]
    assert len(expected) >= 3
    assert got == expected


def _toy_physical(tmp_workload: dict, **uplink_changes) -> dict:
    from tests.conftest import toy_spec

    uplink = _uplink(100.0) | uplink_changes
    spec = toy_spec(
        duration_s=30.0,
        cells__0__uplink=uplink,
        cells__0__sharing="shared",
        devices__0__workload=tmp_workload,
        devices__0__count=2,
    )
    # Each station's own node reaches the edge server (the cell's node 'ap' already does).
    spec["network"]["links"] += [
        {"a": site, "b": "edge", "latency_s": 0.002, "capacity_bps": 1.0e9}
        for site in ("site_a", "site_b")
    ]
    return spec


def test_engine_counts_handovers_per_device_and_delivers_every_payload():
    """Two devices driving from x = 100 m past the border (hand: one handover each at the
    same step, inside the 30 s window); every completed request sent its whole payload."""
    import sim

    spec = _toy_physical({"kind": "periodic", "fps": 5.0})
    scenario = sim.loads(__import__("json").dumps(spec))
    results = sim.run(scenario)
    run = next(iter(results.runs.values()))
    assert run.devices["handovers"].tolist() == [1, 1]
    requests = run.requests
    done = requests[requests["outcome"].isin(["completed", "completed_late"])]
    assert len(done) > 100
    plan_bytes = requests["bytes_sent"].dropna()
    assert (plan_bytes > 0).all()
    # Both station cells carried uploads: before the border 'ap/a', after it 'ap/b'.
    assert set(done["cell"].astype(str)) == {"ap/a", "ap/b"}


def test_station_node_without_stations_as_cells_is_one_clear_error():
    import json

    import sim
    from sim.errors import SimInputError

    spec = _toy_physical({"kind": "periodic", "fps": 5.0}, stations_as_cells=False)
    with pytest.raises(SimInputError) as info:
        sim.loads(json.dumps(spec))
    message = str(info.value)
    assert "cells.0.uplink" in message and "stations_as_cells" in message


@pytest.mark.parametrize("scheduler", ["round_robin", "proportional_fair"])
@pytest.mark.parametrize("seed", range(3))
def test_withdraw_is_finishing_at_that_moment_for_the_others(scheduler, seed):
    """SharedCell.withdraw: the others in the cell end exactly as if the withdrawn transfer
    had been sized to finish at that moment (two fading static devices, so PF schedules
    per slot, plus one constant link)."""
    from sim.channel.capacity import ConstantCapacity
    from sim.channel.shared import SharedCell

    def fading_capacity(k: int) -> PiecewiseCapacity:
        config = PhysicalUplink.model_validate(
            _uplink(60.0 + 40.0 * k, moving=False)
            | {"fading": {"kind": "sum_of_sinusoids"}, "stations_as_cells": False}
            | {"base_stations": [{"name": "a", "height_m": 25.0}]}
            | {"link": {"mapping": "lte_cqi", "bandwidth_hz": 10e6}}
        )
        return PiecewiseCapacity(PhysicalSource(config, np.random.default_rng(10 * seed + k)))

    def run(c_bits: float, withdraw_at: float | None) -> tuple[dict[str, float], float]:
        env = simpy.Environment()
        cell = SharedCell(env, "x", scheduler)
        ends: dict[str, float] = {}
        left = [0.0]
        for key, (name, capacity, bits) in enumerate(
            [
                ("a", fading_capacity(0), 20e6),
                ("b", fading_capacity(1), 15e6),
                ("c", ConstantCapacity(5e6), c_bits),
            ]
        ):
            cell.start(key, capacity, bits, math.inf, lambda t, ok, s, n=name: ends.update({n: t}))
        if withdraw_at is not None:
            env.timeout(withdraw_at).callbacks.append(
                lambda _e: left.__setitem__(0, cell.withdraw(2))
            )
        env.run(until=100.0)
        return ends, left[0]

    ends_w, left = run(1e9, 0.4)
    assert "c" not in ends_w and 0 < left < 1e9
    ends_f, _ = run(1e9 - left, None)
    assert ends_f["c"] == pytest.approx(0.4, abs=1e-6)
    assert ends_w["a"] == pytest.approx(ends_f["a"], abs=1e-6)
    assert ends_w["b"] == pytest.approx(ends_f["b"], abs=1e-6)


@pytest.mark.parametrize("sharing", ["shared", "dedicated"])
def test_deadline_inside_the_interruption_fails_with_the_bits_sent(sharing):
    """transfer_timeout 120 ms from 100 ms before the handover: the limit falls 20 ms into
    the interruption; the transfer fails then, having sent 2 Mbit (100 ms at 20 Mbit/s)."""
    x0 = STARTS_M[2]
    t_h = _hand_handover_step(x0, 3.0, 16) * STEP_S
    env = simpy.Environment()
    cell = _cell(sharing=sharing, x0=x0)
    cells: dict = {}
    config = _cell(sharing=sharing, x0=x0)
    capacity = build_capacity(config.uplink, None, np.random.default_rng(0), horizon_s=60.0)
    radio = RadioMeter(RADIO_PRESETS["none"], Window(0.0, 100.0), lambda row, j: None)
    uplink = DeviceUplink(
        env,
        1,
        capacity,
        radio,
        cell=build_cells(env, cell, cells),
        cell_names=cell_names(cell),
        timeout_s=0.12,
    )
    result = _one_transfer(env, uplink, sharing, t_h - 0.1, 6e6)
    assert not result.ok
    assert result.end_s == pytest.approx(t_h + 0.02, abs=1e-9)
    assert result.bits_sent == pytest.approx(2e6, abs=1e-3)
    assert result.cell == "c/b"
