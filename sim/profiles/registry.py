"""Finding and loading profiles by name (shipped) or by path (the user's own)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from sim.errors import SimInputError, did_you_mean, list_choices
from sim.profiles.schema import DeviceProfile, ModelProfile, ServerProfile
from sim.validation import Strict, validate_data
from sim.yamlio import read_yaml

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


def load_profile_file(kind: ProfileKind, path: str | Path) -> Strict:
    """Read and validate one profile file; errors name that file."""
    doc = read_yaml(path)
    model = _FOLDERS[kind][1]
    if not isinstance(doc.data, dict):
        raise SimInputError(f"a {kind} profile must be a mapping", file=path)
    return validate_data(model, doc.data, file=path, doc=doc)


def looks_like_path(ref: str) -> bool:
    return "/" in ref or "\\" in ref or ref.endswith((".yaml", ".yml"))


class ProfileLibrary:
    """Resolves profile references of one scenario, caching each file once.

    ``base_dir`` is the scenario's folder: relative paths are taken from there.
    """

    def __init__(self, base_dir: Path | None = None) -> None:
        self.base_dir = base_dir or Path.cwd()
        self._cache: dict[tuple[str, Path], Strict] = {}

    def path_of(self, kind: ProfileKind, ref: str) -> Path:
        if looks_like_path(ref):
            path = Path(ref).expanduser()
            return path if path.is_absolute() else (self.base_dir / path)
        return shipped_path(kind, ref)

    def resolve(self, kind: ProfileKind, ref: str, *, file: str | Path | None, key: str) -> Strict:
        """The profile ``ref`` names; unknown names list the shipped ones."""
        path = self.path_of(kind, ref)
        if not looks_like_path(ref) and not path.exists():
            names = shipped_names(kind)
            raise SimInputError(
                f"unknown {kind} profile{did_you_mean(ref, names)}",
                file=file,
                key=key,
                value=ref,
                allowed=list_choices(names) + " (or a path to a profile file)",
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
