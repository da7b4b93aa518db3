"""Where a result came from: simulator version, results revision and git commit.

``RESULTS_REVISION`` is bumped by hand (and said in the closing note and
CHANGELOG) whenever a change moves any random realisation or any number a run
produces. It is part of every run's identity, so a stored sweep made by
older code is never silently reused.
"""

from __future__ import annotations

import functools
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

RESULTS_REVISION = 3
"""Revision of the numbers the simulator produces (1: up to 2026-12-06's first round; 2: the
trustworthy-answers round; 3: queueing backhaul, shared downlink with receive power, the
exact closed-form PF shares, step-counted time-to-trigger, the end of non-looping traces)."""

_DISTRIBUTION = "splitsim"
_FALLBACK_VERSION = "0.2.0.dev0"


@functools.cache
def version() -> str:
    """The installed package's version (from its metadata; the fallback when not installed)."""
    try:
        return metadata.version(_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return _FALLBACK_VERSION


@functools.cache
def git_commit() -> dict[str, Any] | None:
    """The source checkout's commit and whether it has uncommitted changes (None outside git)."""
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"commit": commit, "dirty": bool(dirty)}


def provenance() -> dict[str, Any]:
    """Version, results revision and commit, as written into every result."""
    commit = git_commit()
    return {
        "simulator_version": version(),
        "results_revision": RESULTS_REVISION,
        "git_commit": commit["commit"] if commit else None,
        "git_dirty": commit["dirty"] if commit else None,
    }
