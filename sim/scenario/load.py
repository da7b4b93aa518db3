"""Loading a scenario: YAML -> validated spec -> resolved profiles, traces, plans, topology.

The engine only ever sees a :class:`Scenario`: every reference is resolved and
every cross-check done here, so a bad file fails before anything runs, with
one line naming the file, the dotted key, the value and what is allowed.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from sim.channel.config import CellConfig, resolve_trace
from sim.channel.traces import Trace
from sim.errors import SimInputError, list_choices
from sim.network import Path as NetPath
from sim.network import build_graph, shortest_path
from sim.plans import FitCache, ServerPart, measured_service_model, server_part, service_model
from sim.policies.config import StrategyConfig, StrategyHolder, shorthand, strategy_label
from sim.policies.registry import GroupContext, PolicyFactory, policy_factory
from sim.profiles.registry import ProfileLibrary
from sim.profiles.schema import ModelProfile, ServerProfile
from sim.profiles.service import ServiceModel
from sim.scenario.model import GroupRuntime, Scenario
from sim.scenario.names import check_group_names
from sim.scenario.overrides import apply_overrides, blamed_on_override
from sim.scenario.schema import ScenarioSpec, Selection, ServerConfig
from sim.scenario.sizes import check_sizes
from sim.validation import validate_data
from sim.yamlio import YamlDocument, parse_yaml_text, read_yaml


def load(
    path: str | Path, overrides: list[str] | None = None, *, seed: int | None = None
) -> Scenario:
    """Read, validate and resolve a scenario file (``overrides``: 'dotted.key=value')."""
    from sim.api_checks import check_path, check_seed

    check_path(path, "sim.load", "path")
    if seed is not None:
        seed = check_seed(seed, "--seed")
    path = Path(path)
    if path.suffix.lower() not in (".yaml", ".yml") and not os.path.lexists(path):
        raise SimInputError("scenario file not found", file=path)
    doc = read_yaml(path)
    data = doc.data
    if not isinstance(data, dict):
        raise SimInputError(
            "a scenario must be a YAML mapping at the top level",
            file=path,
            value=type(data).__name__,
        )
    applied: dict[str, str] = {}
    data = apply_overrides(data, overrides, "--set", applied)
    if seed is not None:
        data["seed"] = seed
        applied["seed"] = "--seed"
    return build_scenario(data, path, doc, applied=applied)


def loads(
    text: str, overrides: list[str] | None = None, *, base_dir: Path | None = None
) -> Scenario:
    """Like :func:`load`, from YAML text (relative paths resolve from ``base_dir``)."""
    if not isinstance(text, str):
        raise SimInputError(
            "not YAML text", file="sim.loads", key="text", value=text, allowed="a str"
        )
    doc = parse_yaml_text(text, "<string>")
    if not isinstance(doc.data, dict):
        raise SimInputError("a scenario must be a YAML mapping at the top level", file="<string>")
    applied: dict[str, str] = {}
    data = apply_overrides(doc.data, overrides, "--set", applied)
    fake = (base_dir or Path.cwd()) / "<string>"
    return build_scenario(data, fake, doc, applied=applied)


def _strategy_from_ref(
    ref: Any,
    defined: dict[str, StrategyConfig],
    *,
    file: str | None,
    key: str,
    doc: YamlDocument | None,
) -> StrategyConfig:
    """A compare entry or group policy: a defined name, a shorthand string, or a mapping."""
    if isinstance(ref, str) and ref in defined:
        return defined[ref]
    data = shorthand(ref) if isinstance(ref, str) else ref
    try:
        return validate_data(StrategyHolder, {"strategy": data}, file=file).strategy
    except SimInputError as exc:
        inner = (exc.key or "").removeprefix("strategy").lstrip(".")
        loc = tuple(int(p) if p.isdigit() else p for p in key.split("."))
        line = doc.line_of(loc) if doc is not None else None
        raise SimInputError(
            exc.problem,
            file=file,
            key=f"{key}.{inner}" if inner else key,
            value=exc.value if exc.value is not ... else ref,
            allowed=exc.allowed,
            line=line,
        ) from None


def build_scenario(
    data: dict[str, Any],
    path: Path | None,
    doc: YamlDocument | None = None,
    *,
    applied: dict[str, str] | None = None,
) -> Scenario:
    """Validate and resolve scenario ``data`` (read from ``path``; ``doc`` for line numbers).

    ``applied``: keys set by overrides -> where they came from; an error about such a
    key names the override, not the file's line for the value it replaced.
    """
    file = str(path) if path is not None else None
    try:
        return _build_scenario(data, path, doc)
    except SimInputError as exc:
        raise blamed_on_override(exc, file, applied) from None


def _build_scenario(
    data: dict[str, Any], path: Path | None, doc: YamlDocument | None = None
) -> Scenario:
    file = str(path) if path is not None else None
    spec = validate_data(ScenarioSpec, data, file=file, doc=doc)
    base_dir = path.parent if path is not None else Path.cwd()

    def err(problem: str, key: str, value: Any = ..., allowed: str | None = None) -> SimInputError:
        loc = tuple(int(p) if p.isdigit() else p for p in key.split("."))
        line = doc.line_of(loc) if doc is not None else None
        return SimInputError(problem, file=file, key=key, value=value, allowed=allowed, line=line)

    # warmup < duration, unique names, a request source, each group's cell and server
    # named: checked by ScenarioSpec's model validator (sim/scenario/schema.py).
    library = ProfileLibrary(base_dir, spec.profile_path)
    # Strategies compared.
    defined = dict(spec.strategies)
    strategies: list[StrategyConfig] = []
    labels: set[str] = set()
    for i, ref in enumerate(spec.compare):
        config = _strategy_from_ref(ref, defined, file=file, key=f"compare.{i}", doc=doc)
        label = strategy_label(config)
        if label in labels:
            raise err("strategy compared twice", f"compare.{i}", label, "distinct strategies")
        labels.add(label)
        strategies.append(config)

    # Servers and their profiles.
    servers: dict[str, ServerProfile] = {}
    for i, server in enumerate(spec.servers):
        servers[server.name] = library.server(server.profile, file=file, key=f"servers.{i}.profile")

    # Topology.
    graph = build_graph(spec.network)
    cells = {c.name: c for c in spec.cells}
    traces: dict[str, Trace | None] = {}
    for i, cell in enumerate(spec.cells):
        traces[cell.name] = resolve_trace(cell.uplink, base_dir, file=file, key=f"cells.{i}.uplink")
        # Checked (and memoised) now; each run's downlinks read it back (sim/legs.py).
        resolve_trace(cell.downlink_config(), base_dir, file=file, key=f"cells.{i}.downlink")

    # Every cell's lowest-latency path to every server it reaches (a request may leave from
    # another cell than its group's after an inter-cell handover).
    # Access names: each cell's own, and '<cell>/<station>' for stations that are cells of
    # their own (sim/channel/intercell.py), each with its topology node.
    all_paths: dict[tuple[str, str], NetPath] = {}
    for cell_config in spec.cells:
        for access, node in _access_nodes(cell_config).items():
            for server in spec.servers:
                found = shortest_path(graph, node, server.node)
                if found is not None:
                    all_paths[(access, server.name)] = found

    models: dict[str, ModelProfile] = {}
    groups: list[GroupRuntime] = []
    factories: dict[tuple[str, str], PolicyFactory] = {}
    service_models: dict[tuple[str, str], ServiceModel] = {}
    fits: FitCache = {}  # hinge fits shared by the plans that derive from one measured curve
    server_configs = {s.name: s for s in spec.servers}
    for gi, group in enumerate(spec.devices):
        gkey = f"devices.{gi}"
        model = library.model(group.model, file=file, key=f"{gkey}.model")
        device = library.device(group.device, file=file, key=f"{gkey}.device")
        models[model.name] = model
        cell = cells[group.cell]  # the spec's validator checked the name
        paths = {
            s.name: all_paths[(cell.name, s.name)]
            for s in spec.servers
            if (cell.name, s.name) in all_paths
        }
        selection, candidates = _candidates(spec, gi, all_paths, err)
        order = candidates[cell.name]
        runtime = GroupRuntime(
            group, gi, model, device, cell, selection.server, order, paths, selection, candidates
        )
        groups.append(runtime)

        device_file = str(library.path_of("device", group.device))
        check_group_names(group, model, device, gkey, err, device_file)
        ctx_accuracy = dict(group.accuracy)
        for si, config in enumerate(strategies):
            if group.policy == "compare":
                chosen, key = config, f"compare.{si}"
            else:
                chosen = _strategy_from_ref(
                    group.policy, defined, file=file, key=f"{gkey}.policy", doc=doc
                )
                key = f"{gkey}.policy"
            ctx = GroupContext(
                model,
                device,
                ctx_accuracy,
                file,
                key,
                runtime,
                servers,
                server_configs,
                traces[cell.name],
            )
            factory = policy_factory(chosen, ctx)
            factories[(group.name, strategy_label(config))] = factory
            needs_server = any(plan.server is not None for plan in factory.plans)
            if needs_server and not order:
                raise err(
                    f"no network path from cell '{cell.name}' (node '{cell.node}') to any server",
                    f"{gkey}.cell",
                    group.cell,
                    "a cell whose node connects to a server's node",
                )
            targets = sorted({name for names in candidates.values() for name in names})
            for plan in factory.plans:
                if plan.server is None:
                    continue
                for server_name in targets:
                    _add_service(
                        service_models,
                        servers[server_name],
                        server_name,
                        plan.server,
                        model,
                        fits,
                    )

    # Background loads name '<model>/<part>'; the model profile is needed only for derivations.
    for si, server in enumerate(spec.servers):
        for bi, load_ in enumerate(server.background):
            key = f"servers.{si}.background.{bi}.part"
            _background_service(
                service_models,
                servers[server.name],
                server,
                load_.part,
                library,
                models,
                file,
                key,
                err,
            )

    # Size checks before anything is allocated (sim/scenario/sizes.py).
    check_sizes(spec, traces, len(strategies), err)

    return Scenario(
        spec=spec,
        path=path,
        raw=copy.deepcopy(data),
        strategies=tuple(strategies),
        groups=tuple(groups),
        servers=servers,
        traces=traces,
        factories=factories,
        service_models=service_models,
        models=models,
        paths=all_paths,
        builder=build_scenario,
    )


def _candidates(
    spec: ScenarioSpec, gi: int, all_paths: dict[tuple[str, str], NetPath], err
) -> tuple[Selection, dict[str, tuple[str, ...]]]:
    """A group's resolved selection and, per cell, its candidate servers nearest first.

    The group's own cell must reach every server the group names (``server``,
    ``selection.server``, ``selection.servers``); other cells (a device handed over
    to them) offer the named servers they reach.
    """
    group = spec.devices[gi]
    gkey = f"devices.{gi}"
    if group.selection is not None:
        selection = group.selection
    elif group.server is not None:
        selection = Selection(policy="fixed", server=group.server)
    else:
        selection = Selection()
    cell = next(c for c in spec.cells if c.name == group.cell)
    if selection.server is not None:
        named = [selection.server]
        keys = [f"{gkey}.server" if group.server is not None else f"{gkey}.selection.server"]
    elif selection.servers is not None:
        named = list(dict.fromkeys(selection.servers))
        keys = [f"{gkey}.selection.servers.{selection.servers.index(n)}" for n in named]
    else:
        named = [s.name for s in spec.servers]
        keys = []
    nodes = {s.name: s.node for s in spec.servers}
    for name, key in zip(named, keys, strict=False):
        if (cell.name, name) not in all_paths:
            raise err(
                f"no network path from cell node '{cell.node}' to server '{name}' "
                f"(node '{nodes[name]}')",
                key,
                name,
                "a server connected through network.links",
            )
    candidates: dict[str, tuple[str, ...]] = {}
    for c in spec.cells:
        for access in _access_nodes(c):
            reach = [n for n in named if (access, n) in all_paths]
            latency = {n: all_paths[(access, n)].latency_s for n in reach}
            candidates[access] = tuple(sorted(reach, key=lambda n: (latency[n], n)))
    own = _access_nodes(cell)
    for access, node in own.items():
        if access != cell.name and candidates[cell.name] and not candidates[access]:
            raise err(
                f"no candidate server is reachable from station cell '{access}' (node "
                f"'{node}') of cell '{cell.name}'",
                f"{gkey}.selection.servers" if selection.servers else f"{gkey}.cell",
                group.cell,
                "a topology (network.links) joining every station's node to a candidate server",
            )
    return selection, candidates


def _access_nodes(cell: CellConfig) -> dict[str, str]:
    """The cell's own name -> its node, and each station that is a cell of its own."""
    from sim.channel.intercell import station_nodes  # here: it imports the SimPy cell models

    nodes = {cell.name: cell.node}
    nodes.update(station_nodes(cell))
    return nodes


