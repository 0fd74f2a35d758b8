"""Knowledge- and reasoning-heavy editing benchmarks: KRIS-Bench and RISEBench.

KRIS-Bench: one folder per task (``<task>/annotation.json`` with ``id -> {"ori_img", "gt_img"?,
"ins_en", "explain_en"?}`` plus the images). Multi-image tasks list several ``ori_img``; the first is
the source and the rest are named in ``metadata["extra_images"]``. Knowledge hints (explain_en) go
to the judge only (metadata), never to the editor.

RISEBench: ``data_total.json`` (a list of ``{"index", "category", "instruction", "image",
"reference"?}``) next to the image folders. The full set (360) comes from the ``data.zip`` of the
Hugging Face repository; the 64-item subset is the ``data/`` folder of the GitHub repository, placed
under ``subset64/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from harness.suites.benchmarks.base import BenchmarkSuite, DataError, DataSource, Record, SampleError
from harness.suites.benchmarks.reading import image_field, read_json, require
from harness.types import Sample

KRIS_DIMENSIONS: dict[str, tuple[str, str]] = {
    "count_change": ("factual", "attribute_perception"),
    "color_change": ("factual", "attribute_perception"),
    "size_adjustment": ("factual", "attribute_perception"),
    "part_completion": ("factual", "attribute_perception"),
    "anomaly_correction": ("factual", "attribute_perception"),
    "position_movement": ("factual", "spatial_perception"),
    "viewpoint_change": ("factual", "spatial_perception"),
    "temporal_prediction": ("factual", "temporal_prediction"),
    "practical_knowledge": ("conceptual", "social_science"),
    "humanities": ("conceptual", "social_science"),
    "biology": ("conceptual", "natural_science"),
    "chemistry": ("conceptual", "natural_science"),
    "geography": ("conceptual", "natural_science"),
    "mathematics": ("conceptual", "natural_science"),
    "medicine": ("conceptual", "natural_science"),
    "physics": ("conceptual", "natural_science"),
    "abstract_reasoning": ("procedural", "logical_reasoning"),
    "rule-based_reasoning": ("procedural", "logical_reasoning"),
    "multi-instruction_execution": ("procedural", "instruction_decomposition"),
    "multi-element_composition": ("procedural", "instruction_decomposition"),
}
RISE_CATEGORIES = ("temporal", "causal", "spatial", "logical")


class KrisBenchSuite(BenchmarkSuite):
    name = "kris-bench"
    splits = ("test",)
    preferred_metrics = ("kris_judge",)
    official_metrics = ("kris_vc", "kris_vq", "kris_if", "kris_kp")
    official_aggregation = "harness.suites.benchmarks.aggregation:kris_overall"
    source = DataSource(
        "hf",
        repo_id="Liang0223/KRIS_Bench",
        revision=None,
        homepage="https://github.com/mercurystraw/Kris_Bench",
    )
    layout = ("**/color_change/annotation.json",)
    expected_counts: ClassVar[dict[str, int]] = {"test": 1267}

    def records(self, split: str) -> Iterator[Record]:
        files = sorted(self.root.glob("**/annotation.json"))
        if not files:
            raise DataError(f"no <task>/annotation.json under {self.root}")
        for path in files:
            task = path.parent.name
            entries = read_json(path)
            for key, entry in entries.items():
                yield Record(
                    id=f"{task}-{key}",
                    fields=entry if isinstance(entry, dict) else {},
                    category=task,
                    extra={"base": path.parent},
                )

    def to_sample(self, record: Record) -> Sample:
        if record.category not in KRIS_DIMENSIONS:
            raise SampleError(f"unknown KRIS-Bench task folder {record.category!r}")
        entry, base = record.fields, record.extra["base"]
        originals = require(entry, "ori_img")
        originals = [originals] if isinstance(originals, str) else list(originals)
        knowledge, dimension = KRIS_DIMENSIONS[record.category]
        target = image_field(entry["gt_img"], "gt_img", base) if entry.get("gt_img") else None
        return Sample(
            id=record.id,
            source=image_field(originals[0], "ori_img", base),
            instruction=str(require(entry, "ins_en")),
            target=target,
            category=record.category,
            metadata={
                "knowledge_type": knowledge,
                "dimension": dimension,
                "extra_images": [str(p) for p in originals[1:]],
                "knowledge_hint": entry.get("explain_en"),
            },
        )


class RiseBenchSuite(BenchmarkSuite):
    name = "risebench"
    splits = ("full", "subset64")
    preferred_metrics = ("rise_judge",)
    official_metrics = (
        "rise_instruction_reasoning",
        "rise_appearance_consistency",
        "rise_visual_plausibility",
    )
    official_aggregation = "harness.suites.benchmarks.aggregation:rise_accuracy"
    source = DataSource(
        "hf",
        repo_id="PhoenixZ/RISEBench",
        revision="8fe8396031ec419ea2cc405e2f09348920ffa2c1",
        allow_patterns=("data.zip",),
        archives=("data.zip",),
        homepage="https://github.com/PhoenixZ810/RISEBench",
        manual_steps="for the 64-item subset copy the GitHub repository's data/ folder to {root}/subset64/",
    )
    layout = ("**/data_total.json",)
    expected_counts: ClassVar[dict[str, int]] = {"full": 360, "subset64": 64}

    def _index_file(self, split: str) -> Path:
        subset = self.root / "subset64"
        if split == "subset64":
            found = sorted(subset.glob("**/data_total.json"))
        else:
            found = sorted(p for p in self.root.glob("**/data_total.json") if subset not in p.parents)
        if not found:
            raise DataError(
                f"risebench {split}: no data_total.json under {subset if split == 'subset64' else self.root}"
            )
        return found[0]

    def records(self, split: str) -> Iterator[Record]:
        path = self._index_file(split)
        entries = read_json(path)
        if not isinstance(entries, list):
            raise DataError(f"{path} should hold a JSON list")
        for position, entry in enumerate(entries):
            entry = entry if isinstance(entry, dict) else {}
            index = entry.get("index", f"row{position}")
            category = str(entry.get("category") or "").lower().removesuffix("_reasoning")
            yield Record(id=str(index), fields=entry, category=category, extra={"base": path.parent})

    def to_sample(self, record: Record) -> Sample:
        if record.category not in RISE_CATEGORIES:
            raise SampleError(f"unknown RISEBench category {record.fields.get('category')!r}")
        entry, base = record.fields, record.extra["base"]
        reference: Any = entry.get("reference")
        metadata: dict[str, Any] = {"index": entry.get("index"), "subtask": entry.get("subtask")}
        target = None
        if isinstance(reference, str) and reference and (base / reference).is_file():
            target = image_field(reference, "reference", base)
            metadata["reference_image"] = reference
        elif reference:
            metadata["reference_answer"] = reference
        return Sample(
            id=record.id,
            source=image_field(str(require(entry, "image")), "image", base),
            instruction=str(require(entry, "instruction")),
            target=target,
            category=record.category,
            metadata=metadata,
        )
