"""splitsim: a discrete-event simulator of split computing over wireless links.

import sim
scenario = sim.load("scenarios/congested_lte.yaml", overrides=["duration_s=60"])
results = sim.run(scenario)
results.summary            # one row per strategy
results.requests           # one row per request
results.write("out/run1")  # Parquet, summary.json, plots
sim.sweep(scenario, grid={"devices.pi.count": [10, 30]}, replications=5).aggregate()
"""

from sim import sweep  # the package, callable: sim.sweep(scenario, grid=...)
from sim.api import run
from sim import provenance as _provenance
from sim.errors import SimInputError
from sim.results import Results
from sim.scenario.load import Scenario, load, loads

__all__ = ["Results", "Scenario", "SimInputError", "load", "loads", "run", "sweep"]
__version__ = _provenance.version()
