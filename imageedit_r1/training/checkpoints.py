"""Intermediate checkpoints of a training run: which one to resume from, and pruning older ones.

A checkpoint directory is ``RUN/checkpoint-N`` (N = optimiser steps done). It counts as complete
only once its marker file exists: the file a stage writes last when it saves (SFT:
``trainer_state.pt``; GRPO: :data:`PROGRESS_FILE`, written after the trainer's own files). A
directory cut short by a crash or ``kill -9`` while saving has no marker and is never resumed from.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

from harness.atomic import write_json

PROGRESS_FILE = "ieval_progress.json"  # {"step": N, "seconds": training seconds up to step N}
_NAME = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_step(path: str | Path) -> int | None:
    """N of a ``checkpoint-N`` directory, None for any other name."""
    match = _NAME.match(Path(path).name)
    return int(match.group(1)) if match else None


def complete_checkpoints(run_dir: str | Path, marker: str) -> list[Path]:
    """The run's complete checkpoints, oldest first."""
    run = Path(run_dir)
    if not run.is_dir():
        return []
    found = [
        (step, path)
        for path in run.iterdir()
        if (step := checkpoint_step(path)) is not None and (path / marker).is_file()
    ]
    return [path for _, path in sorted(found)]


def latest_checkpoint(run_dir: str | Path, marker: str) -> Path | None:
    """The complete checkpoint with the most steps, or None."""
    found = complete_checkpoints(run_dir, marker)
    return found[-1] if found else None


def prune_checkpoints(run_dir: str | Path, marker: str, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` complete checkpoints, and every incomplete one older than
    the newest complete one; returns what was deleted. ``keep`` <= 0 deletes nothing."""
    if keep <= 0:
        return []
    complete = complete_checkpoints(run_dir, marker)
    if not complete:
        return []
    newest = checkpoint_step(complete[-1]) or 0
    doomed = complete[:-keep]
    doomed += [
        path
        for path in Path(run_dir).iterdir()
        if (step := checkpoint_step(path)) is not None and step < newest and not (path / marker).is_file()
    ]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


def write_progress(checkpoint: str | Path, step: int, seconds: float) -> None:
    """Mark a GRPO checkpoint complete, with the training time spent up to it."""
    write_json(Path(checkpoint) / PROGRESS_FILE, {"step": step, "seconds": round(seconds, 3)}, indent=None)


def read_progress(checkpoint: str | Path) -> dict[str, Any]:
    """``{"step", "seconds"}`` of a GRPO checkpoint; ``{}`` when it has no progress file (e.g. one
    written before progress files existed: its time then starts at zero on resume)."""
    path = Path(checkpoint) / PROGRESS_FILE
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))
