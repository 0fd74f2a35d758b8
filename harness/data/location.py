"""Where benchmark data lives: ``$IEVAL_DATA_DIR`` or ``~/.cache/ieval/data``, one folder per suite.

Kept free of heavy imports: suite availability checks (``ieval ls``) call these functions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

DATA_DIR_ENV = "IEVAL_DATA_DIR"
MANIFEST_NAME = "ieval-manifest.json"


def data_root() -> Path:
    configured = os.environ.get(DATA_DIR_ENV)
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "ieval" / "data"


def dataset_dir(name: str, root: str | os.PathLike[str] | None = None) -> Path:
    return (Path(root).expanduser() if root is not None else data_root()) / name


def fetch_command(name: str) -> str:
    return f"ieval data fetch {name}"


def missing_layout(folder: Path, layout: Sequence[str]) -> list[str]:
    """The layout patterns (globs relative to ``folder``) that match no file."""
    if not folder.is_dir():
        return list(layout)
    return [pattern for pattern in layout if next(iter(folder.glob(pattern)), None) is None]


def not_downloaded_reason(
    name: str, layout: Sequence[str], root: str | os.PathLike[str] | None = None
) -> str | None:
    """None when every layout pattern matches a file, else the one-line reason with the fetch command."""
    folder = dataset_dir(name, root)
    missing = missing_layout(folder, layout)
    if not missing:
        return None
    return f"not downloaded: run '{fetch_command(name)}' (expected {missing[0]} under {folder})"
