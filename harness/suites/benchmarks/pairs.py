"""Benchmarks shaped as (source, instruction, reference edit) tables, read through one table-driven
loader: AnyEdit-Test, HQ-Edit, PSR, RealEdit and UltraEdit.

Each ``PairSpec`` names the upstream columns. Large training sets (HQ-Edit, UltraEdit) are evaluated
on a seeded subset: ``n`` row positions drawn without replacement from all rows of the downloaded
files (counted from file metadata, no image is read), then streamed in file order.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from harness.suites.benchmarks.base import BenchmarkSuite, DataError, DataSource, Record
from harness.suites.benchmarks.reading import (
    image_field,
    mask_field,
    require,
    same_size,
    stream_table,
    table_files,
)
from harness.types import Sample


@dataclass(frozen=True)
class PairSpec:
    files: tuple[str, ...]
    source: str
    instruction: str
    target: str | None = None
    id: str | None = None
    category: str | None = None
    mask: str | None = None
    input_caption: str | None = None
    output_caption: str | None = None
    dedupe: str | None = None
    metadata: tuple[str, ...] = ()
    paths_relative: bool = False


def row_count(files: list[Path]) -> int:
    """Rows in parquet files (footer metadata only) or lines in jsonl files."""
    total = 0
    for path in files:
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            total += pq.ParquetFile(path).metadata.num_rows
        elif path.suffix == ".jsonl":
            with open(path, encoding="utf-8") as handle:
                total += sum(1 for line in handle if line.strip())
        else:
            raise DataError(f"cannot count rows of {path.name} for a seeded subset")
    return total


def seeded_positions(total: int, n: int, seed: int) -> set[int]:
    if total <= n:
        return set(range(total))
    return {int(i) for i in np.random.default_rng(seed).choice(total, size=n, replace=False)}


class PairBenchmark(BenchmarkSuite):
    """Shared loader; subclasses set ``spec`` and optionally ``subset_size``."""

    splits = ("test",)
    spec: ClassVar[PairSpec]
    subset_size: ClassVar[int | None] = None

    def __init__(
        self, arg: str | None = None, data_dir: str | Path | None = None, seed: int = 0, **kw: Any
    ) -> None:
        super().__init__(arg, data_dir, **kw)
        self.seed = int(seed)

    def fingerprint(self) -> dict[str, Any]:
        out = super().fingerprint()
        if self.subset_size:
            out["subset"] = {"n": self.subset_size, "seed": self.seed}
        return out

    def count(self, split: str) -> int:
        """Records in ``split``; a seeded subset is counted from file metadata without reading rows."""
        self._check_split(split)
        if self.subset_size and not self.spec.dedupe:
            return min(self.subset_size, row_count(table_files(self.root, self.spec.files)))
        return super().count(split)

    def records(self, split: str) -> Iterator[Record]:
        spec = self.spec
        files = table_files(self.root, spec.files)
        keep = seeded_positions(row_count(files), self.subset_size, self.seed) if self.subset_size else None
        seen: set[str] = set()
        for position, row in enumerate(stream_table(files)):
            if keep is not None and position not in keep:
                continue
            if spec.dedupe:
                key = str(row.get(spec.dedupe))
                if key in seen:
                    continue
                seen.add(key)
            raw_id = row.get(spec.id) if spec.id else None
            yield Record(
                id=str(raw_id if raw_id is not None else f"row{position}"),
                fields=row,
                category=str(row.get(spec.category) or "") if spec.category else "",
                extra={"position": position},
            )

    def to_sample(self, record: Record) -> Sample:
        spec, row = self.spec, record.fields
        base = self.root if spec.paths_relative else None
        source = image_field(row.get(spec.source), spec.source, base)
        target = None
        if spec.target:
            target = image_field(row.get(spec.target), spec.target, base)
            same_size(source, target, spec.target)
        mask = None
        if spec.mask and row.get(spec.mask) is not None:
            mask = mask_field(row.get(spec.mask), spec.mask, source.shape[:2], base)
        captions = {}
        if spec.input_caption and row.get(spec.input_caption):
            captions["input"] = str(row[spec.input_caption])
        if spec.output_caption and row.get(spec.output_caption):
            captions["output"] = str(row[spec.output_caption])
        category = record.category or ("region-based" if mask is not None else "free-form")
        metadata = {key: _jsonable(row.get(key)) for key in spec.metadata}
        metadata["row"] = record.extra["position"]
        return Sample(
            id=record.id,
            source=source,
            instruction=str(require(row, spec.instruction)),
            mask=mask,
            target=target,
            category=category,
            captions=captions,
            metadata=metadata,
        )


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | dict):
        return None
    return value.item() if isinstance(value, np.generic) else value


class AnyEditSuite(PairBenchmark):
    name = "anyedit"
    preferred_metrics = ("l1", "clip_i", "clip_out", "dino")
    official_metrics = ("clip_i", "clip_out", "l1", "dino")
    source = DataSource(
        "hf",
        repo_id="Bin1117/AnyEdit",
        allow_patterns=("data/test-*.parquet", "README.md"),
        homepage="https://github.com/DCDmllm/AnyEdit",
    )
    layout = ("data/test-*.parquet",)
    expected_counts: ClassVar[dict[str, int]] = {"test": 1250}
    spec = PairSpec(
        files=("data/test-*.parquet",),
        source="image_file",
        target="edited_file",
        instruction="edit",
        category="edit_type",
        input_caption="input",
        output_caption="output",
        metadata=("edited object", "edit_type"),
    )


class HQEditSuite(PairBenchmark):
    name = "hq-edit"
    preferred_metrics = ("l1", "l2", "psnr", "ssim")
    official_metrics = ("hq_edit_alignment", "hq_edit_coherence")
    subset_size = 1000
    source = DataSource(
        "hf",
        repo_id="UCSC-VLAA/HQ-Edit",
        allow_patterns=("data/*.parquet", "README.md"),
        homepage="https://github.com/UCSC-VLAA/HQ-Edit",
        license="CC-BY-NC-4.0",
    )
    layout = ("data/*.parquet",)
    expected_counts: ClassVar[dict[str, int]] = {"test": 1000}
    spec = PairSpec(
        files=("data/*.parquet",),
        source="input_image",
        target="output_image",
        instruction="edit",
        input_caption="input",
        output_caption="output",
        metadata=("inverse_edit",),
    )


class PSRSuite(PairBenchmark):
    name = "psr"
    preferred_metrics = ("l1", "l2", "psnr", "ssim")
    official_metrics = ("imageedit_r1_judge",)
    source = DataSource(
        "hf",
        repo_id="PSRDataset/PSR-328",
        allow_patterns=("data/*.parquet", "README.md"),
        homepage="https://huggingface.co/datasets/PSRDataset/PSR-328",
        license="CC-BY-NC-SA-4.0",
    )
    layout = ("data/*.parquet",)
    expected_counts: ClassVar[dict[str, int]] = {"test": 328}
    spec = PairSpec(
        files=("data/*.parquet",),
        id="post_id",
        source="source_image",
        target="human_edited_image",
        instruction="instruction",
        dedupe="post_id",
        metadata=("simplified_instruction", "creativity_index"),
    )


class RealEditSuite(PairBenchmark):
    name = "realedit"
    preferred_metrics = ("viescore_edit", "l1", "l2", "psnr", "ssim")
    official_metrics = ("viescore_edit", "human_elo")
    source = DataSource(
        "manual",
        homepage="https://arxiv.org/abs/2502.03629",
        manual_steps=(
            "obtain the RealEdit test set from its authors (arXiv 2502.03629) and write {root}/test.jsonl, one "
            'line per item: {{"id", "instruction", "input_image", "output_image"}} with image paths relative to {root}'
        ),
    )
    layout = ("test.jsonl",)
    expected_counts: ClassVar[dict[str, int]] = {"test": 9300}
    spec = PairSpec(
        files=("test.jsonl",),
        id="id",
        source="input_image",
        target="output_image",
        instruction="instruction",
        paths_relative=True,
    )


class UltraEditSuite(PairBenchmark):
    name = "ultraedit"
    preferred_metrics = ("l1", "l2", "psnr", "ssim")
    official_metrics = ("imageedit_r1_judge",)
    subset_size = 1000
    source = DataSource(
        "hf",
        repo_id="BleachNick/UltraEdit",
        allow_patterns=("data/*.parquet", "README.md"),
        homepage="https://github.com/HaozheZhao/UltraEdit",
        license="CC-BY-4.0",
    )
    layout = ("data/*.parquet",)
    expected_counts: ClassVar[dict[str, int]] = {"test": 1000}
    spec = PairSpec(
        files=("data/*.parquet",),
        id="idx",
        source="source_image",
        target="edited_image",
        instruction="edit_prompt",
        mask="mask_image",
        input_caption="source_caption",
        output_caption="target_caption",
        metadata=("edit_object",),
    )
