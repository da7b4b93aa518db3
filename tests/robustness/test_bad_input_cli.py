"""Each kind of bad input: exit code 2, one line naming file, key, value and what is allowed,
no traceback, and no output folder left behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import REPO

SCENARIO = REPO / "scenarios" / "congested_lte.yaml"
TEXT = SCENARIO.read_text()


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def broken_trace(tmp_path: Path, body: str) -> list[str]:
    trace = write(tmp_path, body, "trace.txt")
    uplink = f"{{kind: trace, path: {trace}, format: time_mbps}}"
    return ["--set", f"cells.0.uplink={uplink}"]


CASES = {
    # name: (scenario text transform, extra args, substrings expected in the message)
    "malformed yaml": (
        lambda t: t.replace("compare: [local", "compare: [[local"),
        [],
        ["malformed YAML"],
    ),
    "python tag": (
        lambda t: "x: !!python/object/apply:os.system [ls]\n" + t,
        [],
        ["malformed YAML"],
    ),
    "unknown key": (
        lambda t: t.replace("warmup_s:", "warmpu_s:"),
        [],
        ["unknown key", "did you mean 'warmup_s'"],
    ),
    "wrong type": (
        lambda t: t,
        ["--set", "devices.0.count=many"],
        ["devices.0.count", "not an integer", "'many'"],
    ),
    "negative rate": (
        lambda t: t,
        ["--set", "cells.0.downlink_bps=-1"],
        ["cells.0.downlink_bps", "> 0"],
    ),
    "negative bandwidth": (
        lambda t: t,
        ["--set", "cells.0.uplink.link.bandwidth_hz=-1"],
        ["cells.0.uplink.link.bandwidth_hz", "> 0"],
    ),
    "zero rate": (
        lambda t: t,
        ["--set", "devices.0.workload.fps=0"],
        ["devices.0.workload.fps", "> 0"],
    ),
    "nan duration": (lambda t: t, ["--set", "duration_s=.nan"], ["duration_s", "finite"]),
    "infinite rate": (
        lambda t: t,
        ["--set", "servers.0.background.0.rate_hz=.inf"],
        ["rate_hz", "finite"],
    ),
    "negative size": (
        lambda t: t,
        ["--set", "devices.0.result_bytes=-16"],
        ["devices.0.result_bytes", "> 0"],
    ),
    "warmup >= duration": (lambda t: t, ["--set", "warmup_s=60"], ["warmup_s", "< 60"]),
    "missing profile file": (
        lambda t: t,
        ["--set", "devices.0.device=./nope.yaml"],
        ["devices.0.device", "not found"],
    ),
    "unknown model": (
        lambda t: t,
        ["--set", "devices.0.model=densenet999"],
        ["devices.0.model", "unknown model profile"],
    ),
    "unknown device": (
        lambda t: t,
        ["--set", "devices.0.device=pi9"],
        ["devices.0.device", "unknown device"],
    ),
    "unknown variant": (
        lambda t: t,
        ["--set", "compare=[bottlefit_c77]"],
        ["compare.0.variant", "unknown variant"],
    ),
    "unknown policy kind": (
        lambda t: t,
        ["--set", "devices.0.policy={kind: oracle}"],
        ["devices.0.policy", "unknown kind"],
    ),
    "unknown channel kind": (
        lambda t: t,
        ["--set", "cells.0.uplink.kind=rayleighh"],
        ["cells.0.uplink", "unknown kind"],
    ),
    "split beyond model": (
        lambda t: t,
        ["--set", "compare=[split_classifier_uint8]"],
        ["compare.0.variant"],
    ),
    "no path to server": (lambda t: t, ["--set", "network.links=[]"], ["no network path"]),
    "too large": (
        lambda t: t,
        ["--set", "devices.0.count=100000", "--set", "duration_s=100000"],
        ["too large", "GiB"],
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_scenario(name, tmp_path, capsys):
    transform, args, needles = CASES[name]
    path = write(tmp_path, transform(TEXT))
    out = tmp_path / "out"
    code = main(["run", str(path), "--out", str(out), "--no-plots", *args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert "s.yaml" in err or "--set" in err
    for needle in needles:
        assert needle in err, (needle, err)
    assert not out.exists()
    assert not list(tmp_path.glob(".out.tmp-*"))


@pytest.mark.parametrize(
    ("body", "needles"),
    [
        ("", ["trace.txt", "no data rows"]),
        ("1 2.0\n0.5 3.0\n", ["trace.txt:2", "not strictly increasing"]),
        ("1 2.0\n2 -3.0\n", ["trace.txt:2", "negative throughput"]),
        ("1 2.0\n2 nan\n", ["trace.txt:2", "NaN"]),
        ("1 0\n2 0\n", ["trace.txt", "never delivers"]),
        ("1 two\n", ["trace.txt:1", "not a number"]),
    ],
)
def test_broken_trace(body, needles, tmp_path, capsys):
    code = main(
        ["run", str(SCENARIO), "--out", str(tmp_path / "out"), *broken_trace(tmp_path, body)]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    for needle in needles:
        assert needle in err, (needle, err)
    assert not (tmp_path / "out").exists()


def test_unreadable_profile(tmp_path, capsys):
    profile = write(tmp_path, "schema: device-profile/1\nname: [unclosed\n", "dev.yaml")
    code = main(["validate", str(SCENARIO), "--set", f"devices.0.device={profile}"])
    err = capsys.readouterr().err
    assert code == 2 and "dev.yaml" in err and "malformed YAML" in err
    profile.write_text("schema: device-profile/1\nname: x\n")
    code = main(["validate", str(SCENARIO), "--set", f"devices.0.device={profile}"])
    err = capsys.readouterr().err
    assert code == 2 and "dev.yaml" in err and "required key is missing" in err
