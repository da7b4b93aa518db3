"""calibration/fit_channel.py on each public trace set: fitted vs trace within stated tolerances.

Tolerances (per set): the fitted Markov chain's mean throughput within 10 % of the
trace's and its outage fraction within 0.03 (absolute) or 25 % (relative), both
for its stationary law (exact) and for a simulated realisation (sampling noise);
the Gilbert-Elliott fit keeps the trace's mean within 10 % and bad fraction within 0.03.
"""

from __future__ import annotations

import numpy as np
import pytest

from calibration.fit_channel import TRACE_SETS, fit_traces, format_table, main, trace_set_paths
from sim.channel.config import MarkovUplink
from sim.channel.sources import MarkovSource
from tests.conftest import REPO

MEAN_REL = 0.10
OUTAGE_ABS, OUTAGE_REL = 0.03, 0.25


def _outage_close(model: float, trace: float) -> bool:
    return abs(model - trace) <= max(OUTAGE_ABS, OUTAGE_REL * trace)


@pytest.mark.parametrize("name", list(TRACE_SETS))
def test_fit_matches_trace_set(name, shared_traces):
    paths = trace_set_paths(name, shared_traces)
    bin_s = TRACE_SETS[name][1]
    # 16 h of simulated channel: the realisation's mean is then within ~3 % (1 sd) of the law's.
    result = fit_traces(paths, bin_s=bin_s, seed=3, min_simulated_s=16 * 3600.0)
    stats = result["stats"]
    trace, markov, ge = stats["trace"], stats["markov"], stats["gilbert_elliott"]
    # Stationary law of the fitted chain (no sampling noise).
    fit = result["markov"]
    source = MarkovSource(fit.rates_bps, fit.mean_sojourn_s, fit.jump, np.random.default_rng(0))
    law = source.stationary()
    assert float(law @ fit.rates_bps) / 1e6 == pytest.approx(trace.mean_mbps, rel=0.02)
    if fit.outage_state:
        assert _outage_close(float(law[0]), trace.outage_fraction)
    # Simulated realisations of both fitted models.
    assert markov.mean_mbps == pytest.approx(trace.mean_mbps, rel=MEAN_REL), format_table(stats)
    assert _outage_close(markov.outage_fraction, trace.outage_fraction), format_table(stats)
    assert ge.mean_mbps == pytest.approx(trace.mean_mbps, rel=MEAN_REL), format_table(stats)
    assert _outage_close(ge.outage_fraction, trace.outage_fraction), format_table(stats)
    # What is written is a valid scenario uplink.
    MarkovUplink.model_validate(fit.as_uplink())


def test_cli_writes_a_fit_a_scenario_accepts(shared_traces, tmp_path, capsys):
    out = tmp_path / "fit.yaml"
    trace = shared_traces / "mahimahi_cellular" / "Verizon-LTE-short.up"
    assert main([str(trace), "--bin-s", "0.5", "--levels", "6", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| mean [Mbit/s] |" in printed and "send 45 kB" in printed
    import yaml

    data = yaml.safe_load(out.read_text())
    assert data["uplink"]["kind"] == "markov" and len(data["uplink"]["rates_bps"]) == 6
    assert data["statistics"]["trace"]["mean_mbps"] == pytest.approx(5.9, abs=0.1)
    from tests.conftest import toy_scenario

    toy_scenario(cells__0__uplink=data["uplink"])  # validates as a scenario's uplink
    toy_scenario(cells__0__uplink=data["gilbert_elliott"])


def test_shipped_fits_are_valid_uplinks():
    fits = sorted((REPO / "calibration" / "channel_fits").glob("*.yaml"))
    assert {f.stem for f in fits} >= set(TRACE_SETS)
    import yaml

    from tests.conftest import toy_scenario

    for path in fits:
        data = yaml.safe_load(path.read_text())
        toy_scenario(cells__0__uplink=data["uplink"])
        toy_scenario(cells__0__uplink=data["gilbert_elliott"])
