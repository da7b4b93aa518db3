"""Provenance: --version, and version, commit and scenario hash in every result."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import yaml

import sim
from sim.cli import main
from sim.provenance import RESULTS_REVISION, version
from sim.sweep.identity import scenario_key
from tests.conftest import REPO, toy_scenario


def test_version_flag(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"splitsim {version()} (results revision {RESULTS_REVISION}")
    assert re.search(r"commit [0-9a-f]{12}", out) or "commit" not in out


def test_summary_and_resolved_scenario_carry_provenance(tmp_path):
    scenario = toy_scenario()
    results = sim.run(scenario)
    out = results.write(tmp_path / "run", plots=False)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["simulator_version"] == version()
    assert summary["results_revision"] == RESULTS_REVISION
    assert summary["scenario_hash"] == scenario_key(scenario, results.strategies)
    assert "git_commit" in summary and "git_dirty" in summary
    resolved = yaml.safe_load((out / "scenario.resolved.yaml").read_text())
    recorded = resolved["resolved"]["provenance"]
    assert recorded["scenario_hash"] == summary["scenario_hash"]
    assert recorded["simulator_version"] == version()


def test_no_broken_pipe_traceback():
    proc = subprocess.run(
        f"{sys.executable} -m sim schema | head -n 1",
        shell=True,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert (
        proc.stdout.strip() and "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr
    )


def test_citation_license_changelog():
    assert "Apache License" in (REPO / "LICENSE").read_text()
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert cff["version"] == version() and cff["license"] == "Apache-2.0"
    assert f"## {version()}" in (REPO / "CHANGELOG.md").read_text()
