"""Schemas of the three profile kinds: model, device and edge server.

Every number in a profile carries its provenance (measured / published /
derived / assumed) and a source, either on the number itself
(``{value, provenance, source}``) or on the section that holds it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.validation import (
    NonNegFloat,
    NonNegInt,
    PositiveFloat,
    PositiveInt,
    Provenance,
    Strict,
)

DTYPE_BYTES: dict[str, int] = {"fp32": 4, "fp16": 2, "uint8": 1}
"""Bytes per element of each payload dtype for a vanilla split."""

QUANT_OVERHEAD_BYTES = 8
"""uint8 per-tensor quantisation sends one float32 scale and one int32 zero point
(torchdistill QuantizedTensor; bottlefit_paper.md §2.1)."""


class Sourced(Strict):
    """A number with its provenance and source."""

    value: float = Field(allow_inf_nan=False)
    provenance: Provenance
    source: str = Field(min_length=1)


# Physical ranges of sourced numbers. The upper bounds are generous ceilings that catch
# unit mix-ups (mW typed as W, ms as s, a percentage as a fraction), not tight limits.
MAX_DEVICE_W = 1_000.0
"""An end device or edge board draws less than 1 kW (a Jetson AGX Orin: 60 W)."""
MAX_SERVER_W = 100_000.0
"""A whole server rack draws less than 100 kW (a DGX H100: 10.2 kW peak)."""
MAX_CODEC_S = 60.0
"""Encoding or decoding one image takes less than a minute."""


class SourcedDeviceWatts(Sourced):
    """Power of an end device [W]: 0 <= value <= 1 kW."""

    value: float = Field(ge=0, le=MAX_DEVICE_W, allow_inf_nan=False)


class SourcedServerWatts(Sourced):
    """Power of a server [W]: 0 <= value <= 100 kW."""

    value: float = Field(ge=0, le=MAX_SERVER_W, allow_inf_nan=False)


class SourcedCodecSeconds(Sourced):
    """Time to encode or decode one image [s]: 0 <= value <= 60 s."""

    value: float = Field(ge=0, le=MAX_CODEC_S, allow_inf_nan=False)


class SourcedFraction(Sourced):
    """A top-1 accuracy as a fraction [1]: 0 <= value <= 1 (not a percentage)."""

    value: float = Field(ge=0, le=1, allow_inf_nan=False)


class SourcedBytes(Sourced):
    """A size in whole bytes: a positive integer."""

    value: float = Field(gt=0, allow_inf_nan=False)

    @field_validator("value")
    @classmethod
    def _whole(cls, value: float) -> float:
        if value != int(value):
            raise ValueError("not a whole number of bytes; allowed: a positive integer")
        return value


class Section(Strict):
    """Provenance shared by every number in a section that does not carry its own."""

    provenance: Provenance
    source: str = Field(min_length=1)


# ---------------------------------------------------------------- model profiles


class Block(Strict):
    """One natural split block of a network (the split is *after* it)."""

    name: str = Field(min_length=1)
    macs: NonNegFloat
    params: NonNegInt | None = None
    out_shape: tuple[PositiveInt, ...]

    @property
    def out_elements(self) -> int:
        count = 1
        for dim in self.out_shape:
            count *= dim
        return count


class ModulePart(Strict):
    """An extra module a variant adds (BottleFit encoder/decoder, autoencoder halves)."""

    macs: NonNegFloat
    params: NonNegInt


class Variant(Strict):
    """A split-computing variant of a model with an injected bottleneck.

    ``bottlefit``: the device runs only ``encoder``; the server runs ``decoder``
    then the original blocks after ``replaces_through``.
    ``autoencoder``: the device runs the original blocks up to ``replaces_through``
    then ``encoder``; the server runs ``decoder`` then the blocks after it.
    """

    kind: Literal["bottlefit", "autoencoder"]
    channels: PositiveInt
    replaces_through: str
    encoder: ModulePart
    decoder: ModulePart
    out_shape: tuple[PositiveInt, ...]
    payload_bytes: PositiveInt
    accuracy_top1: SourcedFraction
    provenance: Provenance
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _payload_matches_shape(self) -> Variant:
        elements = 1
        for dim in self.out_shape:
            elements *= dim
        if self.out_shape and self.out_shape[0] != self.channels:
            raise ValueError(
                f"out_shape {list(self.out_shape)} has {self.out_shape[0]} channels, "
                f"channels says {self.channels}; allowed: out_shape[0] == channels"
            )
        sizes = {
            f"uint8 + {QUANT_OVERHEAD_BYTES} B scale/zero point": elements + QUANT_OVERHEAD_BYTES,
            **{dtype: elements * size for dtype, size in DTYPE_BYTES.items()},
        }
        if self.payload_bytes not in sizes.values():
            listed = ", ".join(f"{v} ({k})" for k, v in sizes.items())
            raise ValueError(
                f"payload_bytes {self.payload_bytes} disagrees with out_shape "
                f"{list(self.out_shape)} ({elements} elements); allowed: {listed}"
            )
        return self


class ExitHead(Strict):
    """An early-exit head after a block: pooling + one linear layer (calibration/zoo/early_exit.py)."""

    after: str = Field(min_length=1)
    macs: NonNegFloat
    params: NonNegInt
    flops_fraction: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)] = Field(
        description="backbone MACs up to the end of ``after`` / all backbone MACs"
    )


class ModelProfile(Strict):
    schema_id: Literal["model-profile/1"] = Field(alias="schema")
    name: str = Field(min_length=1)
    display_name: str
    input_shape: tuple[PositiveInt, ...]
    jpeg_bytes: SourcedBytes
    accuracy_top1: SourcedFraction
    params: NonNegInt
    blocks_provenance: Section
    blocks: list[Block] = Field(min_length=1)
    variants: dict[str, Variant] = Field(default_factory=dict)
    exits: dict[str, ExitHead] = Field(
        default_factory=dict, description="early-exit heads (sim/exits, docs/early_exits.md)"
    )
    exits_provenance: Section | None = None

    @model_validator(mode="after")
    def _check_exits(self) -> ModelProfile:
        names = [b.name for b in self.blocks]
        for ename, head in self.exits.items():
            if head.after not in names[:-1]:
                raise ValueError(
                    f"exit '{ename}' after '{head.after}' is not a block before the last"
                    f"; allowed: {', '.join(names[:-1])}"
                )
        return self

    @model_validator(mode="after")
    def _check_blocks(self) -> ModelProfile:
        names = [b.name for b in self.blocks]
        if len(set(names)) != len(names):
            raise ValueError("block names must be unique")
        for vname, variant in self.variants.items():
            if variant.replaces_through not in names:
                raise ValueError(
                    f"variant '{vname}' replaces_through '{variant.replaces_through}' is not a block"
                    f"; allowed: {', '.join(names)}"
                )
        return self

    def block_index(self, name: str) -> int:
        for i, block in enumerate(self.blocks):
            if block.name == name:
                return i
        raise KeyError(name)

    @property
    def total_macs(self) -> float:
        return float(sum(b.macs for b in self.blocks))


# ---------------------------------------------------------------- device profiles


class DevicePower(Strict):
    idle_w: SourcedDeviceWatts
    compute_w: SourcedDeviceWatts


class DeviceCostModel(Strict):
    """Compute time of a block that has no measurement: overhead + MACs / throughput."""

    macs_per_s: PositiveFloat
    overhead_per_block_s: NonNegFloat = 0.0
    provenance: Provenance
    source: str = Field(min_length=1)


class DeviceModelTimes(Strict):
    """Per-block compute times [s] of one model on this device (measured or derived)."""

    provenance: Provenance
    source: str = Field(min_length=1)
    blocks_s: dict[str, NonNegFloat] = Field(default_factory=dict)
    parts_s: dict[str, NonNegFloat] = Field(
        default_factory=dict,
        description="'<variant>.encoder' -> seconds: the variant's added device-side module",
    )
    compute_w: SourcedDeviceWatts | None = None
    whole_model_s: NonNegFloat | None = Field(
        default=None,
        description="the whole model timed in the same run [s], beside the sum of blocks_s "
        "(the simulator sums the blocks; the profiler warns when they differ by more than 10 %)",
    )


class DeviceProfile(Strict):
    schema_id: Literal["device-profile/1"] = Field(alias="schema")
    name: str = Field(min_length=1)
    display_name: str
    processor: Literal["cpu", "gpu"]
    power: DevicePower
    cost_model: DeviceCostModel
    jpeg_encode_s: SourcedCodecSeconds
    models: dict[str, DeviceModelTimes] = Field(default_factory=dict)


# ---------------------------------------------------------------- server profiles


class BatchCurve(Strict):
    """Service time of one model part versus batch size, with board power.

    ``batch_s`` holds measured medians [s per batch]; the simulator uses a smooth
    fit of them (see :mod:`sim.profiles.service`).
    """

    precision: Literal["fp32", "fp16", "int8", "mixed"] = "fp32"
    batch_s: dict[PositiveInt, PositiveFloat] = Field(min_length=1)
    p90_over_median: Annotated[float, Field(ge=1, allow_inf_nan=False)] | None = None
    power_w: dict[PositiveInt, PositiveFloat] = Field(default_factory=dict)
    provenance: Provenance
    source: str = Field(min_length=1)


class ServerCostModel(Strict):
    """Fallback for parts with no curve: fixed_s + batch * MACs / macs_per_s."""

    fixed_s: NonNegFloat
    macs_per_s: PositiveFloat
    active_w: PositiveFloat
    provenance: Provenance
    source: str = Field(min_length=1)


class ServerProfile(Strict):
    schema_id: Literal["server-profile/1"] = Field(alias="schema")
    name: str = Field(min_length=1)
    display_name: str
    idle_w: SourcedServerWatts
    jpeg_decode_s: SourcedCodecSeconds
    parts: dict[str, BatchCurve] = Field(
        min_length=1, description="'<model>/full' or '<model>/<variant>' (server side)"
    )
    block_times_s: dict[str, dict[str, PositiveFloat]] = Field(
        default_factory=dict,
        description="per model, per natural block: batch-1 latency, used to apportion tails",
    )
    block_times_provenance: Section | None = None
    cost_model: ServerCostModel

    @field_validator("parts")
    @classmethod
    def _part_keys(cls, parts: dict[str, BatchCurve]) -> dict[str, BatchCurve]:
        for key in parts:
            if key.count("/") != 1:
                raise ValueError(f"part key '{key}' must be '<model>/<part>'")
        return parts
