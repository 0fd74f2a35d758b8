"""Keeping API keys out of everything we write: a masked holder, redaction and a leak scan."""

from __future__ import annotations

import os
from pathlib import Path

REDACTED = "***"


class Secret:
    """An API key whose repr and str never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def redact(text: str, secrets: list[str] | tuple[str, ...]) -> str:
    """``text`` with every occurrence of each non-trivial secret replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def find_string_in_tree(root: str | os.PathLike[str], needle: str) -> list[Path]:
    """Every file under ``root`` whose bytes contain ``needle`` (UTF-8), for leak checks of run dirs."""
    data = needle.encode("utf-8")
    hits = []
    for path in sorted(Path(root).rglob("*")):
        if path.is_file() and not path.is_symlink():
            try:
                if data in path.read_bytes():
                    hits.append(path)
            except OSError:
                continue
    return hits
