"""The downlink (sim/channel/downlink.py): shared stretching, a trace by hand, receive energy.

Oracles are hand calculations: processor sharing on a constant link (n equal
results take n times as long, exactly), the integral of a piecewise trace, and
Huang et al.'s beta d + alpha_d B with the LTE figures typed from channels.md
§B.10 (not read from the presets).
"""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from sim.channel.capacity import ConstantCapacity
from sim.channel.config import CellConfig
from sim.channel.downlink import DeviceDownlink, DownlinkBuilder, DownlinkResult
from sim.channel.link import RadioMeter, Window
from sim.channel.radio import RADIO_PRESETS, RadioPowerModel
from sim.channel.shared import SharedCell

# Huang et al. MobiSys 2012, LTE (channels.md §B.10), typed here as the oracle's own figures.
LTE_BETA_W = 1.28804
LTE_ALPHA_D_W_PER_MBPS = 0.05197
LTE_PROMOTION_W, LTE_PROMOTION_S = 1.2107, 0.2601
LTE_TAIL_W, LTE_TAIL_S = 1.060, 11.576


WHOLE_RUN = Window(0.0, 1e6)


def meter(kind: str = "none", window: Window = WHOLE_RUN):
    charged: dict[int, float] = {}

    def charge(row: int, joules: float) -> None:
        charged[row] = charged.get(row, 0.0) + joules

    return RadioMeter(RADIO_PRESETS[kind], window, charge), charged


@pytest.mark.parametrize("n", [1, 2, 3, 7])
@pytest.mark.parametrize("scheduler", ["round_robin", "proportional_fair"])
def test_shared_downlink_stretches_n_equal_results_n_fold(n: int, scheduler: str) -> None:
    rate_bps, bits = 20e6, 3e5
    env = simpy.Environment()
    cell = SharedCell(env, "c/downlink", scheduler)  # type: ignore[arg-type]
    results: dict[int, DownlinkResult] = {}
    for key in range(n):
        radio, _ = meter("none")
        downlink = DeviceDownlink(env, key, ConstantCapacity(rate_bps), radio, cell=cell)
        downlink.send(key, bits, lambda r, k=key: results.__setitem__(k, r))
    env.run()
    alone_s = bits / rate_bps
    for result in results.values():
        assert result.ok and result.bits_received == bits
        assert abs(result.end_s - n * alone_s) <= 1e-9 * n * alone_s
    assert cell.max_concurrent == n


def test_shared_downlink_processor_sharing_by_hand() -> None:
    """1 Mbit/s; r1 = 1 Mbit at 0, r2 = 0.25 Mbit at 0.5 s. r1 alone to 0.5 (0.5 Mbit
    left), both at 0.5 Mbit/s: r2 ends at 1.0, r1 has 0.25 Mbit left, alone: ends 1.25."""
    env = simpy.Environment()
    cell = SharedCell(env, "c/downlink")
    ends: dict[int, float] = {}
    links = [
        DeviceDownlink(env, k, ConstantCapacity(1e6), meter("none")[0], cell=cell) for k in (0, 1)
    ]
    links[0].send(0, 1e6, lambda r: ends.__setitem__(0, r.end_s))
    env.timeout(0.5).callbacks.append(
        lambda _e: links[1].send(1, 0.25e6, lambda r: ends.__setitem__(1, r.end_s))
    )
    env.run()
    assert ends == pytest.approx({0: 1.25, 1: 1.0}, abs=1e-12)


def series_cell(**extra) -> CellConfig:
    """Downlink trace: 1 Mbit/s on [0, 1), 0 on [1, 2), 2 Mbit/s on [2, 3), looped."""
    downlink = {
        "kind": "series",
        "times_s": [0.0, 1.0, 2.0],
        "rates_bps": [1e6, 0.0, 2e6],
        "period_s": 3.0,
    }
    return CellConfig(
        name="c",
        node="n",
        uplink={"kind": "constant", "rate_bps": 1e6},
        downlink=downlink,
        **extra,
    )


