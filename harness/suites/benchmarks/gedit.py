"""GEdit-Bench: 606 real-world edit requests in English and the same 606 in Chinese, 11 task groups.

Rows carry task_type, key, instruction, instruction_language ("en"/"cn"), input_image and
Intersection_exist. Splits ``en`` / ``cn`` are the full sets; ``en-intersection`` /
``cn-intersection`` keep rows whose Intersection_exist is true. The official score is VIEScore
(SC, PQ, O = sqrt(SC*PQ)) per sample, averaged per group and then over the 11 groups.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from harness.suites.benchmarks.base import BenchmarkSuite, DataSource, Record, SampleError
from harness.suites.benchmarks.reading import bool_field, image_field, require, stream_table, table_files
from harness.types import Sample

GEDIT_GROUPS: tuple[str, ...] = (
    "background_change",
    "color_alter",
    "material_alter",
    "motion_change",
    "ps_human",
    "style_change",
    "subject-add",
    "subject-remove",
    "subject-replace",
    "text_change",
    "tone_transfer",
)
TABLE_PATTERNS = ("**/*.parquet", "**/*.arrow")
LANGUAGE_CODES = {"en": "en", "cn": "zh"}


class GEditBenchSuite(BenchmarkSuite):
    name = "gedit-bench"
    splits = ("en", "cn", "en-intersection", "cn-intersection")
    preferred_metrics = ("viescore_edit",)
    official_metrics = ("viescore_sc", "viescore_pq", "viescore_o")
    official_aggregation = "harness.suites.benchmarks.aggregation:gedit_overall"
    source = DataSource(
        "hf",
        repo_id="stepfun-ai/GEdit-Bench",
        revision="58159f3de6689982b1df7f1a6c557ded16548a24",
        homepage="https://github.com/stepfun-ai/Step1X-Edit/tree/main/GEdit-Bench",
        license="MIT",
    )
    layout = ("**/*.arrow",)
    expected_counts: ClassVar[dict[str, int]] = {"en": 606, "cn": 606}

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        from harness.data.location import dataset_dir, not_downloaded_reason

        folder = dataset_dir(cls.name)
        if folder.is_dir() and (next(folder.glob("**/*.parquet"), None) is not None):
            return None
        return not_downloaded_reason(cls.name, cls.layout)

    def records(self, split: str) -> Iterator[Record]:
        language, _, subset = split.partition("-")
        files = [p for p in table_files(self.root, TABLE_PATTERNS) if "cache" not in p.name]
        for position, row in enumerate(stream_table(_one_format(files))):
            if str(row.get("instruction_language") or "").lower() != language:
                continue
            if subset == "intersection" and not bool_field(row.get("Intersection_exist")):
                continue
            key = row.get("key") or f"row{position}"
            yield Record(id=f"{language}-{key}", fields=row, category=str(row.get("task_type") or ""))

    def to_sample(self, record: Record) -> Sample:
        row = record.fields
        group = str(require(row, "task_type"))
        if group not in GEDIT_GROUPS:
            raise SampleError(f"unknown task_type {group!r}; GEdit-Bench has {', '.join(GEDIT_GROUPS)}")
        language = str(require(row, "instruction_language")).lower()
        return Sample(
            id=record.id,
            source=image_field(row.get("input_image"), "input_image"),
            instruction=str(require(row, "instruction")),
            category=group,
            language=LANGUAGE_CODES.get(language, language),
            metadata={
                "key": row.get("key"),
                "instruction_language": language,
                "intersection": bool_field(row.get("Intersection_exist")),
            },
        )


def _one_format(files: list[Path]) -> list[Path]:
    """Prefer arrow files when both arrow and parquet copies are present."""
    arrow = [p for p in files if p.suffix == ".arrow"]
    return arrow or files
