"""Emu Edit test set: real images, instructions, input/output captions; no ground-truth target.

Split names follow ``facebook/emu_edit_test_set`` (validation 2,022 rows, test 3,589). The companion
``facebook/emu_edit_test_set_generations`` lists the two the other way round; ``GENERATIONS_SPLIT``
maps ours onto its names (matched by row count), and ``metadata`` keeps ``idx`` and ``hash`` so
outputs are joined by item, never by split name. Rows whose captions are known to be unusable lose
their captions (caption metrics then report ``not_applicable``) and carry the reason in
``metadata["caption_exclusion"]``; the image metrics still run on them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

from harness.suites.benchmarks.base import BenchmarkSuite, DataSource, Record
from harness.suites.benchmarks.reading import image_field, require, stream_table, table_files
from harness.types import Sample

SPLIT_FILES = {"test": ("data/test-*.parquet",), "validation": ("data/validation-*.parquet",)}
GENERATIONS_SPLIT = {"test": "validation", "validation": "test"}


def _norm(text: Any) -> str:
    return " ".join(str(text or "").lower().split())


CAPTION_RULES: tuple[tuple[str, Callable[[Mapping[str, Any]], bool]], ...] = (
    ("input caption is empty", lambda row: not _norm(row.get("input_caption"))),
    ("output caption is empty", lambda row: not _norm(row.get("output_caption"))),
    (
        "input and output captions are identical, so a caption change cannot be measured",
        lambda row: _norm(row.get("input_caption")) == _norm(row.get("output_caption")),
    ),
)
MANUAL_EXCLUSIONS: dict[tuple[str, int], str] = {}
"""(split, idx) -> reason, for captions found wrong by inspection (OmniGen #164, ICEdit #69 drop
such items but publish no list). Add entries here with the issue that reports them."""


def caption_exclusion(split: str, row: Mapping[str, Any]) -> str | None:
    """Why this row's captions are not used, or None."""
    idx = row.get("idx")
    manual = MANUAL_EXCLUSIONS.get((split, int(idx))) if idx is not None else None
    if manual:
        return manual
    return next((reason for reason, rule in CAPTION_RULES if rule(row)), None)


class EmuEditSuite(BenchmarkSuite):
    name = "emu-edit"
    splits = ("test", "validation")
    preferred_metrics = ("clip_dir", "clip_i:recipe=emu_edit", "clip_out", "dino:recipe=emu_edit")
    official_metrics = ("clip_dir", "clip_i", "clip_out", "l1", "dino")
    source = DataSource(
        "hf",
        repo_id="facebook/emu_edit_test_set",
        revision="b31936a0b6c267e87d373014034cd8fb44ced2fb",
        allow_patterns=("data/*.parquet", "README.md"),
        homepage="https://huggingface.co/datasets/facebook/emu_edit_test_set",
        license="CC-BY-NC-4.0 (stated on the generations repository's card)",
    )
    layout = ("data/test-*.parquet", "data/validation-*.parquet")
    expected_counts: ClassVar[dict[str, int]] = {"test": 3589, "validation": 2022}

    def records(self, split: str) -> Iterator[Record]:
        for position, row in enumerate(stream_table(table_files(self.root, SPLIT_FILES[split]))):
            idx = row.get("idx")
            yield Record(
                id=f"{split}-{idx if idx is not None else f'row{position}'}",
                fields=row,
                category=str(row.get("task") or ""),
                extra={"split": split},
            )

    def to_sample(self, record: Record) -> Sample:
        row, split = record.fields, record.extra["split"]
        instruction = str(require(row, "instruction"))
        source = image_field(row.get("image"), "image")
        exclusion = caption_exclusion(split, row)
        captions = (
            {} if exclusion else {"input": str(row["input_caption"]), "output": str(row["output_caption"])}
        )
        metadata: dict[str, Any] = {
            "idx": row.get("idx"),
            "hash": row.get("hash"),
            "hf_split": split,
            "row_split_field": row.get("split"),
            "generations_split": GENERATIONS_SPLIT[split],
        }
        if exclusion:
            metadata["caption_exclusion"] = exclusion
        return Sample(
            id=record.id,
            source=source,
            instruction=instruction,
            category=str(require(row, "task")),
            captions=captions,
            metadata=metadata,
        )
