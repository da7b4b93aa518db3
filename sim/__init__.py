"""splitsim: a discrete-event simulator of split computing over wireless links.

import sim
scenario = sim.load("scenarios/congested_lte.yaml", overrides=["duration_s=60"])
results = sim.run(scenario)
results.summary            # one row per strategy
results.requests           # one row per request
results.write("out/run1")  # Parquet, summary.json, plots
"""

from sim.api import run
from sim.errors import SimInputError
from sim.results import Results
from sim.scenario.load import Scenario, load, loads

__all__ = ["Results", "Scenario", "SimInputError", "load", "loads", "run"]
__version__ = "0.1.0"
