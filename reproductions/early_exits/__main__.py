"""Run the early-exit comparison and print its claims table.

    python -m reproductions.early_exits [--out results/sweeps/early_exits] [--workers 2]
        [--duration-s 60] [--write]

Both sweeps (jetson.yaml, rpi.yaml) are run by ``sim.sweep`` into ``<out>/<board>``;
runs already stored there are skipped (resume). ``--write`` also writes
``<out>/claims.md`` and ``<out>/points.md``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from reproductions.early_exits.claims import BOARDS, HERE, claims_table, markdown, point_table, tidy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reproductions.early_exits")
    parser.add_argument("--out", type=Path, default=Path("results/sweeps/early_exits"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration-s", type=float, default=None, help="override duration_s")
    parser.add_argument("--write", action="store_true", help="write claims.md and points.md")
    args = parser.parse_args(argv)

    import sim

    summaries = {}
    for board in BOARDS:
        overrides = [f"duration_s={args.duration_s:g}"] if args.duration_s else []
        result = sim.sweep(
            HERE / f"{board}.yaml",
            overrides=overrides,
            out=args.out / board,
            workers=args.workers,
            progress=False,
        )
        if result.failed:
            print(f"{board}: {len(result.failed)} runs failed", file=sys.stderr)
            return 1
        summaries[board] = result.summary
    points = tidy(summaries)
    table = markdown(claims_table(points))
    print(table)
    if args.write:
        (args.out / "claims.md").write_text(table, encoding="utf-8")
        (args.out / "points.md").write_text(point_table(points), encoding="utf-8")
        print(f"wrote {args.out / 'claims.md'} and {args.out / 'points.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
