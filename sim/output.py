"""Writing a run's output folder atomically: records, summary, resolved scenario, plots.

Everything is written into a hidden temporary folder next to the target and
renamed into place at the end, so a crash or Ctrl-C leaves either no output
folder or a complete one (whose summary says whether the run was interrupted).

The tool never deletes what it did not write: an existing target is replaced
only when it is empty or holds a run's output (the ``.splitsim-output`` marker
lists every file the tool wrote there, and nothing else is in the folder).
Anything else (a user's folder, a file, ``.``, ``/``, a symbolic link) is
refused with a :class:`~sim.errors.SimInputError` before the run starts, and
nothing is moved. New folders get the user's umask.
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import SimInputError
from sim.exits.records import exit_report
from sim.metrics import ENERGY_BASES
from sim.output_target import MARKER, check_output_target, marker_files
from sim.yamlio import dump_yaml

MARKER_FORMAT = "splitsim-run-output/1"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    return value


def provenance_report(results) -> dict[str, Any]:
    """Which profiles, plans and service models were used, and where their numbers came from."""
    scenario = results.scenario
    groups = {}
    for group in scenario.groups:
        plans = {}
        for label in results.strategies:
            factory = scenario.factory(group.spec.name, label)
            plans[label] = [
                {
                    "plan": p.name,
                    "kind": p.kind,
                    "device_s": p.device_s,
                    "device_w": p.device_w,
                    "device_provenance": p.device_provenance,
                    "payload_bytes": p.payload_bytes,
                    "server_part": p.server.key if p.server else None,
                    "accuracy": p.accuracy,
                    **exit_report(p),
                }
                for p in factory.plans
            ]
        groups[group.spec.name] = {
            "device_profile": group.device.name,
            "device_display_name": group.device.display_name,
            "model_profile": group.model.name,
            "model_blocks_provenance": group.model.blocks_provenance.provenance,
            "plans": plans,
        }
    services = [
        {
            "server": server,
            "part": part,
            "provenance": model.provenance,
            "source": model.source,
            "fixed_s": model.time_fit.fixed_s,
            "per_item_s": model.time_fit.per_item_s,
            "knee_batch": model.time_fit.knee_batch,
            "scale": model.scale,
        }
        for (server, part), model in scenario.service_models.items()
    ]
    return {"groups": groups, "service_models": services}


def run_provenance(results) -> dict[str, Any]:
    """Simulator version, results revision, git commit (dirty flag) and the resolved
    scenario's hash (:func:`sim.sweep.identity.scenario_key`, the key sweeps store runs by)."""
    from sim.provenance import provenance
    from sim.sweep.identity import scenario_key

    return {
        **provenance(),
        "scenario_hash": scenario_key(results.scenario, results.strategies),
    }


def resolved_scenario(results, run_info: dict[str, Any] | None = None) -> dict[str, Any]:
    scenario = results.scenario
    spec = scenario.spec.model_dump(mode="json", by_alias=True)
    spec["seed"] = results.seed
    return {
        **spec,
        "resolved": {
            "source_file": str(scenario.path) if scenario.path else None,
            "strategies": scenario.strategy_labels,
            "provenance": run_info if run_info is not None else run_provenance(results),
            **provenance_report(results),
        },
    }


def _write_frame(frame: pd.DataFrame, folder: Path, name: str, csv: bool) -> list[str]:
    written = []
    frame.to_parquet(folder / f"{name}.parquet", index=False)
    written.append(f"{name}.parquet")
    if csv:
        frame.to_csv(folder / f"{name}.csv", index=False)
        written.append(f"{name}.csv")
    return written


