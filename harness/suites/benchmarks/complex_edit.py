"""Complex-Edit: 531 real (Emu Edit test) and 531 synthetic images, each with compound instructions of
complexity C1..C8 built from a sequence of atomic instructions.

Read from the ``UCSC-VLAA/Complex-Edit`` parquet files of the ``test_real`` and ``test_syn`` splits:
one row per image with ``image`` and ``edit = {"atomic_instructions": [...], "compound_instructions":
[{"complexity": k, "compound_instruction": ...}, ...]}``. Each (image, complexity) pair is a sample
with level ``C<k>``; the category is the half (``real`` / ``syn``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

from harness.suites.benchmarks.base import BenchmarkSuite, DataSource, Record, SampleError
from harness.suites.benchmarks.reading import image_field, require, stream_table, table_files
from harness.types import Sample

LEVELS: tuple[str, ...] = tuple(f"C{k}" for k in range(1, 9))
SPLIT_FILES = {"real": ("**/test_real-*.parquet",), "syn": ("**/test_syn-*.parquet",)}


class ComplexEditSuite(BenchmarkSuite):
    name = "complex-edit"
    splits = ("real", "syn")
    preferred_metrics = ("complex_edit_judge",)
    official_metrics = ("complex_edit_if", "complex_edit_ip", "complex_edit_pq", "complex_edit_o")
    official_aggregation = "harness.suites.benchmarks.aggregation:complex_edit_overall"
    source = DataSource(
        "hf",
        repo_id="UCSC-VLAA/Complex-Edit",
        revision=None,
        homepage="https://github.com/UCSC-VLAA/Complex-Edit",
    )
    layout = ("**/test_real-*.parquet",)
    expected_counts: ClassVar[dict[str, int]] = {"real": 531 * 8, "syn": 531 * 8}

    def records(self, split: str) -> Iterator[Record]:
        for position, row in enumerate(stream_table(table_files(self.root, SPLIT_FILES[split]))):
            edit = row.get("edit") if isinstance(row.get("edit"), Mapping) else {}
            compounds = edit.get("compound_instructions") or []
            row_id = row.get("id") if row.get("id") is not None else position
            if not compounds:
                yield Record(id=f"{split}-{row_id}", fields={}, category=split, level="")
                continue
            for index, compound in enumerate(compounds):
                level = _level(compound, index)
                yield Record(
                    id=f"{split}-{row_id}-{level}",
                    fields={"image": row.get("image"), "compound": compound, "edit": edit},
                    category=split,
                    level=level,
                )

    def to_sample(self, record: Record) -> Sample:
        if not record.fields:
            raise SampleError("missing field 'edit.compound_instructions'")
        compound = record.fields["compound"]
        instruction = compound.get("compound_instruction") if isinstance(compound, Mapping) else compound
        if record.level not in LEVELS:
            raise SampleError(f"complexity {record.level!r} is outside C1..C8")
        atomic = list(record.fields["edit"].get("atomic_instructions") or [])
        return Sample(
            id=record.id,
            source=image_field(record.fields.get("image"), "image"),
            instruction=str(require({"compound_instruction": instruction}, "compound_instruction")),
            category=record.category,
            level=record.level,
            metadata={"atomic_instructions": atomic, "complexity": int(record.level[1:])},
        )


def _level(compound: Any, index: int) -> str:
    if isinstance(compound, Mapping) and compound.get("complexity") is not None:
        return f"C{int(compound['complexity'])}"
    return f"C{index + 1}"
