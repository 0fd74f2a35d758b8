"""Training logs: one JSON object per line (flushed per record), a learning-curve PNG, and the
summary a training command prints last, read back from its output."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


class MetricsLog:
    """Append-only JSONL; ``records()`` reads it back (a torn last line is skipped).

    A run calls ``restart(step)`` before training: a fresh run (step 0) starts an empty log, a run
    resumed from a checkpoint keeps the records up to that checkpoint's step and drops the later
    ones, which the resumed run writes again. Without it, a rerun into the same directory would add
    a second copy of every step to the log and the curve.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def write(self, record: Mapping[str, Any]) -> None:
        clean = {k: _plain(v) for k, v in record.items()}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(clean, sort_keys=True) + "\n")
            handle.flush()

    def restart(self, step: int) -> int:
        """Keep only the records of steps <= ``step``; returns how many were dropped."""
        records = self.records()
        kept = [r for r in records if isinstance(r.get("step"), int) and r["step"] <= step]
        if len(kept) == len(records) and self.path.exists():
            return 0
        text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept)
        self.path.write_text(text, encoding="utf-8")
        return len(records) - len(kept)

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return out


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def plot_curves(
    records: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    path: str | os.PathLike[str],
    title: str,
    series: str | None = None,
    mark: float | None = None,
) -> Path | None:
    """One panel per key (x = ``step``); returns the PNG path, or None without matplotlib/data.
    With ``series``, records are grouped by that field (e.g. ``run`` in a joined log) and each group
    is a line of its own, in a legend; ``mark`` draws a dotted line at that step."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    present = [k for k in keys if any(r.get(k) is not None for r in records)]
    if not present:
        return None
    groups = list(dict.fromkeys(r.get(series) for r in records)) if series else [None]
    fig, axes = plt.subplots(1, len(present), figsize=(4.2 * len(present), 3.4), squeeze=False)
    for axis, key in zip(axes[0], present, strict=True):
        for group in groups:
            mine = [r for r in records if not series or r.get(series) == group]
            points = sorted((r["step"], r[key]) for r in mine if r.get(key) is not None and "step" in r)
            axis.plot([p[0] for p in points], [p[1] for p in points], marker=".", linewidth=1, label=group)
        if mark is not None:
            axis.axvline(mark, color="grey", linestyle=":", linewidth=1)
        axis.set_title(key)
        axis.set_xlabel("step")
        axis.grid(alpha=0.3)
    if series:
        axes[0][0].legend(fontsize=8)
    fig.suptitle(title, fontsize=10 if series else None)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def last_json(text: str) -> dict[str, Any]:
    """The last top-level JSON object a stage printed (its summary), or {}. Objects nested in one
    already read (``"environment": {...}``) are skipped; an object may follow other output on its
    line (a progress bar that ended without a newline)."""
    found: dict[str, Any] = {}
    read_to = 0
    decoder = json.JSONDecoder()
    for match in re.finditer(r"\{", text):
        if match.start() < read_to:
            continue
        try:
            value, end = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            found, read_to = value, end
    return found
