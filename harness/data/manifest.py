"""The record of a downloaded benchmark, and the check that a copy still matches it.

``ieval data fetch`` writes ``ieval-manifest.json`` into the benchmark's folder: source, revision,
per-file sha256 and size, and the record count of every split it could read. ``ieval data verify``
re-hashes the files against it, checks the revision against the one the loader pins, and compares
the split counts with the counts the benchmark publishes (``expected_counts`` on the suite class).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.data.location import MANIFEST_NAME
from harness.fingerprint import file_sha256

SKIP_DIRS = {".cache", ".huggingface", "__pycache__"}


def list_files(folder: Path) -> dict[str, dict[str, Any]]:
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or rel.name == MANIFEST_NAME or SKIP_DIRS & set(rel.parts):
            continue
        files[rel.as_posix()] = {"sha256": file_sha256(str(path)), "bytes": path.stat().st_size}
    return files


def split_counts(suite: Any) -> dict[str, int]:
    """Records per split for every split whose files are present (unreadable splits are left out)."""
    from harness.suites.benchmarks.base import DataError

    counts: dict[str, int] = {}
    for split in suite.splits:
        try:
            counts[split] = suite.count(split)
        except DataError:
            continue
    return counts


def write_manifest(suite: Any, revision: str | None) -> dict[str, Any]:
    manifest = {
        "name": suite.name,
        "source": suite.source.repo_id or suite.source.homepage,
        "kind": suite.source.kind,
        "revision": revision,
        "pinned_revision": suite.source.revision,
        "loader_version": suite.version,
        "written_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "files": list_files(suite.root),
        "counts": split_counts(suite),
    }
    (suite.root / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
    return manifest


@dataclass
class VerifyReport:
    name: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_checked: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(suite: Any) -> VerifyReport:
    report = VerifyReport(suite.name)
    path = suite.root / MANIFEST_NAME
    if not path.is_file():
        report.problems.append(f"no {MANIFEST_NAME} in {suite.root}: run 'ieval data fetch {suite.name}'")
        return report
    recorded = json.loads(path.read_text(encoding="utf-8"))
    pinned = suite.source.revision
    if pinned and recorded.get("revision") != pinned:
        report.problems.append(f"revision {recorded.get('revision')} differs from the pinned {pinned}")
    elif not pinned:
        report.notes.append(f"no revision pinned by the loader; the copy is at {recorded.get('revision')}")
    current = list_files(suite.root)
    for rel, entry in sorted(recorded.get("files", {}).items()):
        report.files_checked += 1
        now = current.get(rel)
        if now is None:
            report.problems.append(f"missing file {rel}")
        elif now["sha256"] != entry["sha256"]:
            report.problems.append(
                f"{rel}: sha256 {now['sha256'][:12]}… differs from the manifest's {entry['sha256'][:12]}…"
            )
    for rel in sorted(set(current) - set(recorded.get("files", {}))):
        report.notes.append(f"file not in the manifest: {rel}")
    report.counts = split_counts(suite)
    for split, count in report.counts.items():
        expected = suite.expected_counts.get(split)
        if expected is not None and count != expected:
            report.problems.append(f"split {split}: {count} records, the benchmark publishes {expected}")
        if recorded.get("counts", {}).get(split) not in (None, count):
            report.problems.append(
                f"split {split}: {count} records, the manifest recorded {recorded['counts'][split]}"
            )
    return report
