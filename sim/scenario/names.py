"""Names that must refer to something: a misspelt block or variant is an error, not a
silent fallback.

A device profile's ``models.<model>.blocks_s`` names the model's blocks and
``parts_s`` its variants' encoders; a device group's ``accuracy`` names
strategies and variants. A name nothing uses would silently fall back to the
cost model or be ignored, so each is checked when the group's model and
device are known, with a "did you mean".
"""

from __future__ import annotations

from collections.abc import Callable

from sim.errors import SimInputError, did_you_mean, list_choices
from sim.plans import variant_names
from sim.profiles.schema import DeviceProfile, ModelProfile
from sim.scenario.schema import DeviceGroup


def accuracy_names(model: ModelProfile) -> list[str]:
    """Keys a group's ``accuracy`` may override: local, offload and the model's variants."""
    return ["local", "offload", *[n for n in variant_names(model) if n != "full"]]


def check_group_names(
    group: DeviceGroup,
    model: ModelProfile,
    device: DeviceProfile,
    gkey: str,
    err: Callable[..., Exception],
    device_file: str | None = None,
) -> None:
    """Unknown names in the group's ``accuracy`` or the device's times for its model."""
    allowed = accuracy_names(model)
    for name in group.accuracy:
        if name not in allowed:
            raise err(
                f"unknown variant for model '{model.name}'{did_you_mean(name, allowed)}",
                f"{gkey}.accuracy.{name}",
                name,
                list_choices(allowed, limit=15),
            )
    times = device.models.get(model.name)
    if times is None:
        return
    blocks = [b.name for b in model.blocks]
    for name in times.blocks_s:
        if name not in blocks:
            raise SimInputError(
                f"unknown block of model '{model.name}'{did_you_mean(name, blocks)}",
                file=device_file or f"device profile '{device.name}'",
                key=f"models.{model.name}.blocks_s.{name}",
                allowed=list_choices(blocks, limit=20),
            )
    parts = [f"{v}.encoder" for v in model.variants]
    for name in times.parts_s:
        if name not in parts:
            raise SimInputError(
                f"unknown variant part of model '{model.name}'{did_you_mean(name, parts)}",
                file=device_file or f"device profile '{device.name}'",
                key=f"models.{model.name}.parts_s.{name}",
                allowed=list_choices(parts, limit=20),
            )
