"""Where the tool may write: the checks every output folder passes before anything runs.

The rule (never destroy a user's files): a run's ``--out`` may be a new path,
an empty folder, or a folder the tool wrote itself as a run's output, which
holds the marker file ``.splitsim-output`` listing every file written there
and nothing else. Everything else is refused with one line and left untouched:
an existing file, a folder holding anything the tool did not write, a
symbolic link, the filesystem root, the home folder, the working folder or
one of its parents, and a place the user cannot write to. Sweep folders (which
the tool only ever adds to) share the checks on the place itself
(:func:`check_place`).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from sim.errors import SimInputError

MARKER = ".splitsim-output"
"""Marker file of a run's output folder: JSON with the run's identity and its file list."""

_ALLOWED_RUN = "a new folder, an empty folder, or the output folder of an earlier run"


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if os.path.lexists(candidate):
            return candidate
    return Path(path.anchor or "/")


def check_place(path: str | Path, *, what: str = "output", allowed: str = _ALLOWED_RUN) -> Path:
    """``path`` if it is a place the tool may write a folder to (not a link, not ``/``,
    ``~``, ``.`` or a parent of it, creatable); otherwise a one-line SimInputError."""
    if not isinstance(path, str | os.PathLike):
        raise SimInputError(
            f"{what} folder must be a path", value=path, allowed="a str or pathlib.Path"
        )
    raw = os.fspath(path)
    if not raw.strip():
        raise SimInputError(f"empty {what} folder", value=raw, allowed=allowed)
    given = Path(raw).expanduser()
    if given.is_symlink():
        raise SimInputError(
            f"{what} folder is a symbolic link (to {os.readlink(given)}); nothing was changed",
            file=given,
            allowed=f"{allowed}; give the link's target itself",
        )
    try:
        resolved = given.resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop on the way
        raise SimInputError(f"cannot resolve the {what} folder: {exc}", file=given) from None
    cwd = Path.cwd().resolve()
    if resolved == Path(resolved.anchor):
        problem = "is the filesystem root"
    elif resolved == Path.home().resolve():
        problem = "is your home folder"
    elif resolved == cwd or resolved in cwd.parents:
        problem = "is the working folder or one of its parents"
    else:
        problem = ""
    if problem:
        raise SimInputError(
            f"{what} folder {problem}; nothing was changed", file=raw, allowed=allowed
        )
    if os.path.lexists(given) and not given.is_dir():
        raise SimInputError(
            f"{what} path exists and is not a folder; nothing was changed",
            file=given,
            allowed=allowed,
        )
    existing = _nearest_existing(given.parent if not given.exists() else given)
    if not existing.is_dir():
        raise SimInputError(
            f"cannot create the {what} folder: {existing} is not a folder", file=given
        )
    parent = given.parent if given.exists() else existing
    probe = parent / f".splitsim-probe-{uuid.uuid4().hex[:12]}"
    try:  # os.access says yes to root on read-only mounts and /proc: try it
        probe.mkdir()
        probe.rmdir()
    except OSError as exc:
        raise SimInputError(
            f"cannot write the {what} folder: {parent} is not writable ({exc.strerror})",
            file=given,
        ) from None
    return given


def marker_files(folder: Path) -> set[str] | None:
    """The files a run's output folder lists as written by the tool, or None if it is not
    one (an older output folder without the marker is recognised by its summary.json)."""
    for name, key in ((MARKER, "format"), ("summary.json", "scenario")):
        path = folder / name
        if path.is_symlink() or not path.is_file():
            continue
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        files = meta.get("files") if isinstance(meta, dict) else None
        if key in meta and isinstance(files, list) and all(isinstance(f, str) for f in files):
            return {*files, name}
    return None


OS_METADATA = frozenset({".DS_Store", "Thumbs.db", "desktop.ini"})
"""Files a file browser drops into any folder it shows (no user data): not a reason to refuse."""


def _unlisted(folder: Path, listed: set[str], limit: int = 5) -> list[str]:
    """Entries of ``folder`` the tool did not write (at most ``limit``), without following links."""
    extra: list[str] = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        base = Path(root).relative_to(folder)
        for name in files + [d for d in dirs if (Path(root) / d).is_symlink()]:
            rel = (base / name).as_posix()
            if rel not in listed and name not in OS_METADATA:
                extra.append(rel)
        for name in [d for d in dirs if not (Path(root) / d).is_symlink()]:
            rel = (base / name).as_posix()
            if not any(f.startswith(rel + "/") for f in listed):
                extra.append(rel + "/")
        if len(extra) >= limit:
            break
    return extra[:limit]


def check_output_target(out_dir: str | Path) -> Path:
    """``out_dir`` as a Path if a run may write (or replace) it; else a one-line SimInputError.

    Nothing is created, moved or deleted here.
    """
    path = check_place(out_dir)
    if not path.is_dir() or not any(path.iterdir()):
        return path
    listed = marker_files(path)
    if listed is None:
        raise SimInputError(
            f"output folder exists and was not written by splitsim (no {MARKER}); "
            "nothing was changed",
            file=path,
            allowed=_ALLOWED_RUN,
        )
    extra = _unlisted(path, listed)
    if extra:
        raise SimInputError(
            "output folder holds files splitsim did not write; nothing was changed",
            file=path,
            value=", ".join(extra),
            allowed=f"{_ALLOWED_RUN} (move those files elsewhere)",
        )
    return path