def dedicated_downlink(env: simpy.Environment, radio: RadioMeter) -> DeviceDownlink:
    cell = series_cell(radio="lte")
    trace = cell.downlink_config().as_trace()  # type: ignore[union-attr]
    builder = DownlinkBuilder(
        env, lambda name: np.random.default_rng(0), {"c": trace}, horizon_s=100.0
    )
    return builder.for_device(0, cell, "g", 0, radio)


def test_dedicated_downlink_over_a_trace_by_hand() -> None:
    env = simpy.Environment()
    env.run(until=0.5)
    radio, charged = meter("lte", Window(0.0, 100.0))
    downlink = dedicated_downlink(env, radio)
    got: list[DownlinkResult] = []
    downlink.send(7, 1.5e6, got.append)
    (result,) = got
    # Radio idle: promotion 0.2601 s, first bit at 0.7601; 0.2399 Mbit by 1.0, none in
    # [1, 2), the remaining 1.2601 Mbit at 2 Mbit/s: 0.63005 s, end 2.63005.
    rx_start = 0.5 + LTE_PROMOTION_S
    end = 2.0 + (1.5e6 - (1.0 - rx_start) * 1e6) / 2e6
    assert result.start_s == 0.5
    assert result.rx_start_s == pytest.approx(rx_start, abs=1e-12)
    assert result.end_s == pytest.approx(end, abs=1e-9)
    assert result.ok and result.bits_received == 1.5e6
    # Energy: promotion + beta d + alpha_d B (mean rate 0.8 Mbit/s, inside the fitted range).
    energy = (
        LTE_PROMOTION_W * LTE_PROMOTION_S
        + LTE_BETA_W * (end - rx_start)
        + LTE_ALPHA_D_W_PER_MBPS * 1.5
    )
    assert result.energy_j == pytest.approx(energy, rel=1e-12)
    assert result.energy_j >= 0.0
    assert radio.energy_j["radio_rx"] == pytest.approx(energy - LTE_PROMOTION_W * LTE_PROMOTION_S)
    # The tail runs from the end of the reception and is charged to its request.
    radio.close()
    assert charged == pytest.approx({7: LTE_TAIL_W * LTE_TAIL_S})
    assert radio.last_end_s == pytest.approx(end)


def test_dedicated_downlink_is_fifo_per_device() -> None:
    env = simpy.Environment()
    radio, _ = meter("none")
    downlink = DeviceDownlink(env, 0, ConstantCapacity(1e6), radio)
    got: list[DownlinkResult] = []
    downlink.send(0, 1e6, got.append)
    downlink.send(1, 0.5e6, got.append)
    assert [(r.start_s, r.end_s) for r in got] == [(0.0, 1.0), (1.0, 1.5)]


def test_reception_inside_a_booked_transmission_pays_no_promotion_and_keeps_its_tail() -> None:
    env = simpy.Environment()
    radio, charged = meter("lte", Window(0.0, 100.0))
    radio.begin(0.0)
    radio.end(1, LTE_PROMOTION_S, 2.0, 1e6)  # an upload booked until 2.0 (row 1)
    got: list[DownlinkResult] = []
    DeviceDownlink(env, 0, ConstantCapacity(1e6), radio).send(0, 0.5e6, got.append)
    (result,) = got
    assert result.rx_start_s == 0.0 and result.end_s == 0.5  # no promotion: radio active
    assert result.energy_j == pytest.approx(LTE_BETA_W * 0.5 + LTE_ALPHA_D_W_PER_MBPS * 0.5)
    radio.close()
    assert set(charged) == {1}  # the tail follows the upload, which ends last


