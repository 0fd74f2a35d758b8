"""Files written whole or not at all.

The content is serialised first, written to a sibling ``NAME.partial`` and renamed over the target
(``os.replace``, atomic within one file system). A crash or ``kill -9`` at any point leaves the
previous file or the new one, never a torn one; a value that cannot be serialised leaves the
target untouched and no partial file behind. Used for every record a rerun reads back to decide
what is done (run manifests, training summaries, checkpoint markers).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` whole, through ``path.partial``; returns the path."""
    target = Path(path)
    partial = target.with_name(target.name + ".partial")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def write_json(
    path: str | os.PathLike[str],
    data: Any,
    *,
    indent: int | None = 1,
    sort_keys: bool = False,
    default: Callable[[Any], Any] | None = None,
) -> Path:
    """``json.dumps(data)`` with a final newline, written whole (``write_text``)."""
    text = json.dumps(data, indent=indent, sort_keys=sort_keys, default=default)
    return write_text(path, text + "\n")
