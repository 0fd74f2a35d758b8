"""PIE-Bench (from PnPInversion): 700 images at 512x512 with source/target prompts and RLE edit masks.

Distributed through a form linked from the PnPInversion README. Unpacked as ``mapping_file.json``
(key -> image_path, original_prompt, editing_prompt with [] around the edited words,
editing_instruction, editing_type_id, blended_word, mask) plus ``annotation_images/<image_path>``.
The mask is run-length encoded as (start, length) pairs over the flat row-major 512*512 array,
1 = edited. The loader returns the decoded mask as is; the PIE metrics apply the official
"1-pixel border counts as edited" rule themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import ClassVar

import numpy as np

from harness.suites.benchmarks.base import BenchmarkSuite, DataSource, Record, SampleError
from harness.suites.benchmarks.reading import image_field, read_json, require
from harness.types import Mask, Sample

PIE_SIZE = 512
EDITING_TYPES = {
    "0": "random",
    "1": "change_object",
    "2": "add_object",
    "3": "delete_object",
    "4": "change_content",
    "5": "change_pose",
    "6": "change_color",
    "7": "change_material",
    "8": "change_background",
    "9": "change_style",
}


def decode_rle(rle: Sequence[int], size: int = PIE_SIZE) -> Mask:
    """(start, length) pairs into a flat row-major size*size array; runs are clipped at the end."""
    values = [int(v) for v in rle]
    if len(values) % 2:
        raise SampleError(f"RLE mask has an odd number of values ({len(values)})")
    flat = np.zeros(size * size, dtype=bool)
    for start, length in zip(values[0::2], values[1::2], strict=True):
        if start < 0 or length < 0:
            raise SampleError(f"RLE mask has a negative run ({start}, {length})")
        flat[start : min(start + length, flat.size)] = True
    return flat.reshape(size, size)


def plain_prompt(prompt: str) -> str:
    """The editing prompt without the [] that mark the edited words."""
    return re.sub(r"\s+", " ", prompt.replace("[", "").replace("]", "")).strip()


class PieBenchSuite(BenchmarkSuite):
    name = "pie-bench"
    splits = ("test",)
    preferred_metrics = (
        "structure_distance",
        "pie_psnr",
        "pie_lpips",
        "pie_mse",
        "pie_ssim",
        "clip_t:recipe=pie_bench",
    )
    official_metrics = (
        "structure_distance",
        "pie_psnr",
        "pie_lpips",
        "pie_mse",
        "pie_ssim",
        "clip_whole",
        "clip_edited",
    )
    source = DataSource(
        "manual",
        homepage="https://github.com/cure-lab/PnPInversion",
        manual_steps=(
            "request PIE-Bench through the form linked from the PnPInversion README, then unpack it so "
            "that {root}/mapping_file.json and {root}/annotation_images/ exist"
        ),
        license="not stated in the README",
    )
    layout = ("mapping_file.json",)
    expected_counts: ClassVar[dict[str, int]] = {"test": 700}

    def records(self, split: str) -> Iterator[Record]:
        mapping = read_json(self.root / "mapping_file.json")
        for key, entry in mapping.items():
            entry = entry if isinstance(entry, dict) else {}
            type_id = str(entry.get("editing_type_id", ""))
            yield Record(id=str(key), fields=entry, category=EDITING_TYPES.get(type_id, f"type{type_id}"))

    def to_sample(self, record: Record) -> Sample:
        entry = record.fields
        if record.category not in EDITING_TYPES.values():
            raise SampleError(f"unknown editing_type_id {entry.get('editing_type_id')!r}")
        source = image_field(str(require(entry, "image_path")), "image_path", self.root / "annotation_images")
        if source.shape[:2] != (PIE_SIZE, PIE_SIZE):
            raise SampleError(
                f"image is {source.shape[1]}x{source.shape[0]}; the PIE-Bench protocol is {PIE_SIZE}x{PIE_SIZE}"
            )
        mask = decode_rle(require(entry, "mask"))
        editing_prompt = str(require(entry, "editing_prompt"))
        return Sample(
            id=record.id,
            source=source,
            instruction=str(require(entry, "editing_instruction")),
            mask=mask,
            category=record.category,
            captions={
                "source": str(require(entry, "original_prompt")),
                "output": plain_prompt(editing_prompt),
            },
            metadata={
                "editing_type_id": str(entry.get("editing_type_id")),
                "editing_prompt": editing_prompt,
                "blended_word": entry.get("blended_word"),
                "image_path": entry.get("image_path"),
            },
        )
