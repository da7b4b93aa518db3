"""Execution plans: what a strategy runs on the device, sends, and runs on the server.

A :class:`Plan` is resolved once per (device group, strategy option) from the
model and device profiles: device compute time and power, payload bytes,
the server-side part (a key the server turns into S(b) and P(b)) and the
expected accuracy. Variant names:

* ``full``: the whole model (``local`` runs it on the device, ``offload`` on the server);
* ``bottlefit_c<C>`` / ``ae_c<C>``: variants listed in the model profile;
* ``split_<block>_<dtype>``: vanilla split after a natural block, payload in
  fp32, fp16 or uint8 (uint8 adds the 8-byte scale and zero point).
"""

from __future__ import annotations

from sim.errors import SimInputError, did_you_mean, list_choices
from sim.plan_parts import (
    Plan,
    PlanKind,
    ServerPart,
    device_block_s,
    device_power_w,
    worst_provenance,
)
from sim.profiles.schema import (
    DTYPE_BYTES,
    QUANT_OVERHEAD_BYTES,
    DeviceProfile,
    ModelProfile,
    ServerProfile,
)
from sim.profiles.service import HingeFit, PowerCurve, ServiceModel, fit_hinge

__all__ = [
    "Plan",
    "PlanKind",
    "ServerPart",
    "build_plan",
    "device_power_w",
    "server_part",
    "service_model",
    "variant_names",
]


def variant_names(model: ModelProfile) -> list[str]:
    """Every variant name valid for ``model`` (vanilla splits with each dtype included)."""
    names = ["full", *model.variants]
    for block in model.blocks[:-1]:
        names += [f"split_{block.name}_{dtype}" for dtype in DTYPE_BYTES]
    return names


def _device_blocks_s(
    device: DeviceProfile, model: ModelProfile, upto: int
) -> tuple[float, set[str]]:
    total, provenance = 0.0, set()
    for i in range(upto + 1):
        seconds, prov = device_block_s(device, model, i)
        total += seconds
        provenance.add(prov)
    return total, provenance


def _device_encoder_s(
    device: DeviceProfile, model: ModelProfile, variant: str
) -> tuple[float, str]:
    times = device.models.get(model.name)
    key = f"{variant}.encoder"
    if times is not None and key in times.parts_s:
        return times.parts_s[key], times.provenance
    cost = device.cost_model
    return cost.overhead_per_block_s + model.variants[
        variant
    ].encoder.macs / cost.macs_per_s, cost.provenance


def _pick(override: float | None, default: float) -> float:
    return default if override is None else override


def parse_split(model: ModelProfile, variant: str) -> tuple[int, str] | None:
    """(block index, dtype) of a vanilla split name, or None if it is not one."""
    if not variant.startswith("split_"):
        return None
    rest = variant[len("split_") :]
    dtype = "uint8"
    if "_" in rest and rest.rsplit("_", 1)[1] in DTYPE_BYTES:
        rest, dtype = rest.rsplit("_", 1)
    try:
        index = model.block_index(rest)
    except KeyError:
        return None
    if index >= len(model.blocks) - 1:
        return None
    return index, dtype


