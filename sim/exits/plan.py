"""Progressive split inference as a plan: ``progressive_<block>[_<dtype>]_t<threshold>``.

The device runs the backbone up to ``<block>``, evaluating the exit heads it
meets on the way (the model profile's ``exits`` after blocks up to and
including ``<block>``); a sample whose confidence at one of them reaches the
threshold is answered there, on the device (no transfer, no radio). The
others send the split tensor (``dtype``: fp32, fp16 or uint8, default uint8,
as SPINN quantises) and the server runs the tail, where the remaining exits
may let the sample go earlier.

``progressive_input_t<c>`` is the server-only case (the JPEG is sent as in
offload, every exit runs on the server) and ``progressive_device_t<c>`` the
device-only case (every exit and the final run on the device, as local).

Server-side exits inside a batch: the batch runs until every sample in it has
exited. A sample leaving at server exit k is answered when the batch reaches
that exit, at start + S(b) x X x f_k, f_k the share of the tail's MACs up to
exit k's block; the batch frees the GPU at start + S(b) x X x max_i f_i, so
S(b) is scaled by the deepest sample's fraction (1 as soon as one sample
needs the final classifier, which for b samples has probability
1 - (1 - final share)^b). The server-side heads' own MACs are not charged
(0.02-0.4 % of a tail's MACs for the shipped heads).

A threshold of 1 or more disables the heads (a scheduler that expects no exit
does not run them): the plan is then the plain split at the same block, time
for time. Device time of a head: the device profile's ``parts_s['<exit>.head']``
if measured, else its cost model (MACs / throughput + per-block overhead).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from pathlib import Path

from sim.errors import SimInputError, list_choices
from sim.exits.behaviour import ExitBehaviour
from sim.exits.source import ExitSource, behaviour_for
from sim.plan_parts import (
    Plan,
    PlanKind,
    ServerPart,
    device_block_s,
    device_power_w,
    worst_provenance,
)
from sim.profiles.schema import DTYPE_BYTES, QUANT_OVERHEAD_BYTES, DeviceProfile, ModelProfile

PREFIX = "progressive_"
_THRESHOLD = re.compile(r"^(?P<rest>.+)_t(?P<thr>[0-9]*\.?[0-9]+)$")


@dataclass(frozen=True, slots=True)
class ExitDecision:
    """Where one request leaves: ``index`` (n = final), on the device or not."""

    index: int
    on_device: bool
    device_s: float  # device compute up to and including the exit's head [s] (device exits)
    work_fraction: float  # share of the server's tail work the request needs (1 = all)
    accuracy: float


@dataclass(frozen=True)
class ExitPlan:
    """The exits of a progressive plan, in order; device exits come first."""

    threshold: float
    names: tuple[str, ...]
    on_device: tuple[bool, ...]
    device_s: tuple[float, ...]  # device exits: compute up to the head, inclusive [s]; else nan
    work_fraction: tuple[float, ...]  # server exits: share of the tail's MACs; device exits 0
    behaviour: ExitBehaviour
    sent_device_s: float  # compute of a request that is sent [s]
    final_on_device: bool = False  # device-only plans: the final classifier runs there too

    @property
    def active(self) -> bool:
        return self.threshold < 1.0 and len(self.names) > 0

    @property
    def label(self) -> str:
        return self.behaviour.label

    def exit_names(self) -> tuple[str, ...]:
        """Names of every outcome index: the exits, then 'final'."""
        return (*self.names, "final")

    def shares(self) -> list[float]:
        if not self.active:
            return [0.0] * len(self.names) + [1.0]
        return [float(x) for x in self.behaviour.shares(self.threshold)]

    def accuracies(self, final_accuracy: float) -> list[float]:
        if not self.active:
            return [math.nan] * len(self.names) + [final_accuracy]
        return [float(x) for x in self.behaviour.accuracies(self.threshold)]

    def decide(self, u: float, seq: int, final_accuracy: float) -> ExitDecision:
        """Where the request with uniform ``u`` and device sequence number ``seq`` leaves."""
        n = len(self.names)
        if not self.active:
            return ExitDecision(n, self.final_on_device, self.sent_device_s, 1.0, final_accuracy)
        index, accuracy = self.behaviour.decide(self.threshold, u, seq)
        if index < n and self.on_device[index]:
            return ExitDecision(index, True, self.device_s[index], 0.0, accuracy)
        if index == n and self.final_on_device:
            return ExitDecision(index, True, self.sent_device_s, 0.0, accuracy)
        fraction = self.work_fraction[index] if index < n else 1.0
        return ExitDecision(index, False, self.sent_device_s, fraction, accuracy)


def is_progressive(variant: str) -> bool:
    return variant.startswith(PREFIX)


SERVER_ONLY = "input"
"""Split name of the server-only progressive plan: the JPEG is sent, every exit is on the server."""
DEVICE_ONLY = "device"
"""Split name of the device-only progressive plan: every exit and the final run on the device."""


def parse_progressive(model: ModelProfile, variant: str) -> tuple[int, str, float] | None:
    """(split block index, dtype, threshold) of a progressive plan name, or None.

    The index is -1 for ``progressive_input_t<c>`` (server only; dtype 'jpeg') and the last
    block's for ``progressive_device_t<c>`` (device only; dtype 'none').
    """
    if not is_progressive(variant):
        return None
    match = _THRESHOLD.match(variant[len(PREFIX) :])
    if match is None:
        return None
    rest, threshold = match["rest"], float(match["thr"])
    dtype = "uint8"
    if "_" in rest and rest.rsplit("_", 1)[1] in DTYPE_BYTES:
        rest, dtype = rest.rsplit("_", 1)
    if rest == SERVER_ONLY:
        return -1, "jpeg", threshold
    if rest == DEVICE_ONLY:
        return len(model.blocks) - 1, "none", threshold
    try:
        index = model.block_index(rest)
    except KeyError:
        return None
    if index >= len(model.blocks) - 1:
        return None
    return index, dtype, threshold


def progressive_names(model: ModelProfile, thresholds: tuple[float, ...] = (0.8,)) -> list[str]:
    """Example progressive plan names for ``model`` (every split block, uint8)."""
    return [
        f"{PREFIX}{b.name}_t{t:g}" for b in model.blocks[:-1] for t in thresholds if model.exits
    ]


def head_s(device: DeviceProfile, model: ModelProfile, exit_name: str) -> float:
    """Device time of one exit head [s]: measured part, else the device's cost model."""
    times = device.models.get(model.name)
    key = f"{exit_name}.head"
    if times is not None and key in times.parts_s:
        return times.parts_s[key]
    cost = device.cost_model
    return cost.overhead_per_block_s + model.exits[exit_name].macs / cost.macs_per_s


