"""Where a device group's exit behaviour comes from: a proxy table or a replay file.

Written in the scenario under a device group's ``exits:`` (default: the proxy
table ``portend_efficientnet_b0`` with relative accuracies)::

    exits: {kind: proxy, table: portend_efficientnet_b0, accuracy: relative}
    exits: {kind: replay, file: confidences.csv, order: sequential}
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from sim.errors import SimInputError, list_choices
from sim.exits.behaviour import ExitBehaviour, NestedExits
from sim.exits.replay import ReplayExits
from sim.exits.table import load_table
from sim.profiles.schema import ModelProfile
from sim.validation import Strict

DEFAULT_TABLE = "portend_efficientnet_b0"


class ProxyExitSource(Strict):
    """A published table (a proxy), exits placed by FLOP fraction, nested (PORTEND)."""

    kind: Literal["proxy"]
    table: str = Field(default=DEFAULT_TABLE, description="a shipped table name or a YAML path")
    accuracy: Literal["relative", "absolute"] = Field(
        default="relative",
        description="relative: the table's exit accuracies x (model top-1 / table's final "
        "top-1), clipped to 1; absolute: the table's figures as they are",
    )
    accuracy_rule: Literal["conserving", "portend"] = Field(
        default="conserving",
        description="accuracy of the samples that reach the final classifier: conserving "
        "(exits never raise overall accuracy above the model's top-1) or portend (the model's "
        "top-1, PORTEND's rule, optimistic); see sim/exits/behaviour.py",
    )


class ReplayExitSource(Strict):
    """A CSV of per-sample confidences and correctness per exit, replayed per request."""

    kind: Literal["replay"]
    file: str = Field(
        min_length=1,
        description="CSV of per-sample confidences and correctness per exit, relative to the "
        "scenario file (docs/early_exits.md)",
    )
    order: Literal["random", "sequential"] = Field(
        default="random",
        description="random: each request replays a sample drawn from its exit stream; "
        "sequential: request k of a device replays sample k mod N",
    )


ExitSource = Annotated[ProxyExitSource | ReplayExitSource, Field(discriminator="kind")]

DEFAULT_SOURCE = ProxyExitSource(kind="proxy")


def behaviour_for(
    source: ProxyExitSource | ReplayExitSource | None,
    model: ModelProfile,
    names: tuple[str, ...],
    *,
    base_dir: Path,
    file: str | None,
    key: str,
) -> ExitBehaviour:
    """The exit behaviour of ``model``'s exits ``names`` under ``source``."""
    source = source or DEFAULT_SOURCE
    for name in names:
        if name not in model.exits:
            raise SimInputError(
                f"model '{model.name}' has no exit '{name}'",
                file=file,
                key=key,
                value=name,
                allowed=list_choices(model.exits) or "a model profile with exits",
            )
    if isinstance(source, ReplayExitSource):
        path = Path(source.file)
        if not path.is_absolute():
            path = base_dir / path
        return ReplayExits(path, names, source.order, key=key)
    table = load_table(source.table, base_dir=base_dir, file=file, key=key)
    curves = [table.curve_at(model.exits[n].flops_fraction) for n in names]
    top1 = model.accuracy_top1.value
    scale = top1 / table.spec.final_accuracy if source.accuracy == "relative" else 1.0
    return NestedExits(
        names, curves, top1, table.label, accuracy_scale=scale, rule=source.accuracy_rule
    )
