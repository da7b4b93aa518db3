"""Examples for the scenario reference where no shipped scenario sets a key (data only).

Keys are normalised dotted paths (list indices and item names left out); ``|kind``
limits an example to the mapping of that kind. :mod:`sim.schema_doc` takes the
first value a shipped scenario sets, and these only for keys none sets.
"""

from __future__ import annotations

from typing import Any

EXTRA_EXAMPLES: dict[str, Any] = {
    "drain_s": 5.0,
    "strategies.variant|split": "bottlefit_c6",
    "strategies.energy_budget_j": 0.5,
    "strategies.candidates": ["local", "offload", "bottlefit"],
    "strategies.mean_rate_bps": 5.0e6,
    "strategies.server_wait_s": 0.01,
    "strategies.initial_rate_bps": 2.0e6,
    "strategies.preferred": "bottlefit_c12",
    "strategies.fallbacks": ["bottlefit_c3", "local"],
    "devices.workload.rate_hz|poisson": 2.0,
    "devices.workload.on_rate_hz|on_off": 10.0,
    "devices.workload.off_rate_hz|on_off": 0.5,
    "devices.workload.mean_on_s|on_off": 2.0,
    "devices.workload.mean_off_s|on_off": 8.0,
    "devices.workload.times_s|timestamps": [0.0, 0.1, 0.5, 2.0],
    "devices.server": "gpu0",
    "devices.accuracy": {"bottlefit_c6": 0.74},
    "cells.radio.promotion_w": 1.211,
    "cells.radio.promotion_s": 0.26,
    "cells.radio.tx_base_w": 1.288,
    "cells.radio.tx_w_per_mbps": 0.438,
    "cells.radio.tail_w": 1.06,
    "cells.radio.tail_s": 11.6,
    "cells.radio.fitted_max_mbps": 10.0,
    "cells.uplink.times_s|series": [0.0, 5.0],
    "cells.uplink.rates_bps|series": [20.0e6, 0.5e6],
    "cells.uplink.period_s|series": 8.0,
    "cells.uplink.rate_column|trace": "Verizon_throughput_mbps",
    "cells.uplink.select|trace": {"carrier": "VERIZON", "run_num": 81},
    "cells.uplink.step_s|markov": 0.5,
    "cells.uplink.step_s|gilbert_elliott": 0.01,
    "cells.uplink.position_m|physical": [120.0, 40.0],
    "cells.uplink.base_stations.node": "site_b",
    "cells.uplink.mobility.speed_mps|straight_line": 8.33,
    "cells.uplink.mobility.heading_deg|straight_line": 90.0,
    "cells.uplink.mobility.area_m": {"x_m": [-300.0, 300.0], "y_m": [-300.0, 300.0]},
    "cells.uplink.mobility.area_m.x_m": [-300.0, 300.0],
    "cells.uplink.mobility.area_m.y_m": [-300.0, 300.0],
    "cells.uplink.mobility.speed_mps|random_waypoint": [1.0, 15.0],
    "cells.uplink.fading.rician_k_db": 9.0,
    "cells.uplink.fading.block_s": 0.02,
    "cells.uplink.link.prbs": 50,
    "cells.uplink.link.overhead": 0.25,
    "cells.uplink.link.power_control": {"p0_dbm": -90.0, "alpha": 0.8},
    "cells.errors.p|gilbert_elliott": 0.01,
    "cells.errors.r|gilbert_elliott": 0.3,
    "cells.retry.attempt_timeout_s": 1.0,
    "sweep": {"grid": {"devices.pi.count": [10, 20, 30]}, "replications": 5},
    "sweep.grid": {"devices.pi.workload.fps": [1, 2, 5]},
    "sweep.zip": [{"devices.pi.deadline_s": [1.0, 0.4], "devices.pi.max_pending": [5, 3]}],
    "sweep.random": {
        "samples": 20,
        "params": {"devices.pi.count": {"kind": "integers", "low": 5, "high": 40}},
    },
    "sweep.random.samples": 20,
    "sweep.random.seed": 3,
    "sweep.random.params": {
        "servers.gpu0.background.0.rate_hz": {"kind": "loguniform", "low": 100, "high": 5000}
    },
    "sweep.random.params.kind": "loguniform",
    "sweep.random.params.low": 100,
    "sweep.random.params.high": 5000,
    "sweep.random.params.values": ["lte", "wifi"],
    "sweep.seeds": [11, 12, 13],
    "sweep.seed": 7,
    "sweep.strategies": ["local", "bottlefit_c12"],
    "profile_path": ["my_board"],
    "outputs.channel_plot.device": 3,
    "outputs.channel_plot.start_s": 20.0,
    "strategies.splits": ["layer2", "layer3"],
    "strategies.thresholds": [0.6, 0.8, 0.9],
    "devices.exits.file|replay": "confidences.csv",
}
"""Examples for keys that no shipped scenario sets (``|kind``: inside a mapping of that kind)."""