def test_receive_energy_caps_alpha_d_above_the_fitted_range() -> None:
    model = RadioPowerModel(
        promotion_w=0,
        promotion_s=0,
        tx_base_w=1.0,
        tx_w_per_mbps=0.4,
        rx_w_per_mbps=0.05,
        rx_fitted_max_mbps=20.0,
        tail_w=0,
        tail_s=0,
    )
    assert model.receive_energy_j(1.0, 10e6) == pytest.approx(1.0 + 0.05 * 10)
    assert model.receive_energy_j(1.0, 50e6) == pytest.approx(1.0 + 0.05 * 20)  # capped
    assert model.receive_energy_j(0.0, 0.0) == 0.0


def test_presets_carry_huang_alpha_d_with_sources() -> None:
    figures = {"lte": 51.97, "3g": 122.12, "wifi": 137.01, "nr": 51.97}
    for kind, mw in figures.items():
        preset = RADIO_PRESETS[kind]
        assert preset.rx_w_per_mbps == pytest.approx(mw / 1000.0)
        assert "alpha_d" in preset.source and preset.rx_fitted_max_mbps is not None
    assert RADIO_PRESETS["none"].rx_w_per_mbps == 0.0
    # Uplink bits cost ~8x downlink bits on LTE (channels.md §B.10: 8.44).
    lte = RADIO_PRESETS["lte"]
    assert lte.tx_w_per_mbps / lte.rx_w_per_mbps == pytest.approx(8.44, abs=0.01)


def test_downlink_defaults_to_constant_downlink_bps_and_refuses_both() -> None:
    cell = CellConfig(
        name="c", node="n", uplink={"kind": "constant", "rate_bps": 1e6}, downlink_bps=7e6
    )
    config = cell.downlink_config()
    assert config.kind == "constant" and config.rate_bps == 7e6  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="not both"):
        series_cell(downlink_bps=7e6)


def test_builder_shares_one_downlink_cell_and_names_its_streams() -> None:
    env = simpy.Environment()
    names: list[str] = []

    def streams(name: str) -> np.random.Generator:
        names.append(name)
        return np.random.default_rng(len(names))

    builder = DownlinkBuilder(env, streams, {"c": None}, horizon_s=10.0)
    cell = CellConfig(
        name="c",
        node="n",
        uplink={"kind": "constant", "rate_bps": 1e6},
        downlink={
            "kind": "gilbert_elliott",
            "good_rate_bps": 1e6,
            "mean_good_s": 1,
            "mean_bad_s": 1,
        },
        sharing="shared",
        scheduler="proportional_fair",
    )
    a = builder.for_device(0, cell, "g", 0, meter()[0])
    b = builder.for_device(1, cell, "g", 1, meter()[0])
    assert a.cell is b.cell and a.cell is not None and a.cell.scheduler == "proportional_fair"
    assert a.capacity is not b.capacity
    assert names == ["downlink/c/g/0", "downlink/c/g/1"]
    one = cell.model_copy(update={"channel_per_device": False})
    c = builder.for_device(2, one, "g", 2, meter()[0])
    d = builder.for_device(3, one, "g", 3, meter()[0])
    assert c.capacity is d.capacity and names[-1] == "downlink/c"


def test_downlink_that_never_delivers_is_not_ok() -> None:
    """A trace that ends (loop: false) at rate 0: 1 Mbit/s for 1 s, then nothing."""
    env = simpy.Environment()
    cell = CellConfig(
        name="c",
        node="n",
        uplink={"kind": "constant", "rate_bps": 1e6},
        downlink={
            "kind": "series",
            "times_s": [0.0, 1.0],
            "rates_bps": [1e6, 0.0],
            "period_s": 2.0,
            "loop": False,
        },
    )
    trace = cell.downlink_config().as_trace()  # type: ignore[union-attr]
    builder = DownlinkBuilder(env, lambda n: np.random.default_rng(0), {"c": trace}, horizon_s=5)
    downlink = builder.for_device(0, cell, "g", 0, meter()[0])
    got: list[DownlinkResult] = []
    downlink.send(0, 2e6, got.append)
    # It fails where the series ends (2 s) with what it received: 1 s at 1 Mbit/s.
    assert not got[0].ok
    assert got[0].end_s == pytest.approx(2.0) and got[0].bits_received == pytest.approx(1e6)


