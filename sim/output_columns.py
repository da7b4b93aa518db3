"""The output data dictionary: every column of every file a run writes, as data.

The documentation page docs/outputs.md is rendered from these tables, and
``tests/docs/test_outputs_dictionary.py`` runs scenarios and fails when a
column they write is missing here. A new column goes here, with its unit
("" for labels and counts, "1" for fractions), its basis and which requests it
covers. The measurement window is ``[warmup_s, duration_s)`` of arrival times.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    unit: str
    meaning: str


@dataclass(frozen=True)
class TableDoc:
    file: str
    rows: str  # what one row is
    covers: str  # which requests / jobs / times it covers
    columns: dict[str, Column]
    patterns: dict[str, Column] | None = None  # columns named by a prefix and a value (name_*)

    def documents(self, column: str) -> bool:
        """Whether ``column`` is in the dictionary (by name or by a ``prefix_*`` pattern)."""
        if column in self.columns:
            return True
        return any(column.startswith(p[:-1]) for p in (self.patterns or {}))


C = Column
_T = "the request's clock time [s] of the simulation (NaN: the request never got there)"

REQUESTS = TableDoc(
    "requests.parquet",
    "one per device request, of every strategy",
    "every request simulated, warm-up and drain included (filter `t_arrival` to "
    "[warmup_s, duration_s) for the measurement window, as the summary does)",
    {
        "strategy": C("", "compared strategy the run belongs to"),
        "group": C("", "device group (devices[].name)"),
        "device": C("", "device index over the whole scenario (0-based)"),
        "variant": C("", "plan that served the request: local, offload or a variant name"),
        "kind": C("", "plan kind: local, offload or split"),
        "outcome": C(
            "",
            "terminal outcome: completed (on time), completed_late (after the deadline), "
            "dropped (a full queue) or failed",
        ),
        "reason": C(
            "",
            "why it was dropped or failed: device_queue_full, server_queue_full, "
            "transfer_failed, unfinished (still in flight drain_s after the end); empty otherwise",
        ),
        "server": C(
            "",
            "server chosen for it when its payload left the device, by the group's selection "
            "policy (empty for local plans and failed uploads)",
        ),
        "tier": C("", "that server's tier: edge or cloud (servers[].tier)"),
        "cell": C(
            "",
            "cell that carried the end of its upload ('<cell>/<station>' for stations that are "
            "cells of their own); empty when nothing was uploaded",
        ),
        "deadline_s": C("s", "the group's deadline, relative to the arrival"),
        "t_arrival": C("s", "arrival at the device: " + _T),
        "t_head_start": C("s", "head (or whole local model) starts on the device processor"),
        "t_head_end": C("s", "head compute ends"),
        "t_uplink_start": C("s", "the payload is handed to the radio (queues behind transfers)"),
        "t_tx_start": C("s", "first bit on air, after the radio's FIFO wait and promotion"),
        "t_uplink_end": C("s", "last bit received by the cell (HARQ and retries included)"),
        "t_server_arrival": C("s", "arrival at the server after the wired path"),
        "t_service_start": C("s", "its batch starts on a GPU worker"),
        "t_service_end": C("s", "its batch ends"),
        "t_done": C("s", "the result is back on the device (downlink included)"),
        "batch_size": C("", "size of the batch it was served in (-1: not served)"),
        "server_queue_len": C("", "jobs waiting at the server when it arrived (-1: not served)"),
        "payload_bytes": C("B", "uplink payload of the plan (JPEG or bottleneck tensor)"),
        "bytes_sent": C("B", "bytes put on air, retransmissions included"),
        "e_compute_j": C("J", "device compute energy above the board's idle draw"),
        "e_radio_j": C(
            "J",
            "radio energy: promotion, transfer, reception of the result and the tail up to the "
            "next transfer",
        ),
        "accuracy": C("1", "expected top-1 accuracy of the plan (or of the exit it left at)"),
        "exit": C("", "early exit the request left at (progressive plans; empty otherwise)"),
        "exit_on_device": C("", "true when that exit runs on the device"),
        "plan_accuracy": C(
            "1", "the plan's expected top-1 (progressive: sum over exits of share x accuracy)"
        ),
    },
)

_POLICY = "per device, decision policies only (NaN for fixed strategies)"

DEVICES = TableDoc(
    "devices.parquet",
    "one per device and strategy",
    "energy over the measurement window [warmup_s, end) of clock time (not of arrivals)",
    {
        "strategy": C("", "compared strategy"),
        "group": C("", "device group"),
        "device": C("", "device index over the whole scenario"),
        "index_in_group": C("", "index of the device within its group"),
        "e_board_idle_j": C("J", "the board's idle power over the window (the baseline)"),
        "e_compute_above_idle_j": C("J", "compute power above idle while computing"),
        "e_radio_idle_j": C("J", "radio idle power over the window (0 for the presets)"),
        "e_radio_promotion_j": C("J", "radio promotions"),
        "e_radio_tx_j": C("J", "radio transfers"),
        "e_radio_tail_j": C("J", "radio tails after the last transfer of a burst"),
        "e_radio_rx_j": C(
            "J", "radio receptions of results (downlink): beta + alpha_d x rate while receiving"
        ),
        "e_total_j": C("J", "whole-board energy over the window: the sum of the e_*_j parts"),
        "window_s": C("s", "length of the measurement window"),
        "board_idle_w": C("W", "the board's idle power"),
        "radio_transfers_above_range": C(
            "", "transfers faster than the radio power model's fitted range (power capped)"
        ),
        "handovers": C(
            "",
            "changes of serving base station inside the window (physical uplink with several "
            "stations; between cells with stations_as_cells), docs/concepts/handover.md",
        ),
        "policy_predicted_latency_s": C("s", "static optimum: predicted latency of its choice"),
        "policy_predicted_energy_j": C("J", "static optimum: predicted energy of its choice"),
        "policy_planned_rate_bps": C("bit/s", "static optimum: uplink rate it planned for"),
        "policy_switches": C("", "adaptive: plan changes, " + _POLICY),
        "policy_probes": C("", "requests sent remotely only to refresh estimates, " + _POLICY),
        "policy_rate_estimate_bps": C("bit/s", "final uplink throughput estimate, " + _POLICY),
        "policy_rate_samples": C("", "transfers the throughput estimate was built from"),
        "policy_server_wait_estimate_s": C("s", "final server-wait estimate, " + _POLICY),
        "policy_choices_local": C("", "requests the policy computed locally"),
        "policy_choices_offload": C("", "requests the policy offloaded"),
        "policy_choices_split": C("", "requests the policy split"),
        "policy_fallbacks": C("", "deadline_aware: requests not served by its preferred plan"),
        "policy_fallbacks_local": C("", "deadline_aware: fallbacks to local compute"),
        "policy_fallbacks_smaller": C("", "deadline_aware: fallbacks to a smaller payload"),
        "policy_predicted_misses": C("", "deadline_aware: requests no plan was predicted to save"),
    },
    {
        "policy_split_*": C("", "spinn: requests sent with the progressive split named after it"),
        "policy_threshold_*": C("", "spinn: requests sent with the exit threshold after it"),
    },
)

SERVERS = TableDoc(
    "servers.parquet",
    "one per server and strategy",
    "the measurement window of clock time; device requests and background jobs together",
    {
        "strategy": C("", "compared strategy"),
        "server": C("", "server name"),
        "tier": C("", "edge or cloud (servers[].tier)"),
        "workers": C("", "GPU workers"),
        "utilisation": C("1", "busy worker-seconds / (workers x window length)"),
        "batches": C("", "batches started in the window"),
        "dropped": C("", "jobs dropped at a full queue"),
        "e_busy_j": C("J", "energy while serving batches, P(b) from the server profile"),
        "e_idle_j": C("J", "idle power over the idle worker-seconds (a board per worker)"),
        "max_concurrent_uplinks": C("", "most uplink transfers active at once in any cell"),
    },
)

BATCHES = TableDoc(
    "batches.parquet",
    "one per GPU batch (outputs.per_batch)",
    "every batch of the run, warm-up and drain included",
    {
        "strategy": C("", "compared strategy"),
        "server": C("", "server name"),
        "worker": C("", "GPU worker index"),
        "part": C("", "model part served: <model>/full or <model>/<variant>"),
        "size": C("", "jobs in the batch"),
        "t_start": C("s", "batch start (clock time)"),
        "t_end": C("s", "batch end"),
        "energy_j": C("J", "server energy of the batch, P(b) x S(b)"),
    },
)

BACKGROUND = TableDoc(
    "background.parquet",
    "one per background tenant job (outputs.background; written when there is any)",
    "every background job of the run",
    {
        "strategy": C("", "compared strategy (the same tenant arrivals in every strategy)"),
        "server": C("", "server name"),
        "part": C("", "model part of the job"),
        "outcome": C("", "completed, dropped (full queue) or failed (unfinished at the end)"),
        "t_arrival": C("s", "arrival at the server"),
        "t_service_start": C("s", "its batch starts"),
        "t_service_end": C("s", "its batch ends"),
        "batch_size": C("", "size of its batch"),
    },
)

STAGES = TableDoc(
    "stages.parquet",
    "one per strategy",
    "requests that finished (completed or completed_late), all arrivals; a stage a request "
    "skipped counts 0",
    {
        "strategy": C("", "compared strategy"),
        "head": C("s", "mean t_head_end - t_arrival: waiting for the processor plus head compute"),
        "uplink": C("s", "mean t_uplink_end - t_head_end: radio queue, promotion, time on air"),
        "network": C("s", "mean t_server_arrival - t_uplink_end: wired path"),
        "server_queue": C("s", "mean t_service_start - t_server_arrival: queue and batching"),
        "service": C("s", "mean t_service_end - t_service_start: GPU batch"),
        "downlink": C("s", "mean t_done - t_service_end: wired path back and downlink"),
    },
)

_W = "requests arriving in the measurement window [warmup_s, duration_s)"
_F = "finished requests (completed or completed_late) arriving in the window"
_PER = "per finished inference"

SUMMARY = TableDoc(
    "summary.parquet",
    "one per strategy (also summary.csv and summary.json's summary list; the CLI table)",
    _W,
    {
        "strategy": C("", "compared strategy"),
        "requests": C("", f"{_W} (the CLI's reqs)"),
        "completed": C("", "of those, finished by their deadline"),
        "completed_late": C("", "finished after their deadline"),
        "dropped": C("", "dropped at a full device or server queue"),
        "failed": C("", "failed transfers or unfinished at the end of the drain"),
        "throughput_rps": C("1/s", f"{_F} per second of window: late results count"),
        "latency_mean_s": C("s", f"mean t_done - t_arrival over {_F}"),
        "latency_mean_ci95_s": C("s", "half-width of its 95 % batch-means interval (10 batches)"),
        "latency_p50_s": C("s", f"median latency over {_F}"),
        "latency_p95_s": C("s", "95th percentile latency, same requests"),
        "latency_p99_s": C("s", "99th percentile latency, same requests"),
        "deadline_miss_rate": C("1", "1 - completed / requests: late, dropped and failed"),
        "deadline_miss_rate_ci95_low": C("1", "lower end of its 95 % interval (batch clusters)"),
        "deadline_miss_rate_ci95_high": C("1", "upper end of its 95 % interval"),
        "inferences": C("", f"{_F} (the divisor of every per-inference energy)"),
        "energy_whole_board_per_inference_j": C(
            "J",
            "device energy on the whole-board basis: request energies plus every device's idle "
            f"draw over the window, {_PER} (CLI: J/inf board)",
        ),
        "energy_above_idle_per_inference_j": C(
            "J",
            "device energy above the board's idle draw (compute above idle + radio) of every "
            f"request in the window, {_PER} (CLI: J/inf >idle)",
        ),
        "energy_above_idle_compute_per_inference_j": C("J", f"its compute part, {_PER}"),
        "energy_above_idle_radio_per_inference_j": C("J", f"its radio part, {_PER}"),
        "energy_whole_board_metered_per_inference_j": C(
            "J", f"devices.parquet's e_total_j summed over devices, {_PER} (metered over time)"
        ),
        "device_power_whole_board_w": C("W", "mean board power per device over the window"),
        "device_power_above_idle_w": C("W", "mean power above the board's idle draw per device"),
        "accuracy": C("1", f"mean expected top-1 accuracy of {_F}"),
        "accuracy_expected": C("1", f"mean plan_accuracy of {_F} (no exit-draw noise)"),
        "exit_share_device": C("1", "share of requests answered at a device exit (progressive)"),
        "exit_share_server_early": C("1", "share that left at a server exit before the final"),
        "on_time_accuracy": C("1", "sum of the accuracy of on-time requests / requests"),
        "server_utilisation": C("1", "worker-weighted mean of servers.parquet's utilisation"),
        "mean_batch_size": C("", "mean size of the batches started in the window"),
        "uplink_bytes_per_request": C("B", f"mean bytes_sent over {_W}"),
    },
)

LINKS = TableDoc(
    "links.parquet",
    "one per backhaul link direction used and strategy (written when the network has links)",
    "the measurement window of clock time; a transmission straddling an edge counted pro rata "
    "(docs/concepts/backhaul_downlink.md)",
    {
        "strategy": C("", "compared strategy"),
        "link_from": C("", "node the direction leaves from"),
        "link_to": C("", "node it goes to"),
        "capacity_bps": C("bit/s", "the link's rate (network.links[].capacity_bps)"),
        "latency_s": C("s", "the link's one-way latency"),
        "queueing": C("", "whether the direction is a FIFO queue of bits"),
        "payloads": C("", "payloads whose transmission started inside the window"),
        "bits": C("bit", "bits on the wire inside the window"),
        "busy_s": C("s", "transmission time inside the window (summed over payloads)"),
        "utilisation": C(
            "1",
            "busy_s / window: the busy fraction (<= 1) of a queueing link; for a link that does "
            "not queue the offered load, which may exceed 1 (then its delays are too low)",
        ),
        "mean_wait_s": C("s", "mean FIFO wait of those payloads (NaN: none)"),
        "max_wait_s": C("s", "longest FIFO wait of those payloads (NaN: none)"),
    },
)

TABLES: tuple[TableDoc, ...] = (
    REQUESTS,
    DEVICES,
    SERVERS,
    LINKS,
    BATCHES,
    BACKGROUND,
    STAGES,
    SUMMARY,
)

SUMMARY_JSON: dict[str, Column] = {
    "scenario": C("", "scenario name"),
    "status": C("", "complete, or interrupted (Ctrl-C: the tables cover the time reached)"),
    "seed": C("", "run seed"),
    "strategies": C("", "strategies run, in order"),
    "written_at": C("", "UTC time the folder was written (ISO 8601)"),
    "simulator_version": C("", "splitsim version (python -m sim --version)"),
    "results_revision": C("", "revision of the numbers the simulator produces"),
    "git_commit": C("", "commit of the source checkout (null outside git)"),
    "git_dirty": C("", "true when the checkout had uncommitted changes"),
    "scenario_hash": C("", "hash of the resolved scenario (the key sweeps store runs by)"),
    "simulated_time_s": C("s", "simulated clock time reached (drain included)"),
    "wall_s": C("s", "wall time of simulating every strategy (not writing the outputs)"),
    "requests_simulated": C("", "every device request of every strategy, warm-up and drain"),
    "requests_in_window": C("", "the summary's requests summed over strategies"),
    "notes": C("", "remarks about the run (e.g. nothing arrived in the window)"),
    "energy_bases": C("", "the two energy bases of the summary and their definitions"),
    "host": C("", "machine name"),
    "python": C("", "Python version"),
    "summary": C("", "the summary table, one object per strategy (columns as above)"),
    "files": C("", "every file the run wrote in the folder"),
}
"""Top-level keys of summary.json."""


def readable_metric(column: str) -> str:
    """An axis label for a summary column: ``latency_mean_s`` -> ``latency mean [s]``."""
    doc = SUMMARY.columns.get(column)
    name = column
    for suffix in ("_s", "_j", "_w", "_rps"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    unit = doc.unit if doc is not None else ""
    return f"{name.replace('_', ' ')} [{unit}]" if unit else name.replace("_", " ")


def table_doc(file: str) -> TableDoc:
    """The dictionary entry of ``file`` (e.g. ``requests.parquet``)."""
    for table in TABLES:
        if table.file == file:
            return table
    raise KeyError(file)


def markdown() -> str:
    """The dictionary as Markdown (docs/outputs.md includes it)."""
    out = []
    for table in TABLES:
        out.append(f"## `{table.file}`\n")
        out.append(f"**Rows:** {table.rows}. **Covers:** {table.covers}.\n")
        out.append("| column | unit | meaning |\n|---|---|---|")
        for name, col in {**table.columns, **(table.patterns or {})}.items():
            out.append(f"| `{name}` | {col.unit} | {col.meaning} |")
        out.append("")
    out.append("## `summary.json`\n")
    out.append("| key | unit | meaning |\n|---|---|---|")
    for name, col in SUMMARY_JSON.items():
        out.append(f"| `{name}` | {col.unit} | {col.meaning} |")
    return "\n".join(out) + "\n"