def _add_service(
    table: dict[tuple[str, str], ServiceModel],
    profile: ServerProfile,
    server_name: str,
    part: ServerPart,
    model: ModelProfile,
    fits: FitCache | None = None,
) -> None:
    if (server_name, part.key) not in table:
        table[(server_name, part.key)] = service_model(profile, part, model, fits)


def _background_service(
    table: dict[tuple[str, str], ServiceModel],
    profile: ServerProfile,
    server: ServerConfig,
    part_key: str,
    library: ProfileLibrary,
    models: dict[str, ModelProfile],
    file: str | None,
    key: str,
    err,
) -> None:
    """Resolve a background load's part: measured on the server, or derived from the model."""
    if part_key.count("/") != 1:
        raise err(
            "background part must be '<model>/<part>'", key, part_key, list_choices(profile.parts)
        )
    if (server.name, part_key) in table:
        return
    measured = measured_service_model(profile, part_key)
    if measured is not None:
        table[(server.name, part_key)] = measured
        return
    model_name, part = part_key.split("/")
    model = models.get(model_name) or library.model(model_name, file=file, key=key)
    sp = server_part(model, part)
    if sp is None:
        raise err(
            f"unknown part for model '{model_name}'",
            key,
            part_key,
            "full, a variant of the model, tail_after_<block>, or a part the server measured: "
            + list_choices(profile.parts),
        )
    _add_service(table, profile, server.name, sp, model)