def run_with_legs(scenario, legs: bool):
    """One run of the scenario's first strategy, its legs attached (or today's arithmetic)."""
    from sim.engine import Run
    from sim.legs import Legs

    run = Run(scenario, scenario.strategy_labels[0])
    run.router.legs = Legs.for_run(run) if legs else None
    return run.run(), run


def test_attached_legs_reproduce_the_arithmetic_way_back_when_nothing_overlaps() -> None:
    """One device, requests far apart, radio none: the backhaul and downlink give the same
    t_done as path + propagation + result / downlink_bps (to float round-off)."""
    from tests.conftest import toy_scenario

    scenario = toy_scenario(
        devices__0__workload={"kind": "timestamps", "times_s": [0.0, 2.0, 4.0]},
        devices__0__result_bytes=100_000,
    )
    before, _ = run_with_legs(scenario, legs=False)
    after, run = run_with_legs(scenario, legs=True)
    assert np.allclose(after.requests["t_done"], before.requests["t_done"], rtol=0, atol=1e-12)
    # The way back by hand: 0.8 Mbit over the 1 Gbit/s link (2 ms), 1 ms air, 0.8 s downlink.
    back = after.requests["t_done"] - after.requests["t_service_end"]
    assert np.allclose(back, 8e5 / 1e9 + 0.002 + 0.001 + 0.8, atol=1e-12)
    links = {(r["link_from"], r["link_to"]): r for r in run.router.legs.backhaul.result_rows()}
    assert links[("edge", "ap")]["bits"] == pytest.approx(3 * 8e5)


def test_shared_downlink_in_a_run_stretches_overlapping_results() -> None:
    """Two devices whose results overlap on a shared 1 Mbit/s downlink: each takes longer
    than alone, and the cell never delivers more than 1 Mbit/s."""
    from tests.conftest import toy_scenario

    scenario = toy_scenario(
        devices__0__count=2,
        devices__0__workload={"kind": "timestamps", "times_s": [0.0]},
        devices__0__result_bytes=100_000,
        cells__0__sharing="shared",
    )
    result, _ = run_with_legs(scenario, legs=True)
    requests = result.requests
    assert (requests["outcome"] != "failed").all()
    # Both results are on the downlink together for part of the time: the last one to finish
    # ends no earlier than 1.6 Mbit after the first one is ready (capacity bound), later
    # than 0.8 s after its own readiness (stretching).
    ready = requests["t_service_end"] + 8e5 / 1e9 + 0.002 + 0.001
    assert requests["t_done"].max() >= ready.min() + 1.6 - 1e-9
    assert ((requests["t_done"] - ready) > 0.8 + 1e-6).all()


def test_receive_energy_is_charged_to_the_request() -> None:
    from tests.conftest import toy_scenario

    spec = {
        "devices__0__workload": {"kind": "timestamps", "times_s": [0.0]},
        "cells__0__radio": "lte",
    }
    small, _ = run_with_legs(toy_scenario(devices__0__result_bytes=10, **spec), legs=True)
    large, _ = run_with_legs(toy_scenario(devices__0__result_bytes=125_000, **spec), legs=True)
    # 1 Mbit more at 1 Mbit/s: 1 s more of reception at beta plus alpha_d per Mbit. The tail
    # after it (11.6 s) is cut at the window's end (10 s), so it is 1 s shorter.
    extra_rx = LTE_BETA_W * (1e6 - 80) / 1e6 + LTE_ALPHA_D_W_PER_MBPS * (1e6 - 80) / 1e6
    shorter_tail = LTE_TAIL_W * (1e6 - 80) / 1e6
    delta = large.requests["e_radio_j"].iloc[0] - small.requests["e_radio_j"].iloc[0]
    assert delta == pytest.approx(extra_rx - shorter_tail, rel=1e-9)
    assert (large.requests["e_radio_j"] >= 0).all()


