"""The scenario reference: every key described, with a unit where it has a dimension."""

from __future__ import annotations

import json

import pytest

from sim.cli import main
from sim.schema_doc import json_schema, lookup, missing_documentation, reference, unit_of
from sim.yamlio import read_yaml
from tests.conftest import REPO


def test_every_key_has_a_description_and_every_number_a_unit():
    problems = missing_documentation()
    assert problems == [], (
        "describe these keys with Field(description=...) in their schema model; numbers whose "
        "key has no unit suffix end their description with '[unit]' ('[1]': dimensionless):\n"
        + "\n".join(problems)
    )


def test_units_come_from_suffixes_and_brackets():
    assert unit_of("duration_s", "") == "s"
    assert unit_of("carrier_ghz", "") == "GHz"
    assert unit_of("pf_mean_snr_db", "") == "dB"
    assert unit_of("tx_w_per_mbps", "") == "W/(Mbit/s)"
    assert unit_of("scale", "factor [1]") == "1"
    assert unit_of("count", "devices") is None


def test_reference_covers_nested_kinds_with_examples():
    paths = {(d.path, d.variant) for d in reference()}
    assert ("cells[].uplink.scale", "uplink.kind: trace") in paths
    assert ("cells[].uplink.mobility.area_m.x_m", None) in paths
    assert ("devices[].workload.fps", "workload.kind: periodic") in paths
    missing = [
        d.path for d in reference() if d.example is None and not d.description.startswith("removed")
    ]
    assert missing == [], f"add an example to EXTRA_EXAMPLES in sim/schema_doc.py: {missing}"
    (fps,) = [d for d in lookup("devices.0.workload.fps")]
    assert fps.unit == "1/s" and fps.required and fps.range == "> 0"


def test_cli_prints_one_key_and_refuses_unknown(capsys):
    assert main(["schema", "cells.uplink.scale"]) == 0
    out = capsys.readouterr().out
    assert "cells[].uplink.scale" in out and "unit: 1" in out and "default: 1" in out
    assert main(["schema", "no_such_key"]) == 2
    assert "unknown scenario key" in capsys.readouterr().err


def test_json_schema_accepts_every_shipped_scenario(tmp_path, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    target = tmp_path / "splitsim.schema.json"
    assert main(["schema", "--json", str(target)]) == 0
    assert "yaml-language-server: $schema=" in capsys.readouterr().out
    schema = json.loads(target.read_text())
    assert schema == json.loads(json.dumps(json_schema()))
    validator = jsonschema.Draft202012Validator(schema)
    for path in sorted((REPO / "scenarios").glob("*.yaml")):
        # the project's reader: YAML 1.2 numbers (10.0e6), as editors read them
        errors = list(validator.iter_errors(read_yaml(path).data))
        assert not errors, f"{path.name}: {errors[0].message} at {list(errors[0].path)}"
    bad = read_yaml(REPO / "scenarios" / "congested_lte.yaml").data
    bad["duration_s"] = -1
    assert list(validator.iter_errors(bad))
