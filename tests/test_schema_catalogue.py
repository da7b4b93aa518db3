"""sim.schema re-exports every settings model a scenario file can reach, each listed in its docstring."""

from __future__ import annotations

import typing

from pydantic import BaseModel

import sim.schema


def _reachable(root: type[BaseModel]) -> set[type[BaseModel]]:
    """Models reachable from ``root`` through its fields' types (a walk written for this test)."""
    seen: set[type[BaseModel]] = set()
    todo: list[typing.Any] = [root]
    while todo:
        item = todo.pop()
        if isinstance(item, type) and issubclass(item, BaseModel):
            if item not in seen:
                seen.add(item)
                todo += [field.annotation for field in item.model_fields.values()]
        else:
            todo += list(typing.get_args(item))
    return seen


def test_every_reachable_model_is_exported_and_documented():
    reachable = _reachable(sim.schema.ROOT)
    assert len(reachable) > 30
    for model in reachable:
        assert getattr(sim.schema, model.__name__, None) is model, model.__name__
        assert model.__name__ in sim.schema.__all__
        assert f":class:`{model.__name__}`" in (sim.schema.__doc__ or ""), model.__name__


def test_every_exported_model_is_reachable_or_a_sweep_file():
    reachable = _reachable(sim.schema.ROOT) | {sim.schema.SweepFile}
    for name in sim.schema.__all__:
        value = getattr(sim.schema, name)
        if isinstance(value, type):
            assert value in reachable, name
