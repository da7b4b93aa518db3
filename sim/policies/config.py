"""Scenario configuration of strategies (the policy a device group follows).

A strategy is written either as a string shorthand or as a mapping with a
``kind``: ``local``; ``offload``; any variant name such as ``bottlefit_c12``,
``ae_c12`` or ``split_transition2_uint8`` (a fixed split); or a name defined
under the scenario's ``strategies:``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from sim.validation import Strict


class LocalStrategy(Strict):
    """Run the whole model on the device."""

    kind: Literal["local"]
    name: str | None = None


class OffloadStrategy(Strict):
    """Send the input JPEG; the server runs the whole model."""

    kind: Literal["offload"]
    name: str | None = None


class SplitStrategy(Strict):
    """Always split with one variant (BottleFit, autoencoder or vanilla split)."""

    kind: Literal["split"]
    variant: str = Field(min_length=1)
    name: str | None = None


StrategyConfig = Annotated[
    LocalStrategy | OffloadStrategy | SplitStrategy,
    Field(discriminator="kind"),
]


def strategy_label(config: StrategyConfig) -> str:
    """The name a strategy is reported under."""
    if config.name:
        return config.name
    if isinstance(config, SplitStrategy):
        return config.variant
    return config.kind


def shorthand(text: str) -> dict:
    """The mapping a string shorthand stands for."""
    if text in ("local", "offload"):
        return {"kind": text}
    return {"kind": "split", "variant": text}


class StrategyHolder(Strict):
    """Wrapper used to validate one strategy entry on its own."""

    strategy: StrategyConfig