def build_exit_plan(
    model: ModelProfile,
    device: DeviceProfile,
    split_index: int,
    threshold: float,
    block_times_s: list[float],
    source: ExitSource | None,
    *,
    base_dir: Path,
    file: str | None,
    key: str,
) -> ExitPlan:
    """The exits of a progressive plan split after block ``split_index``.

    ``block_times_s``: device time of each block up to the split [s] (as the plain split
    charges them).
    """
    if not model.exits:
        raise SimInputError(
            f"model '{model.name}' has no early exits in its profile",
            file=file,
            key=key,
            allowed="a model whose profile lists exits (resnet152, densenet201, mobilenet_v2)",
        )
    order = sorted(model.exits, key=lambda n: model.block_index(model.exits[n].after))
    names = tuple(order)
    positions = [model.block_index(model.exits[n].after) for n in names]
    on_device = tuple(p <= split_index for p in positions)
    active = threshold < 1.0
    behaviour = behaviour_for(source, model, names, base_dir=base_dir, file=file, key=key)
    device_s: list[float] = []
    heads_s = 0.0
    for name, position, local in zip(names, positions, on_device, strict=True):
        if not local:
            device_s.append(math.nan)
            continue
        heads_s += head_s(device, model, name)
        device_s.append(sum(block_times_s[: position + 1]) + heads_s)
    tail_macs = [b.macs for b in model.blocks[split_index + 1 :]]
    tail_total = sum(tail_macs)
    fractions = []
    for position, local in zip(positions, on_device, strict=True):
        if local:
            fractions.append(0.0)
        else:
            done = sum(tail_macs[: position - split_index])
            fractions.append(done / tail_total if tail_total > 0 else 1.0)
    sent = sum(block_times_s[: split_index + 1]) + (heads_s if active else 0.0)
    final_on_device = split_index == len(model.blocks) - 1
    return ExitPlan(
        threshold,
        names,
        on_device,
        tuple(device_s),
        tuple(fractions),
        behaviour,
        sent,
        final_on_device,
    )


