"""Read a run directory (manifest, samples, edits, records, images) into one typed object."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.images import ImageStore
from harness.records import EditRecord, RunRecord, SampleRecord, read_jsonl

RUN_FILES = ("manifest.json", "samples.jsonl", "edits.jsonl", "records.jsonl")


class RunDirError(ValueError):
    """A path that is not a readable run directory (a user error: one line with the fix)."""


@dataclass
class RunData:
    """Everything one run wrote. ``images`` may point at a shared store (a board's)."""

    root: Path
    manifest: dict[str, Any]
    manifest_hash: str
    samples: list[SampleRecord]
    edits: list[EditRecord]
    records: list[RunRecord]
    images: ImageStore
    verification: dict[str, Any] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return run_id_of(self.manifest, self.manifest_hash)

    def sample_index(self) -> dict[tuple[str, str, str], SampleRecord]:
        return {s.key: s for s in self.samples}

    def edit_index(self) -> dict[tuple[str, str, str, str], EditRecord]:
        return {e.key: e for e in self.edits}


def run_id_of(manifest: dict[str, Any], manifest_hash: str) -> str:
    """The manifest's ``run_id`` when it has one, else the first 12 hex digits of its hash."""
    declared = manifest.get("run_id")
    if isinstance(declared, str) and declared and _safe_name(declared):
        return declared
    return manifest_hash[:12]


def _safe_name(name: str) -> bool:
    return len(name) <= 80 and all(ch.isalnum() or ch in "-_." for ch in name) and not name.startswith(".")


def manifest_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_run_dir(path: str | os.PathLike[str]) -> bool:
    root = Path(path)
    return (root / "manifest.json").is_file() and (root / "records.jsonl").is_file()


def load_run(path: str | os.PathLike[str], *, images: ImageStore | None = None) -> RunData:
    """Load ``path``; raise RunDirError (one line) when it is not a run directory."""
    root = Path(path)
    if not root.is_dir():
        raise RunDirError(f"{root}: not a directory; pass the --out folder of an 'ieval run'")
    if not is_run_dir(root):
        raise RunDirError(
            f"{root}: no manifest.json and records.jsonl here; pass the --out folder of an 'ieval run'"
        )
    raw = (root / "manifest.json").read_bytes()
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise RunDirError(f"{root / 'manifest.json'}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict):
        raise RunDirError(f"{root / 'manifest.json'}: expected a JSON object")
    verification: dict[str, Any] = {}
    if (root / "verification.json").is_file():
        verification = json.loads((root / "verification.json").read_text(encoding="utf-8"))
    return RunData(
        root=root,
        manifest=manifest,
        manifest_hash=manifest_sha256(raw),
        samples=list(read_jsonl(root / "samples.jsonl", SampleRecord)),
        edits=list(read_jsonl(root / "edits.jsonl", EditRecord)),
        records=list(read_jsonl(root / "records.jsonl", RunRecord)),
        images=images if images is not None else ImageStore(root / "images"),
        verification=verification,
    )
