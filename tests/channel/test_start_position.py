"""A physical-uplink device starts where it was put, inside its mobility area (issue 17).

A start outside the area used to be folded in by the straight line's mirror reflection
(x = 100 in an area x in [200, 400] started at x = 300 and drove backwards); it is now
refused with one line naming the key, the value and the area. Drawn starts (uniform in
the area, or on a ring around the first station) always lie inside it.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml
from scipy import stats

from sim.channel.mobility import Area
from sim.channel.physical import PhysicalSource
from sim.channel.physical_config import PhysicalUplink
from sim.channel.placement import ring_fraction_inside, start_position
from sim.cli import main
from sim.errors import SimInputError
from sim.validation import validate_data
from tests.conftest import REPO, toy_spec

AREA = {"x_m": [0.0, 400.0], "y_m": [0.0, 100.0]}


def uplink(**changes) -> dict:
    config = {
        "kind": "physical",
        "base_stations": [{"name": "bs0", "x_m": 0.0, "y_m": 0.0}],
        "mobility": {
            "kind": "straight_line",
            "speed_mps": 10.0,
            "heading_deg": 0.0,
            "area_m": AREA,
        },
    }
    config.update(changes)
    return config


def physical(**changes) -> PhysicalUplink:
    return validate_data(PhysicalUplink, uplink(**changes))


def route(config: PhysicalUplink, times_s: list[float]) -> np.ndarray:
    """(x, y, distance travelled) of a device built from ``config``, one row per time."""
    source = PhysicalSource(config, np.random.default_rng(3))
    x, y, travelled = source.trajectory.sample(np.asarray(times_s, dtype=float))
    return np.column_stack([x, y, travelled])


def test_positions_along_a_route_from_an_in_area_start():
    # 10 m/s along +x from (100, 50) in x [0, 400]: the edge at t = 30 s, back to x = 0 at
    # t = 70 s, the edge again at t = 110 s; y stays 50.
    config = physical(position_m=[100.0, 50.0])
    got = route(config, [0.0, 10.0, 30.0, 35.0, 70.0, 75.0, 110.0])
    expected_x = [100.0, 200.0, 400.0, 350.0, 0.0, 50.0, 400.0]
    assert got[:, 0] == pytest.approx(expected_x, abs=1e-9)
    assert got[:, 1] == pytest.approx([50.0] * 7, abs=1e-9)
    assert got[:, 2] == pytest.approx([0.0, 100.0, 300.0, 350.0, 700.0, 750.0, 1100.0])


def test_positions_along_a_diagonal_route():
    # 5 m/s at atan2(3, 4): velocity (4, 3) m/s from (100, 50). By hand, unfolded then
    # reflected into x [0, 400], y [0, 100]:
    # t = 10: (140, 80); t = 20: (180, 110 -> 90); t = 50: (300, 200 -> 0);
    # t = 75: (400, 275 -> 75); t = 100: (500 -> 300, 350 -> 50).
    heading = float(np.degrees(np.arctan2(3.0, 4.0)))
    mobility = {"kind": "straight_line", "speed_mps": 5.0, "heading_deg": heading, "area_m": AREA}
    config = physical(position_m=[100.0, 50.0], mobility=mobility)
    got = route(config, [0.0, 10.0, 20.0, 50.0, 75.0, 100.0])
    expected = [(100, 50), (140, 80), (180, 90), (300, 0), (400, 75), (300, 50)]
    assert got[:, :2] == pytest.approx(np.array(expected, dtype=float), abs=1e-9)
    assert got[:, 2] == pytest.approx([0.0, 50.0, 100.0, 250.0, 375.0, 500.0])


@pytest.mark.parametrize("corner", [(0.0, 0.0), (400.0, 100.0), (0.0, 100.0)])
def test_a_start_on_the_area_edge_is_inside(corner):
    config = physical(position_m=list(corner))
    assert route(config, [0.0])[0, :2] == pytest.approx(corner)


def write_scenario(tmp_path, position_m, mobility=None):
    spec = toy_spec(compare=["offload"])
    spec["cells"][0]["uplink"] = uplink(position_m=position_m)
    if mobility is not None:
        spec["cells"][0]["uplink"]["mobility"] = mobility
    path = tmp_path / "out_of_area.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def test_the_cli_refuses_a_start_outside_the_area(tmp_path):
    # The example: x = 100 in an area x in [200, 400].
    area = {"x_m": [200.0, 400.0], "y_m": [0.0, 100.0]}
    mobility = {"kind": "straight_line", "speed_mps": 10.0, "heading_deg": 0.0, "area_m": area}
    path = write_scenario(tmp_path, [100.0, 50.0], mobility)
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(path), "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    message = lines[0]
    assert str(path) in message
    assert "key 'cells.0.uplink.position_m'" in message
    assert "start position outside the mobility area" in message
    assert "[100.0, 50.0]" in message
    assert "x in [200, 400] and y in [0, 100]" in message
    assert not out.exists()


@pytest.mark.parametrize(
    "mobility",
    [
        {"kind": "straight_line", "speed_mps": 1.0, "area_m": AREA},
        {"kind": "random_waypoint", "speed_mps": [1.0, 2.0], "area_m": AREA},
    ],
)
@pytest.mark.parametrize("position", [[-0.001, 50.0], [100.0, 100.5], [401.0, -1.0]])
def test_every_kind_with_an_area_refuses_an_outside_start(tmp_path, capsys, mobility, position):
    path = write_scenario(tmp_path, position, mobility)
    out = tmp_path / "results"
    assert main(["run", str(path), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "key 'cells.0.uplink.position_m'" in err, err
    assert "x in [0, 400] and y in [0, 100]" in err
    assert not out.exists()


def test_without_an_area_any_start_is_kept():
    mobility = {"kind": "straight_line", "speed_mps": 10.0, "heading_deg": 0.0}
    config = physical(position_m=[-1000.0, 5000.0], mobility=mobility)
    expected = np.array([[-1000.0, 5000.0], [-980.0, 5000.0]])
    assert route(config, [0.0, 2.0])[:, :2] == pytest.approx(expected)


def test_drawn_starts_uniform_in_the_area_lie_inside_and_are_not_moved():
    # No position_m and no distance_m: uniform in the area; the route starts there.
    config = physical(position_m=None)
    for seed in range(200):
        start = start_position(config, np.random.default_rng(seed))
        assert 0.0 <= start[0] <= 400.0 and 0.0 <= start[1] <= 100.0
    source = PhysicalSource(config, np.random.default_rng(5))
    x, y, _ = source.trajectory.sample(np.array([0.0]))
    assert (x[0], y[0]) == pytest.approx(tuple(source.start_m))


def test_a_ring_start_is_drawn_on_the_rings_part_inside_the_area():
    # Station at the corner (0, 0) of x, y in [0, 1000]: a quarter of the 50-300 m ring is
    # inside. Starts are uniform on that quarter: r^2 uniform on [50^2, 300^2], angle
    # uniform on [0, pi/2] (Kolmogorov-Smirnov at the 0.1 % level).
    area = {"x_m": [0.0, 1000.0], "y_m": [0.0, 1000.0]}
    mobility = {"kind": "random_waypoint", "speed_mps": [1.0, 2.0], "area_m": area}
    config = physical(distance_m=[50.0, 300.0], mobility=mobility)
    starts = np.array([start_position(config, np.random.default_rng(s)) for s in range(2000)])
    assert (starts >= 0.0).all() and (starts <= 1000.0).all()
    r2 = (starts**2).sum(axis=1)
    assert r2.min() >= 50.0**2 - 1e-6 and r2.max() <= 300.0**2 + 1e-6
    assert stats.kstest(r2, stats.uniform(50.0**2, 300.0**2 - 50.0**2).cdf).pvalue > 1e-3
    angle = np.arctan2(starts[:, 1], starts[:, 0])
    assert stats.kstest(angle, stats.uniform(0.0, np.pi / 2).cdf).pvalue > 1e-3


def test_a_ring_start_without_an_area_draws_as_before():
    # Common random numbers: the ring draw without an area (every shipped scenario) takes
    # r = sqrt(U(low^2, high^2)), then the angle U(0, 2 pi), from the device's stream.
    config = physical(
        distance_m=[30.0, 250.0],
        mobility={"kind": "static"},
        base_stations=[{"name": "enb", "x_m": 10.0, "y_m": -5.0}],
    )
    for seed in range(20):
        rng = np.random.default_rng(seed)
        radius = np.sqrt(rng.uniform(30.0**2, 250.0**2))
        angle = rng.uniform(0.0, 2.0 * np.pi)
        expected = (10.0 + radius * np.cos(angle), -5.0 + radius * np.sin(angle))
        assert tuple(start_position(config, np.random.default_rng(seed))) == expected


@pytest.mark.parametrize(
    ("station", "expected"),
    [((0.0, 0.0), 0.25), ((500.0, 0.0), 0.5), ((500.0, 500.0), 1.0), ((-400.0, 500.0), 0.0)],
)
def test_the_rings_fraction_inside_the_area(station, expected):
    # A 50-300 m ring around a corner, an edge's midpoint, the centre, and well outside.
    area = Area(x_m=(0.0, 1000.0), y_m=(0.0, 1000.0))
    assert ring_fraction_inside(station, 50.0, 300.0, area) == pytest.approx(expected, abs=2e-3)


def test_a_ring_outside_the_area_is_refused():
    area = {"x_m": [1000.0, 2000.0], "y_m": [0.0, 100.0]}
    mobility = {"kind": "straight_line", "speed_mps": 1.0, "area_m": area}
    with pytest.raises(SimInputError) as caught:
        validate_data(
            PhysicalUplink,
            uplink(distance_m=[50.0, 300.0], mobility=mobility),
            key_prefix="cells.0.uplink",
        )
    message = str(caught.value)
    assert "key 'cells.0.uplink.distance_m'" in message and "station 'bs0'" in message
    assert "x in [1000, 2000] and y in [0, 100]" in message
