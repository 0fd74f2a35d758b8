"""Write any suite split as a folder dataset (the format ``harness.suites.folder`` reads)."""

from __future__ import annotations

import json
from pathlib import Path

from harness import registry
from harness.images import encode_png
from harness.planning import accepted_options
from harness.registry import UnavailableError
from harness.types import InvalidSample, sample_fields


class ExportError(RuntimeError):
    """The export cannot be done as asked: one line for the user."""


def _file_name(sample_id: str) -> str:
    return sample_id.replace("/", "__")


def export_suite(name: str, *, split: str, n: int, out: Path, seed: int = 0) -> Path:
    factory, _ = registry.suites.factory(name)
    try:
        suite = registry.suites.create(name, **accepted_options(factory, {"seed": seed}))
    except UnavailableError as exc:
        raise ExportError(str(exc)) from exc
    if split not in suite.splits:
        raise ExportError(f"suite '{name}' has no split '{split}' (splits: {', '.join(suite.splits)})")
    try:
        for sub in ("source", "target", "mask"):
            (out / sub).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot write to {out}: {exc.strerror or exc}") from exc
    with open(out / "samples.jsonl", "w", encoding="utf-8") as handle:
        for sample in suite.samples(split, limit=n):
            if isinstance(sample, InvalidSample):
                continue
            stem = _file_name(sample.id)
            row = {**sample_fields(sample), "source": f"source/{stem}.png"}
            (out / row["source"]).write_bytes(encode_png(sample.source))
            if sample.target is not None:
                row["target"] = f"target/{stem}.png"
                (out / row["target"]).write_bytes(encode_png(sample.target))
            if sample.mask is not None:
                row["mask"] = f"mask/{stem}.png"
                (out / row["mask"]).write_bytes(encode_png(sample.mask))
            handle.write(json.dumps(row, default=str, sort_keys=True) + "\n")
    return out