def build_plan(
    kind: PlanKind,
    variant: str,
    model: ModelProfile,
    device: DeviceProfile,
    *,
    accuracy_override: float | None = None,
    where: tuple[str | None, str] = (None, "variant"),
    exits: object | None = None,
) -> Plan:
    """Resolve a plan, or raise a SimInputError naming ``where`` = (file, dotted key).

    ``exits``: the device group's exit source for progressive plans (sim/exits/source.py).
    """
    file, key = where
    if variant.startswith("progressive_"):
        from sim.exits.plan import build_progressive_plan

        return build_progressive_plan(variant, model, device, exits, where=where)  # type: ignore[arg-type]
    power = device_power_w(device, model)
    top1 = model.accuracy_top1.value
    last = len(model.blocks) - 1
    if kind == "local":
        seconds, prov = _device_blocks_s(device, model, last)
        return Plan(
            "local",
            "local",
            model.name,
            seconds,
            power,
            0,
            None,
            _pick(accuracy_override, top1),
            worst_provenance(prov),
        )
    if kind == "offload":
        server = ServerPart(f"{model.name}/full", model.name, "full", model.total_macs)
        return Plan(
            "offload",
            "offload",
            model.name,
            device.jpeg_encode_s.value,
            power,
            int(model.jpeg_bytes.value),
            server,
            _pick(accuracy_override, top1),
            device.jpeg_encode_s.provenance,
        )
    if variant in model.variants:
        spec = model.variants[variant]
        after = model.block_index(spec.replaces_through)
        tail_macs = sum(b.macs for b in model.blocks[after + 1 :])
        enc_s, enc_prov = _device_encoder_s(device, model, variant)
        if spec.kind == "bottlefit":
            seconds, prov = enc_s, {enc_prov}
        else:
            seconds, prov = _device_blocks_s(device, model, after)
            seconds += enc_s
            prov.add(enc_prov)
        server = ServerPart(
            f"{model.name}/{variant}", model.name, variant, spec.decoder.macs + tail_macs
        )
        return Plan(
            variant,
            "split",
            model.name,
            seconds,
            power,
            spec.payload_bytes,
            server,
            _pick(accuracy_override, spec.accuracy_top1.value),
            worst_provenance(prov),
        )
    split = parse_split(model, variant)
    if split is None:
        names = variant_names(model)
        raise SimInputError(
            f"unknown variant for model '{model.name}'{did_you_mean(variant, names)}",
            file=file,
            key=key,
            value=variant,
            allowed=list_choices(names, limit=20),
        )
    index, dtype = split
    block = model.blocks[index]
    payload = block.out_elements * DTYPE_BYTES[dtype] + (
        QUANT_OVERHEAD_BYTES if dtype == "uint8" else 0
    )
    seconds, prov = _device_blocks_s(device, model, index)
    tail_macs = sum(b.macs for b in model.blocks[index + 1 :])
    server = ServerPart(
        f"{model.name}/tail_after_{block.name}", model.name, f"tail_after_{block.name}", tail_macs
    )
    # A vanilla split computes the same function; uint8 quantisation of an intermediate
    # tensor is assumed lossless to top-1 (no per-block figure is available).
    return Plan(
        f"split_{block.name}_{dtype}",
        "split",
        model.name,
        seconds,
        power,
        payload,
        server,
        _pick(accuracy_override, top1),
        worst_provenance(prov),
    )


def _curve_power(profile: ServerProfile, key: str) -> PowerCurve | None:
    curve = profile.parts.get(key)
    if curve is None or not curve.power_w:
        return None
    batches = tuple(sorted(curve.power_w))
    return PowerCurve(batches, tuple(curve.power_w[b] for b in batches))


FitCache = dict[tuple[int, str], HingeFit]
"""Hinge fits already made, by (id of the server profile object, part key): fitting is pure
but slow (~0.1 s), and many plans derive from the same measured curve. A cache must not
outlive the profiles it was filled from (one scenario load, one cost model)."""


def _fit(profile: ServerProfile, key: str, fits: FitCache | None = None) -> HingeFit:
    if fits is not None and (id(profile), key) in fits:
        return fits[(id(profile), key)]
    curve = profile.parts[key]
    fit = fit_hinge(list(curve.batch_s), list(curve.batch_s.values()))
    if fits is not None:
        fits[(id(profile), key)] = fit
    return fit


def measured_service_model(
    profile: ServerProfile, key: str, fits: FitCache | None = None
) -> ServiceModel | None:
    """S(b) and P(b) of a part the server profile measured, or None (``fits``: optional memo)."""
    if key not in profile.parts:
        return None
    curve = profile.parts[key]
    fallback = PowerCurve((1,), (profile.cost_model.active_w,))
    return ServiceModel(
        key,
        _fit(profile, key, fits),
        1.0,
        _curve_power(profile, key) or fallback,
        curve.provenance,
        curve.source,
    )