def unknown_progressive(model: ModelProfile, variant: str, file: str | None, key: str) -> None:
    """Raise the error for a malformed progressive name."""
    raise SimInputError(
        f"bad progressive plan for model '{model.name}'",
        file=file,
        key=key,
        value=variant,
        allowed="progressive_<split>[_<fp32|fp16|uint8>]_t<threshold in [0, 1]>, split one of "
        + list_choices(["input", *(b.name for b in model.blocks[:-1]), "device"], limit=30),
    )


def build_progressive_plan(
    variant: str,
    model: ModelProfile,
    device: DeviceProfile,
    source: ExitSource | None,
    *,
    where: tuple[str | None, str],
):
    """The :class:`sim.plans.Plan` of a progressive plan name (payload and server part as the
    plain split at the same block; ``accuracy`` the expected accuracy over its exits)."""

    file, key = where
    parsed = parse_progressive(model, variant)
    if parsed is None or not 0.0 <= parsed[2] <= 1.0:
        unknown_progressive(model, variant, file, key)
    assert parsed is not None
    index, dtype, threshold = parsed
    times, provenance = [], set()
    for i in range(index + 1):
        seconds, prov = device_block_s(device, model, i)
        times.append(seconds)
        provenance.add(prov)
    base_dir = Path(file).parent if file else Path.cwd()
    exits = build_exit_plan(
        model, device, index, threshold, times, source, base_dir=base_dir, file=file, key=key
    )
    if exits.active and any(exits.on_device):
        provenance.add(device.cost_model.provenance)
    top1 = model.accuracy_top1.value
    kind: PlanKind = "split"
    device_s = exits.sent_device_s
    if dtype == "jpeg":  # server only: as offload
        kind, name, payload = "offload", SERVER_ONLY, int(model.jpeg_bytes.value)
        device_s = device.jpeg_encode_s.value
        provenance = {device.jpeg_encode_s.provenance}
        server = ServerPart(f"{model.name}/full", model.name, "full", model.total_macs)
        exits = dataclasses.replace(exits, sent_device_s=device_s)
    elif dtype == "none":  # device only: as local
        kind, name, payload, server = "local", DEVICE_ONLY, 0, None
    else:
        block = model.blocks[index]
        name = f"{block.name}_{dtype}"
        payload = block.out_elements * DTYPE_BYTES[dtype] + (
            QUANT_OVERHEAD_BYTES if dtype == "uint8" else 0
        )
        tail_macs = sum(b.macs for b in model.blocks[index + 1 :])
        server = ServerPart(
            f"{model.name}/tail_after_{block.name}",
            model.name,
            f"tail_after_{block.name}",
            tail_macs,
        )
    shares = exits.shares()
    accs = exits.accuracies(top1)
    expected = sum(s * (0.0 if math.isnan(a) else a) for s, a in zip(shares, accs, strict=True))
    return Plan(
        f"{PREFIX}{name}_t{threshold:g}",
        kind,
        model.name,
        device_s,
        device_power_w(device, model),
        payload,
        server,
        expected,
        worst_provenance(provenance),
        exits,
    )
