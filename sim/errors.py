"""The project's one error type for bad input, formatted as a single line.

Every check of user input (scenario files, profiles, traces, command-line
overrides) raises :class:`SimInputError`; the CLI prints its message and exits
with code 2. Nothing else should escape the loaders.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def _short_value(value: Any, limit: int = 60) -> str:
    """Repr of a value, shortened so the error stays on one line."""
    text = repr(value).replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


class SimInputError(ValueError):
    """Bad user input: names the file, the dotted key, the value and what is allowed."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        key: str | None = None,
        value: Any = ...,
        allowed: str | None = None,
        line: int | None = None,
    ) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.key = key
        self.value = value
        self.allowed = allowed
        self.line = line
        super().__init__(self.format())

    def format(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.key:
            parts.append(f"key '{self.key}'")
        head = ": ".join(parts)
        text = f"{head}: {self.problem}"
        if self.value is not ...:
            text += f" (got {_short_value(self.value)})"
        if self.allowed:
            text += f"; allowed: {self.allowed}"
        return text.replace("\n", " ")

    def located(
        self, *, file: str | Path | None = None, key_prefix: str | None = None
    ) -> SimInputError:
        """A copy with the file filled in and the key prefixed (for nested loaders)."""
        key = self.key
        if key_prefix:
            key = f"{key_prefix}.{key}" if key else key_prefix
        return SimInputError(
            self.problem,
            file=self.file or file,
            key=key,
            value=self.value,
            allowed=self.allowed,
            line=self.line,
        )


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest choice, or '' when nothing is close."""
    match = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{match[0]}'?)" if match else ""


def list_choices(choices: Iterable[str], limit: int = 12) -> str:
    names = sorted(set(choices))
    text = ", ".join(names[:limit])
    if len(names) > limit:
        text += f", ... ({len(names)} in all)"
    return text
