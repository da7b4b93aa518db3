"""Reading, validating and writing profile files from the calibration scripts.

Profiles are validated with the simulator's own schema (:mod:`sim.profiles.schema`)
before they are written, and written atomically (temporary file, then rename),
so a failed run leaves nothing half-written. On a board where :mod:`sim`'s
dependencies (pydantic, PyYAML) are not installed the file is written as JSON
(a subset of YAML that the simulator reads) with a warning that it was not
validated; validate it on the host with ``python -m sim profiles show PATH``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the scripts run as `python calibration/x.py` from anywhere
    sys.path.insert(0, str(ROOT))

KINDS = {"model": "models", "device": "devices", "server": "servers"}


def sim_available() -> bool:
    """True when the simulator's profile schema can be imported here."""
    try:
        import sim.profiles.schema
        import sim.yamlio  # noqa: F401
    except ImportError:
        return False
    return True


def validate(kind: str, doc: dict[str, Any]) -> bool:
    """Validate ``doc`` as a ``kind`` profile; False (with a warning) if :mod:`sim` is unavailable.

    Raises pydantic's ValidationError when the document is invalid.
    """
    if not sim_available():
        warnings.warn(
            f"sim is not importable here: the {kind} profile was NOT validated", stacklevel=2
        )
        return False
    from sim.profiles.schema import DeviceProfile, ModelProfile, ServerProfile

    schema = {"model": ModelProfile, "device": DeviceProfile, "server": ServerProfile}[kind]
    schema.model_validate(doc)
    return True


def dumps(doc: dict[str, Any], header: str = "") -> str:
    """YAML text of ``doc`` (the simulator's dumper), or JSON when it is not available."""
    prefix = "".join(f"# {line}\n" for line in header.splitlines())
    if sim_available():
        from sim.yamlio import dump_yaml

        return prefix + dump_yaml(doc)
    return prefix + json.dumps(doc, indent=1) + "\n"


def read_doc(path: Path) -> dict[str, Any] | None:
    """An existing profile file as plain data (YAML or JSON), or None if there is none."""
    if not path.exists():
        return None
    text = path.read_text()
    try:
        import yaml
    except ImportError:
        body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        return json.loads(body)
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a profile mapping")
    return data


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes the file private; a profile is not
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_profile(kind: str, doc: dict[str, Any], path: Path, header: str = "") -> Path:
    """Validate then write one profile; returns its path."""
    validate(kind, doc)
    write_atomic(path, dumps(doc, header))
    return path


def profile_path(out_dir: Path, kind: str, name: str) -> Path:
    """``OUT/<kind folder>/<name>.yaml``, the layout of ``sim/profiles/data``."""
    return out_dir / KINDS[kind] / f"{name}.yaml"
