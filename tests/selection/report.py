"""Print the selection validation figures quoted in docs/choosing_a_server.md and the
closing note: ``python -m tests.selection.report`` (about a minute on one core)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from sim.stats import t_interval
from tests.selection.farm import farm_data, instant_profile, run_farm, service_s
from tests.selection.test_supermarket import SEEDS, N, supermarket_s, supermarket_t


def _row(label, runs, t_theory, s_theory):
    t = t_interval([r["T"] for r in runs])
    s = [t_interval([r["s"][i] for r in runs])["mean"] for i in range(4)]
    print(
        f"| {label} | {t['mean']:.3f} ± {t['half_width']:.3f} | {t_theory:.3f} | "
        + " / ".join(f"{v:.3f}" for v in s)
        + " | "
        + " / ".join(f"{v:.3f}" for v in s_theory)
        + " |"
    )


def main() -> None:
    unit = service_s()
    profile = instant_profile(Path(tempfile.mkdtemp()))

    def farm(policy, load, seed, d=None, report=0.0, units=300.0):
        data = farm_data(
            N,
            load,
            policy,
            d=d,
            report_units=report,
            service_s=unit,
            duration_units=units,
            seed=seed,
            profile=profile,
        )
        return run_farm(data)

    print(f"N = {N} servers, seeds {SEEDS}, 300 mean service times (power of 2: 600; 10 % warm-up)")
    print("| policy, load | T [S] (95 % CI) | theory | s_1..s_4 | theory |")
    print("|---|---|---|---|---|")
    _row(
        "random, 0.7",
        [farm("random", 0.7, s) for s in SEEDS],
        1 / 0.3,
        [0.7**i for i in range(1, 5)],
    )
    _row(
        "power of 2, 0.9",
        [farm("power_of_d", 0.9, s, d=2, units=600.0) for s in SEEDS],
        supermarket_t(0.9, 2),
        [supermarket_s(0.9, 2, i) for i in range(1, 5)],
    )
    _row("JSQ, 0.9", [farm("jsq", 0.9, s) for s in SEEDS], float("nan"), [np.nan] * 4)
    print("\nstale board, load 0.9, mean T [S] over seeds 1, 2")
    print("| policy | P = 0 | P = 2 | P = 8 |\n|---|---|---|---|")
    for policy, d in (("jsq", None), ("power_of_d", 2)):
        cells = [
            np.mean([farm(policy, 0.9, s, d=d, report=p)["T"] for s in SEEDS[:2]])
            for p in (0.0, 2.0, 8.0)
        ]
        print(f"| {policy} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")


if __name__ == "__main__":
    main()
