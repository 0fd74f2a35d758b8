"""ImgEdit-Bench: the basic suite (9 edit types) and the UGE (understanding-grounding-editing) suite.

The suite files come from the GitHub repository (``Benchmark/Basic/basic_edit.json``,
``Benchmark/UGE/UGE_edit.json``: ``key -> {"id": <image path>, "prompt", "edit_type"}``); the
original images come from ``Benchmark.tar`` in the ``sysuyy/ImgEdit`` dataset repository, which
``ieval data fetch imgedit`` downloads and unpacks. The image root is found by locating the first
entry's image path under the data folder, so the archive's top-level folder names do not matter.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

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
TYPE_ALIASES = {"alter": "adjust", "hybrid": "compose"}
SUITE_FILES = {"basic": "basic_edit.json", "uge": "UGE_edit.json"}


class ImgEditSuite(BenchmarkSuite):
    name = "imgedit"
    splits = ("basic", "uge")
    preferred_metrics = ("imgedit_rubric",)
    official_metrics = ("imgedit_rubric",)
    official_aggregation = "harness.suites.benchmarks.aggregation:imgedit_overall"
    source = DataSource(
        "hf",
        repo_id="sysuyy/ImgEdit",
        revision=None,
        allow_patterns=("Benchmark.tar",),
        archives=("Benchmark.tar",),
        homepage="https://github.com/PKU-YuanGroup/ImgEdit",
        manual_steps=(
            "copy Benchmark/Basic/basic_edit.json and Benchmark/UGE/UGE_edit.json from the ImgEdit GitHub "
            "repository into {root}"
        ),
    )
    layout = ("**/basic_edit.json",)
    expected_counts: ClassVar[dict[str, int]] = {"basic": 737, "uge": 47}

    def _suite_file(self, split: str) -> Path:
        found = sorted(self.root.glob(f"**/{SUITE_FILES[split]}"))
        if not found:
            steps = self.source.manual_steps.format(root=self.root)
            raise DataError(f"imgedit {split}: {SUITE_FILES[split]} not found under {self.root}; {steps}")
        return found[0]

    def _image_root(self, split: str, first_image: str) -> Path:
        """The folder that holds ``first_image`` (a path relative to the image root)."""
        depth = len(Path(first_image).parts)
        matches = sorted(self.root.glob(f"**/{first_image}"))
        if split == "uge":
            matches = sorted(matches, key=lambda p: "uge" not in str(p.relative_to(self.root)).lower())
        if not matches:
            return self.root
        return matches[0].parents[depth - 1]

    def records(self, split: str) -> Iterator[Record]:
        path = self._suite_file(split)
        entries = read_json(path)
        if not isinstance(entries, dict):
            raise DataError(f"{path} should hold a JSON object key -> entry")
        first = next((e.get("id") for e in entries.values() if isinstance(e, dict) and e.get("id")), None)
        base = self._image_root(split, str(first)) if first else self.root
        for key, entry in entries.items():
            entry = entry if isinstance(entry, dict) else {}
            category = "uge" if split == "uge" else _edit_type(entry.get("edit_type"))
            yield Record(
                id=f"{split}-{key}", fields=entry, category=category, extra={"base": base, "key": key}
            )

    def to_sample(self, record: Record) -> Sample:
        entry = record.fields
        if record.category != "uge" and record.category not in IMGEDIT_TYPES:
            raise SampleError(
                f"unknown edit_type {entry.get('edit_type')!r}; expected one of {IMGEDIT_TYPES}"
            )
        image_path = str(require(entry, "id"))
        metadata: dict[str, Any] = {
            "key": record.extra["key"],
            "image": image_path,
            "edit_type": entry.get("edit_type"),
        }
        return Sample(
            id=record.id,
            source=image_field(image_path, "id", record.extra["base"]),
            instruction=str(require(entry, "prompt")),
            category=record.category,
            metadata=metadata,
        )


def _edit_type(value: object) -> str:
    text = str(value or "").strip().lower()
    return TYPE_ALIASES.get(text, text)
