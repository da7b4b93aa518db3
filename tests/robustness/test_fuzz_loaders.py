"""Fuzzing: the scenario loader and the trace loaders with arbitrary input.

Whatever the input, nothing escapes but the project's own SimInputError (or success).
"""

from __future__ import annotations

import copy
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.channel.traces import load_csv, load_mahimahi, load_time_mbps
from sim.errors import SimInputError
from sim.scenario.load import build_scenario
from sim.yamlio import dump_yaml, parse_yaml_text
from tests.conftest import REPO, toy_spec

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=8), children, max_size=4),
    ),
    max_leaves=12,
)


def _paths(node, prefix=()):
    """Every (path) to a value inside a nested dict/list."""
    yield prefix
    if isinstance(node, dict):
        for key, child in node.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _paths(child, (*prefix, i))


BASE = toy_spec()
PATHS = [p for p in _paths(BASE) if p]


def _mutate(data, path, value, mode):
    data = copy.deepcopy(data)
    node = data
    for part in path[:-1]:
        node = node[part]
    last = path[-1]
    if mode == "replace":
        node[last] = value
    elif mode == "delete":
        if isinstance(node, dict):
            del node[last]
        else:
            node.pop(last)
    elif isinstance(node, dict):  # add an extra key next to it
        node[f"{last}_x"] = value
    return data


def _only_our_error(call):
    try:
        call()
    except SimInputError as exc:
        text = str(exc)
        assert text and "\n" not in text
    except RecursionError:
        raise AssertionError("recursion escaped") from None


@FUZZ
@given(st.sampled_from(PATHS), values, st.sampled_from(["replace", "delete", "add"]))
def test_structured_mutations_of_a_valid_scenario(path, value, mode):
    data = _mutate(BASE, path, value, mode)
    _only_our_error(lambda: build_scenario(data, REPO / "tests" / "fuzz.yaml"))


@FUZZ
@given(values)
def test_arbitrary_yaml_documents(value):
    text = dump_yaml(value) if not (isinstance(value, float) and math.isnan(value)) else ".nan"
    _only_our_error(lambda: sim.loads(text))


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_as_yaml(text):
    _only_our_error(lambda: sim.loads(text))
    _only_our_error(lambda: parse_yaml_text(text))


@FUZZ
@given(st.binary(max_size=400))
def test_trace_loaders_with_arbitrary_bytes(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("fuzz") / "trace.txt"
    path.write_bytes(blob)
    _only_our_error(lambda: load_time_mbps(path))
    _only_our_error(lambda: load_mahimahi(path))
    _only_our_error(lambda: load_csv(path, time_column="t", rate_column="r", rate_unit="Mbps"))


numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-5, 10**6))


@FUZZ
@given(st.lists(st.tuples(numbers, numbers), max_size=30))
def test_trace_loaders_with_numeric_rows(tmp_path_factory, rows):
    folder = tmp_path_factory.mktemp("rows")
    two = folder / "two.txt"
    two.write_text("".join(f"{a} {b}\n" for a, b in rows))
    _only_our_error(lambda: load_time_mbps(two))
    mm = folder / "mm.txt"
    mm.write_text("".join(f"{a}\n" for a, _ in rows))
    _only_our_error(lambda: load_mahimahi(mm))
    csv = folder / "t.csv"
    csv.write_text("t,r\n" + "".join(f"{a},{b}\n" for a, b in rows))
    _only_our_error(lambda: load_csv(csv, time_column="t", rate_column="r", rate_unit="kbps"))