def server_part(model: ModelProfile, part: str) -> ServerPart | None:
    """The ServerPart named ``part`` ('full', a variant, 'tail_after_<block>') of ``model``."""
    key = f"{model.name}/{part}"
    if part == "full":
        return ServerPart(key, model.name, "full", model.total_macs)
    if part in model.variants:
        spec = model.variants[part]
        after = model.block_index(spec.replaces_through)
        return ServerPart(
            key,
            model.name,
            part,
            spec.decoder.macs + sum(b.macs for b in model.blocks[after + 1 :]),
        )
    if part.startswith("tail_after_"):
        block = part[len("tail_after_") :]
        try:
            index = model.block_index(block)
        except KeyError:
            return None
        if index < len(model.blocks) - 1:
            return ServerPart(key, model.name, part, sum(b.macs for b in model.blocks[index + 1 :]))
    return None


def service_model(
    profile: ServerProfile, part: ServerPart, model: ModelProfile, fits: FitCache | None = None
) -> ServiceModel:
    """S(b) and P(b) of ``part`` on this server: measured, derived from a measured curve, or costed.

    ``fits`` is an optional memo of hinge fits shared between calls (same results, faster).
    """
    measured = measured_service_model(profile, part.key, fits)
    if measured is not None:
        return measured
    cost = profile.cost_model
    fallback_power = PowerCurve((1,), (cost.active_w,))
    full_key = f"{part.model}/full"
    if part.part.startswith("bottlefit_c"):
        measured_keys = sorted(
            k for k in profile.parts if k.startswith(f"{part.model}/bottlefit_c")
        )
        if measured_keys:
            ref_key = measured_keys[-1]
            ref_variant = ref_key.split("/", 1)[1]
            ref = model.variants.get(ref_variant)
            ratio = 1.0
            if ref is not None:
                after = model.block_index(ref.replaces_through)
                ref_macs = ref.decoder.macs + sum(b.macs for b in model.blocks[after + 1 :])
                ratio = part.macs / ref_macs
            return ServiceModel(
                part.key,
                _fit(profile, ref_key, fits),
                ratio,
                _curve_power(profile, ref_key) or fallback_power,
                "derived",
                f"{ref_key} scaled by server MACs ({ratio:.4f})",
            )
    if full_key in profile.parts:
        share, how = _tail_share(profile, part, model)
        return ServiceModel(
            part.key,
            _fit(profile, full_key, fits),
            share,
            _curve_power(profile, full_key) or fallback_power,
            "derived",
            f"{full_key} x {share:.4f} ({how})",
        )
    fit = HingeFit(cost.fixed_s, part.macs / cost.macs_per_s, 0.0, float("nan"), float("nan"))
    return ServiceModel(
        part.key, fit, 1.0, fallback_power, cost.provenance, f"server cost model: {cost.source}"
    )


def _tail_share(profile: ServerProfile, part: ServerPart, model: ModelProfile) -> tuple[float, str]:
    """Fraction of the full model's server time that ``part`` takes."""
    if part.part == "full":
        return 1.0, "full model"
    if part.part.startswith("tail_after_"):
        block = part.part[len("tail_after_") :]
        after = model.block_index(block)
        times = profile.block_times_s.get(part.model)
        names = [b.name for b in model.blocks]
        if times and all(n in times for n in names):
            total = sum(times[n] for n in names)
            return sum(
                times[n] for n in names[after + 1 :]
            ) / total, "share of per-block batch-1 times"
        return part.macs / model.total_macs, "MAC share"
    # Autoencoder or other variant: decoder + tail, by MAC share of the full model.
    return part.macs / model.total_macs, "MAC share (decoder + tail)"
