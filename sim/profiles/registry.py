"""Finding and loading profiles by name (shipped) or by path (the user's own)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TypeVar

from sim.errors import SimInputError, did_you_mean, list_choices
from sim.file_memo import ContentMemo
from sim.profiles.schema import DeviceProfile, ModelProfile, ServerProfile
from sim.validation import Strict, validate_data
from sim.yamlio import MAX_FILE_BYTES, read_yaml

ProfileKind = Literal["model", "device", "server"]
P = TypeVar("P", bound=Strict)

SHIPPED_DIR = Path(__file__).parent / "data"
_FOLDERS: dict[ProfileKind, tuple[str, type[Strict]]] = {
    "model": ("models", ModelProfile),
    "device": ("devices", DeviceProfile),
    "server": ("servers", ServerProfile),
}


def shipped_names(kind: ProfileKind) -> list[str]:
    """Names of the profiles of ``kind`` shipped with the package."""
    folder = SHIPPED_DIR / _FOLDERS[kind][0]
    return sorted(p.stem for p in folder.glob("*.yaml"))


def shipped_path(kind: ProfileKind, name: str) -> Path:
    return SHIPPED_DIR / _FOLDERS[kind][0] / f"{name}.yaml"


PROFILES: ContentMemo[Strict] = ContentMemo(max_entries=256, max_bytes=MAX_FILE_BYTES)
"""Validated profiles by (path, SHA-256 of the file, kind) (sim/file_memo.py: never stale).
Saves the YAML parse and validation (~5 ms a file) that every sweep point repeated;
profiles are frozen models, so sharing them is safe."""


def load_profile_file(kind: ProfileKind, path: str | Path) -> Strict:
    """Read and validate one profile file (memoised on its content); errors name that file."""
    return PROFILES.get(path, kind, lambda: load_profile_file_uncached(kind, path))


def clear_profile_cache() -> None:
    """Forget every memoised profile (and hinge fit): the next load parses the files again."""
    from sim.profiles.service import clear_fit_cache

    PROFILES.clear()
    clear_fit_cache()


def load_profile_file_uncached(kind: ProfileKind, path: str | Path) -> Strict:
    """:func:`load_profile_file` without its memo: read, parse and validate."""
    doc = read_yaml(path)
    model = _FOLDERS[kind][1]
    if not isinstance(doc.data, dict):
        raise SimInputError(f"a {kind} profile must be a mapping", file=path)
    return validate_data(model, doc.data, file=path, doc=doc)


def looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml"))


PROFILE_PATH_ENV = "SPLITSIM_PROFILE_PATH"
"""Folders (separated by ``os.pathsep``) searched for profiles named without a path."""


def env_search_path() -> list[Path]:
    """The folders of ``$SPLITSIM_PROFILE_PATH``, in order (empty entries ignored)."""
    value = os.environ.get(PROFILE_PATH_ENV, "")
    return [Path(part).expanduser() for part in value.split(os.pathsep) if part.strip()]


class ProfileLibrary:
    """Resolves profile references of one scenario, caching each file once.

    ``base_dir`` is the scenario's folder: relative paths are taken from there.
    A name without a path (``device: my_board``) is looked up as
    ``<folder>/<devices|models|servers>/<name>.yaml`` in each folder of
    ``search_path`` (the scenario's ``profile_path``, relative to ``base_dir``),
    then of ``$SPLITSIM_PROFILE_PATH``, then among the shipped profiles. The
    profiler's ``--out my_board`` folder has this layout, so pointing the path at
    it is enough.
    """

    def __init__(
        self, base_dir: Path | None = None, search_path: Sequence[str | Path] = ()
    ) -> None:
        self.base_dir = base_dir or Path.cwd()
        self.search_path: list[Path] = [
            p if p.is_absolute() else self.base_dir / p
            for p in (Path(entry).expanduser() for entry in search_path)
        ] + env_search_path()
        self._cache: dict[tuple[str, Path], Strict] = {}

    def user_path(self, kind: ProfileKind, name: str) -> Path | None:
        """The first ``<folder>/<kind folder>/<name>.yaml`` on the search path, if any."""
        for folder in self.search_path:
            candidate = folder / _FOLDERS[kind][0] / f"{name}.yaml"
            if candidate.is_file():
                return candidate
        return None

    def names(self, kind: ProfileKind) -> list[str]:
        """Every name ``kind`` profiles can be referred to by: the search path's and the shipped."""
        found = set(shipped_names(kind))
        for folder in self.search_path:
            found.update(p.stem for p in (folder / _FOLDERS[kind][0]).glob("*.yaml"))
        return sorted(found)

    def path_of(self, kind: ProfileKind, ref: str) -> Path:
        if looks_like_path(ref):
            path = Path(ref).expanduser()
            return path if path.is_absolute() else (self.base_dir / path)
        return self.user_path(kind, ref) or shipped_path(kind, ref)

    def resolve(self, kind: ProfileKind, ref: str, *, file: str | Path | None, key: str) -> Strict:
        """The profile ``ref`` names; unknown names list the shipped ones."""
        path = self.path_of(kind, ref)
        if not looks_like_path(ref) and not path.exists():
            names = self.names(kind)
            searched = ", ".join(str(p) for p in self.search_path)
            raise SimInputError(
                f"unknown {kind} profile{did_you_mean(ref, names)}",
                file=file,
                key=key,
                value=ref,
                allowed=list_choices(names)
                + " (or a path to a profile file"
                + (f"; searched {searched}" if searched else "")
                + f"; add folders with profile_path or ${PROFILE_PATH_ENV})",
            )
        if looks_like_path(ref) and not path.exists():
            raise SimInputError(
                f"{kind} profile file not found: {path}", file=file, key=key, value=ref
            )
        cache_key = (kind, path.resolve())
        if cache_key not in self._cache:
            self._cache[cache_key] = load_profile_file(kind, path)
        return self._cache[cache_key]

    def model(self, ref: str, *, file: str | Path | None, key: str) -> ModelProfile:
        profile = self.resolve("model", ref, file=file, key=key)
        assert isinstance(profile, ModelProfile)
        return profile

    def device(self, ref: str, *, file: str | Path | None, key: str) -> DeviceProfile:
        profile = self.resolve("device", ref, file=file, key=key)
        assert isinstance(profile, DeviceProfile)
        return profile

    def server(self, ref: str, *, file: str | Path | None, key: str) -> ServerProfile:
        profile = self.resolve("server", ref, file=file, key=key)
        assert isinstance(profile, ServerProfile)
        return profile