def test_reception_in_the_gap_before_a_booked_upload_is_fitted_in_by_hand() -> None:
    """Upload 0 on [0.2601, 1.0] (row 0); upload 1 booked on [3.0, 4.0] (row 1) before the
    results come back, so the meter charged row 0 the tail [1.0, 3.0]. Result 0 is received
    on [1.5, 2.0], result 5 on [2.5, 2.6]: the chronological tails are row 0 [1.0, 1.5] and
    [2.0, 2.5], row 5 [2.6, 3.0]."""
    env = simpy.Environment()
    radio, charged = meter("lte", Window(0.0, 100.0))
    radio.begin(0.0)
    radio.end(0, LTE_PROMOTION_S, 1.0, 1e6)
    radio.begin(3.0)  # booked at arrival (a dedicated link): closes row 0's tail at 2.0 s
    radio.end(1, 3.0, 4.0, 1e6)
    assert charged == pytest.approx({0: LTE_TAIL_W * 2.0})
    downlink = DeviceDownlink(env, 0, ConstantCapacity(1e6), radio)
    got: list[DownlinkResult] = []
    env.run(until=1.5)
    downlink.send(0, 0.5e6, got.append)
    env.run(until=2.5)
    downlink.send(5, 0.1e6, got.append)
    times = [t for r in got for t in (r.rx_start_s, r.end_s)]
    assert times == pytest.approx([1.5, 2.0, 2.5, 2.6])
    assert got[0].energy_j == pytest.approx(LTE_BETA_W * 0.5 + LTE_ALPHA_D_W_PER_MBPS * 0.5)
    assert got[1].energy_j == pytest.approx(LTE_BETA_W * 0.1 + LTE_ALPHA_D_W_PER_MBPS * 0.1)
    assert charged == pytest.approx({0: LTE_TAIL_W * (0.5 + 0.5), 5: LTE_TAIL_W * 0.4})
    assert radio.energy_j["radio_tail"] == pytest.approx(LTE_TAIL_W * 1.4)
    radio.close()  # the booked upload's own tail is untouched
    assert charged[1] == pytest.approx(LTE_TAIL_W * LTE_TAIL_S)


def toy_with_downlink(downlink: dict, **changes):
    """The toy scenario with ``downlink`` instead of its downlink_bps."""
    from sim.scenario.load import build_scenario
    from tests.conftest import REPO, toy_spec

    spec = toy_spec(**changes)
    del spec["cells"][0]["downlink_bps"]
    spec["cells"][0]["downlink"] = downlink
    return build_scenario(spec, REPO / "tests" / "toy.yaml")


def test_a_missing_downlink_trace_is_refused_when_loading() -> None:
    from sim.errors import SimInputError

    with pytest.raises(SimInputError) as caught:
        toy_with_downlink({"kind": "trace", "path": "no_such.down", "format": "mahimahi"})
    assert "cells.0.downlink.path" in str(caught.value)


def test_a_trace_downlink_in_a_run(shared_traces) -> None:
    """A mahimahi downlink trace (1500 B per delivery opportunity, 0.1 s bins): each result
    of 1.6 Mbit takes at least 1.6 Mbit / the trace's peak rate on the downlink."""
    trace = shared_traces / "mahimahi_cellular" / "ATT-LTE-driving.down"
    scenario = toy_with_downlink(
        {"kind": "trace", "path": str(trace), "format": "mahimahi"},
        devices__0__result_bytes=200_000,
    )
    result, run = run_with_legs(scenario, legs=True)
    requests = result.requests
    assert (requests["outcome"] != "failed").all()
    back = requests["t_done"] - requests["t_service_end"]
    peak = max(link.capacity.max_rate_bps() for link in run.router.legs.downlinks.values())
    assert (back >= 1.6e6 / peak).all()