def write_results(
    results, out_dir: str | Path, *, csv: bool | None = None, plots: bool | None = None
) -> Path:
    """Write everything about ``results`` to ``out_dir``; returns the folder.

    Refuses (SimInputError, nothing changed) a target the tool may not replace:
    see :func:`sim.output_target.check_output_target`.
    """
    out_dir = check_output_target(out_dir)
    outputs = results.scenario.spec.outputs
    csv = outputs.csv if csv is None else csv
    plots = outputs.plots if plots is None else plots
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = out_dir.parent / f".{out_dir.name}.tmp-{uuid.uuid4().hex[:12]}"
        tmp.mkdir(mode=0o777)  # mode & ~umask, like any folder the user makes
    except OSError as exc:
        raise SimInputError(
            f"cannot create the output folder: {exc.strerror}", file=out_dir
        ) from None
    try:
        files: list[str] = []
        streamed = any(r.streamed for r in results.runs.values())
        if streamed:  # records on disk: read back and written a row group at a time
            from sim.record_summary import write_streamed_records

            files += write_streamed_records(results, tmp, csv)
        else:
            files += _write_frame(results.requests, tmp, "requests", csv)
        files += _write_frame(results.devices, tmp, "devices", csv)
        files += _write_frame(results.servers, tmp, "servers", csv)
        if len(results.links):
            files += _write_frame(results.links, tmp, "links", csv)
        if outputs.per_batch:
            files += _write_frame(results.batches, tmp, "batches", csv)
        if outputs.background and len(results.background):
            files += _write_frame(results.background, tmp, "background", csv)
        summary = results.summary
        files += _write_frame(summary, tmp, "summary", True)
        files += _write_frame(results.stages, tmp, "stages", csv)
        run_info = run_provenance(results)  # version, revision, commit, scenario hash
        (tmp / "scenario.resolved.yaml").write_text(dump_yaml(resolved_scenario(results, run_info)))
        files.append("scenario.resolved.yaml")
        measured = int(summary["requests"].sum()) if "requests" in summary else 0
        notes = []
        if measured == 0:
            notes.append("no request arrived inside the measurement window")
        if plots and streamed:
            notes.append("plots skipped: records streamed to disk (outputs.stream_records)")
        elif plots and measured:
            from sim.report.plots import write_plots

            files += [f"plots/{name}" for name in write_plots(results, tmp / "plots")]
        elif plots:
            notes.append("plots skipped: nothing to plot")
        sim_time = max((r.end_s for r in results.runs.values()), default=0.0)
        identity = {
            "scenario": results.scenario.name,
            "status": "interrupted" if results.interrupted else "complete",
            "seed": results.seed,
            "strategies": results.strategies,
            "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
            **run_info,
        }
        meta = {
            **identity,
            "simulated_time_s": sim_time,
            "wall_s": results.wall_s,
            "requests_simulated": sum(r.n_requests for r in results.runs.values()),
            "requests_in_window": measured,
            "notes": notes,
            "host": platform.node(),
            "python": platform.python_version(),
            "energy_bases": ENERGY_BASES,  # what energy_whole_board_* / energy_above_idle_* mean
            "summary": summary.to_dict(orient="records"),
            "files": sorted([*files, "summary.json", MARKER]),
        }
        (tmp / "summary.json").write_text(json.dumps(_jsonable(meta), indent=2) + "\n")
        from sim.sweep.identity import run_id, scenario_key

        key = scenario_key(results.scenario, results.strategies)
        marker = {
            "format": MARKER_FORMAT,
            **identity,
            "scenario_key": key,  # as a sweep stores runs: same key and seed, same records
            "run_id": run_id(key, results.seed),
            "files": meta["files"],
        }
        (tmp / MARKER).write_text(json.dumps(_jsonable(marker), indent=2) + "\n")
        _replace_dir(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir


def _replace_dir(tmp: Path, out_dir: Path) -> None:
    """Move ``tmp`` to ``out_dir``, replacing an old output folder only once the new one is
    complete (and only one the tool wrote: checked again here, just before)."""
    check_output_target(out_dir)
    if out_dir.is_dir() and not any(out_dir.iterdir()):
        os.replace(tmp, out_dir)  # rename(2) replaces an empty folder atomically
        return
    if not out_dir.exists():
        os.replace(tmp, out_dir)
        return
    trash = out_dir.with_name(f".{out_dir.name}.old-{uuid.uuid4().hex[:12]}")
    os.replace(out_dir, trash)
    try:
        os.replace(tmp, out_dir)
    except BaseException:
        os.replace(trash, out_dir)  # put the old output back
        raise
    shutil.rmtree(trash, ignore_errors=True)


__all__ = ["MARKER", "check_output_target", "marker_files", "write_results"]
