"""ImgEdit-Bench: the basic suite (9 edit types) and the UGE (understanding-grounding-editing) suite.

``Benchmark.tar`` from the ``sysuyy/ImgEdit`` dataset repository is unpacked under the data folder.
The basic suite is a JSON object ``key -> {"id": <image path>, "prompt": ..., "edit_type": ...}``
in a file named ``basic_edit.json``; image paths are relative to that file's folder. The UGE suite
is the JSON file in a folder named ``UGE`` with the same entry shape (its edit_type may be absent).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from harness.suites.benchmarks.base import BenchmarkSuite, DataError, DataSource, Record, SampleError
from harness.suites.benchmarks.reading import image_field, read_json, require
from harness.types import Sample

IMGEDIT_TYPES: tuple[str, ...] = (
    "add",
    "remove",
    "replace",
    "adjust",
    "style",
    "extract",
    "background",
    "action",
    "compose",
)
TYPE_ALIASES = {"hybrid": "compose"}


class ImgEditSuite(BenchmarkSuite):
    name = "imgedit"
    splits = ("basic", "uge")
    preferred_metrics = ("imgedit_judge",)
    official_metrics = ("imgedit_judge",)
    official_aggregation = "harness.suites.benchmarks.aggregation:imgedit_overall"
    source = DataSource(
        "hf",
        repo_id="sysuyy/ImgEdit",
        revision=None,
        allow_patterns=("Benchmark.tar",),
        archives=("Benchmark.tar",),
        homepage="https://github.com/PKU-YuanGroup/ImgEdit",
    )
    layout = ("**/basic_edit.json",)
    expected_counts: ClassVar[dict[str, int]] = {"basic": 737, "uge": 47}

    def _suite_file(self, split: str) -> Path:
        if split == "basic":
            found = sorted(self.root.glob("**/basic_edit.json"))
        else:
            found = sorted(p for p in self.root.glob("**/*.json") if p.parent.name.lower() == "uge")
        if not found:
            raise DataError(f"imgedit {split} suite file not found under {self.root}")
        return found[0]

    def records(self, split: str) -> Iterator[Record]:
        path = self._suite_file(split)
        entries = read_json(path)
        if not isinstance(entries, dict):
            raise DataError(f"{path} should hold a JSON object key -> entry")
        for key, entry in entries.items():
            entry = entry if isinstance(entry, dict) else {}
            category = "uge" if split == "uge" else _edit_type(entry.get("edit_type"))
            yield Record(
                id=f"{split}-{key}", fields=entry, category=category, extra={"base": path.parent, "key": key}
            )

    def to_sample(self, record: Record) -> Sample:
        entry = record.fields
        if record.category != "uge" and record.category not in IMGEDIT_TYPES:
            raise SampleError(
                f"unknown edit_type {entry.get('edit_type')!r}; expected one of {IMGEDIT_TYPES}"
            )
        image_path = str(require(entry, "id"))
        return Sample(
            id=record.id,
            source=image_field(image_path, "id", record.extra["base"]),
            instruction=str(require(entry, "prompt")),
            category=record.category,
            metadata={"key": record.extra["key"], "image": image_path, "edit_type": entry.get("edit_type")},
        )


def _edit_type(value: object) -> str:
    text = str(value or "").strip().lower()
    return TYPE_ALIASES.get(text, text)
