"""Server selection left today's placements alone: a group with a fixed server or the
default nearest gives the same records as the code without selection.

Before/after: the digests below were first taken from runs of commit 55c8562 (before
issue 17) and the selection code reproduced them bit for bit (commits 2050989 to
9bb0c66). Commit 4cbfed9 (issue 17's backhaul queues and shared downlink, by design)
moved the numbers of both cases; the digests were re-taken there (at 633b72c, the
selection code unchanged). A change that moves these numbers on purpose updates the
digests and the results revision (sim/provenance.py) together; the equivalences below
hold whatever the numbers are.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim
from tests.conftest import REPO

HERE = Path(__file__).parent
COLUMNS = [
    "accuracy",
    "batch_size",
    "bytes_sent",
    "deadline_s",
    "device",
    "e_compute_j",
    "e_radio_j",
    "group",
    "kind",
    "outcome",
    "payload_bytes",
    "reason",
    "server",
    "server_queue_len",
    "strategy",
    "t_arrival",
    "t_done",
    "t_head_end",
    "t_head_start",
    "t_server_arrival",
    "t_service_end",
    "t_service_start",
    "t_tx_start",
    "t_uplink_end",
    "t_uplink_start",
    "variant",
]

CASES = {
    # two servers, a shared cell: one group on the nearest, one fixed on the farther server
    "two_servers": (HERE / "two_servers.yaml", [], 860),
    # one server, dedicated Markov links, adaptive policies
    "policy_erratic": (REPO / "scenarios" / "policy_erratic.yaml", ["duration_s=12"], 1344),
}
BASE_DIGESTS = {"two_servers": "67e63bff2e1c4f6f", "policy_erratic": "5dcd4062b2056cb9"}


def _digest(frame: pd.DataFrame, columns) -> str:
    """Values only (dtypes may differ across versions): numbers as float64, labels as text."""
    h = hashlib.sha256()
    for c in sorted(columns):
        col = frame[c]
        h.update(c.encode())
        if pd.api.types.is_numeric_dtype(col.dtype) and not isinstance(
            col.dtype, pd.CategoricalDtype
        ):
            h.update(np.ascontiguousarray(col.to_numpy(dtype=np.float64)).tobytes())
        else:
            h.update("\x1f".join("" if pd.isna(v) else str(v) for v in col.tolist()).encode())
    return h.hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(CASES))
def test_fixed_and_nearest_records_unchanged(name, tmp_path):
    path, overrides, rows = CASES[name]
    results = sim.run(sim.load(path, overrides))
    results.requests.to_parquet(tmp_path / "requests.parquet")
    frame = pd.read_parquet(tmp_path / "requests.parquet")
    assert len(frame) == rows
    assert _digest(frame, COLUMNS) == BASE_DIGESTS[name]


def test_nearest_and_fixed_spellings_give_the_same_records():
    """The default, an explicit nearest, a fixed server by either spelling, and a
    candidate list whose nearest is that server: one placement, the same records."""
    base = sim.run(sim.load(HERE / "two_servers.yaml")).requests
    for overrides in (
        ["devices.nano.selection.policy=nearest"],
        ["devices.nano.server=gpu0"],
        ["devices.nano.selection.policy=fixed", "devices.nano.selection.server=gpu0"],
        ["devices.nano.selection.policy=nearest", "devices.nano.selection.servers=[gpu1, gpu0]"],
    ):
        other = sim.run(sim.load(HERE / "two_servers.yaml", overrides)).requests
        pd.testing.assert_frame_equal(other, base, check_exact=True)
