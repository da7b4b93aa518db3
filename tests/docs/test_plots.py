"""Plot fixes: the channel plot's device and window, bars inside their axes, legends off the
data, stage means that add up to the mean latency, BrokenPipe-free output."""

from __future__ import annotations

import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

import sim
from sim.metrics import finished, latency_s
from sim.report import plots
from sim.report.channel_plot import capacity_with_transfers, pick_device, pick_window
from tests.conftest import REPO


@pytest.fixture(scope="module")
def results():
    scenario = sim.load(REPO / "scenarios" / "congested_lte.yaml", ["duration_s=14"])
    return sim.run(scenario)


def test_channel_plot_defaults_to_the_device_with_most_failed_transfers(results):
    req = results.requests
    failed = req[req["reason"] == "transfer_failed"]
    if not len(failed):
        pytest.skip("no failed transfer in this realisation")
    counts = {}
    for device in failed["device"]:  # an independent count, row by row
        counts[int(device)] = counts.get(int(device), 0) + 1
    most = max(counts.values())
    assert pick_device(results) == min(d for d, n in counts.items() if n == most)
    t0, t1 = pick_window(results, pick_device(results), None, 4.0)
    spec = results.scenario.spec
    assert spec.warmup_s <= t0 and t1 - t0 == pytest.approx(4.0)


def test_channel_plot_options_pick_device_and_window(results, tmp_path):
    device = int(results.requests["device"].max())
    assert pick_window(results, device, 7.0, 3.0) == (7.0, 10.0)
    assert capacity_with_transfers(
        results, tmp_path / "c.png", device=device, start_s=7.0, span_s=3.0
    )
    scenario = results.scenario.with_overrides(
        ["outputs.channel_plot.device=2", "outputs.channel_plot.span_s=2.5"]
    )
    assert scenario.spec.outputs.channel_plot.device == 2


def test_stage_means_add_up_to_the_mean_latency(results):
    done = finished(results.in_window())
    for strategy, stages in plots.stage_means_s(results).items():
        part = done[done["strategy"] == strategy]
        if not len(part):
            continue
        assert all(v >= 0 for v in stages.values())
        assert sum(stages.values()) == pytest.approx(float(latency_s(part).mean()), rel=1e-9)
    assert "device queue" in plots.STAGE_COLOURS and "compute on device" in plots.STAGE_COLOURS


def test_energy_bars_stay_inside_the_axes(results):
    fig, ax = plt.subplots()
    plots.energy_bars(results, ax)
    top = ax.get_ylim()[1]
    heights = [p.get_y() + p.get_height() for p in ax.patches]
    markers = np.concatenate([line.get_ydata() for line in ax.lines]).astype(float)
    assert max(heights) <= top and np.nanmax(markers) <= top
    legend = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    axes_box = ax.get_window_extent(fig.canvas.get_renderer())
    assert legend.x0 >= axes_box.x1  # beside the bars, not over them
    plt.close(fig)


def test_timeline_legend_is_outside_every_panel(results, tmp_path, monkeypatch):
    captured = []
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: captured.append(fig))
    plots.timeline(results, tmp_path / "t.png")
    fig = captured[-1]
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()  # a pyplot-free Figure has no Agg canvas
    assert fig.legends and all(ax.get_legend() is None for ax in fig.axes)
    legend = fig.legends[0].get_window_extent(renderer)
    assert all(legend.y0 >= ax.get_window_extent(renderer).y1 - 1 for ax in fig.axes)
    monkeypatch.undo()
    written = plots.write_plots(results, tmp_path / "plots")
    assert "timeline.png" in written and "channel_capacity.png" in written


def test_log_axis_labels_are_plain_and_sparse():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([15, 220], [0, 1])
    ax.set_xscale("log")
    plots._log_ticks(ax.xaxis, 15, 220)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all("^" not in text and "$" not in text for text in labels)
    boxes = [t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()]
    visible = [b for b in boxes if ax.get_window_extent().x0 <= b.x0 <= ax.get_window_extent().x1]
    for a, b in itertools.pairwise(visible):
        assert a.x1 <= b.x0  # no two labels overlap
    plt.close(fig)


def test_plotting_modules_leave_the_backend_and_pyplot_alone():
    """Importing and using sim's plots never switches the backend nor opens pyplot figures."""
    import subprocess
    import sys

    code = (
        "import matplotlib; matplotlib.use('pdf'); import matplotlib.pyplot as plt\n"
        "import sim.report.plots, sim.report.channel_plot, sim.sweep.plot, sim.sweep.cli\n"
        "import sim.analysis.plots, sim.figures\n"
        "fig, ax = sim.figures.subplots(1, 1, figsize=(2, 2))\n"
        "assert matplotlib.get_backend() == 'pdf', matplotlib.get_backend()\n"
        "assert plt.get_fignums() == [], plt.get_fignums()\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
