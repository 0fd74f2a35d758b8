"""Merge run directories (e.g. the shards of a job array) into one run, then re-aggregate.

Records are de-duplicated by their key, so merging overlapping or repeated shards is safe; two
records with the same key but different values are a conflict and stop the merge.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness import manifest as mf
from harness.images import ImageStore
from harness.records import EditRecord, JsonlLog, RunRecord, SampleRecord, read_jsonl
from harness.runner import finish_run


class MergeError(RuntimeError):
    """The inputs cannot be merged: one line for the user."""


def merge_runs(dirs: list[Path], out: Path, *, seed: int = 0) -> Path:
    for directory in dirs:
        if not (directory / "records.jsonl").exists():
            raise MergeError(f"{directory} is not a run directory (no records.jsonl)")
    out.mkdir(parents=True, exist_ok=True)
    images = ImageStore(out / "images")
    manifests = [mf.read_manifest(d / "manifest.json") or {} for d in dirs]
    fingerprints = {json.dumps(m.get("fingerprints"), sort_keys=True) for m in manifests}
    if len(fingerprints) > 1:
        raise MergeError("the runs used different suites, editors or metrics (fingerprints differ)")
    for name, cls in (
        ("samples.jsonl", SampleRecord),
        ("edits.jsonl", EditRecord),
        ("records.jsonl", RunRecord),
    ):
        seen: dict[tuple, object] = {}
        for directory in dirs:
            for record in read_jsonl(directory / name, cls):
                previous = seen.get(record.key)
                if previous is not None and cls is RunRecord and previous.value != record.value:
                    raise MergeError(f"conflicting values for {record.key} in {directory}")
                seen.setdefault(record.key, record)
        (out / name).unlink(missing_ok=True)
        with JsonlLog(out / name) as log:
            for key in sorted(seen):
                log.append(seen[key])
    for directory in dirs:
        source = ImageStore(directory / "images")
        for path in sorted((directory / "images").glob("*/*.png")):
            images.copy_from(source, path.stem)
    merged = dict(manifests[0])
    merged["merged_from"] = [str(d) for d in dirs]
    merged["sessions"] = [s for m in manifests for s in m.get("sessions", [])]
    mf.write_manifest(out / "manifest.json", merged)
    finish_run(out, seed=seed)
    return out
