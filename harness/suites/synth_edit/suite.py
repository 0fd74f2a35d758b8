"""The ``synth-edit`` suite: streamed, seeded samples with exact targets, masks and scene graphs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from harness.suites.synth_edit.generator import (
    GENERATOR_VERSION,
    LEVELS,
    GeneratedEdit,
    GenerationError,
    generate_edit,
)
from harness.suites.synth_edit.program import program_to_json
from harness.suites.synth_edit.render import object_mask, render_scene
from harness.suites.synth_edit.scene import SCENE_SCHEMA_VERSION, Scene
from harness.types import InvalidSample, Sample

SUITE_NAME = "synth-edit"
DEFAULT_PER_LEVEL: dict[str, int] = {"test": 100, "train": 1000}
SAMPLES_FILE = "samples.jsonl"


def edit_mask(source: Scene, target: Scene, source_image: np.ndarray, target_image: np.ndarray) -> np.ndarray:
    """bool (H, W): footprints (in source and target) of every object the edit added, removed or
    changed, plus every pixel that differs; the whole canvas when the background changed."""
    if source.background != target.background:
        return np.ones((target.height, target.width), dtype=bool)
    mask = np.any(source_image != target_image, axis=2)
    before = {obj.id: obj for obj in source.objects}
    after = {obj.id: obj for obj in target.objects}
    for object_id in before.keys() | after.keys():
        old, new = before.get(object_id), after.get(object_id)
        if old == new:
            continue
        for obj in (old, new):
            if obj is not None:
                mask |= object_mask(obj, target.width, target.height)
    return mask


def sample_id(split: str, index: int) -> str:
    return f"{SUITE_NAME}/{split}/{index:05d}"


def sample_edit(seed: int, split: str, index: int, size: int = 256) -> GeneratedEdit:
    """The generator's edit behind sample ``index`` of ``split`` (scenes, program, instruction), not
    rendered: level L1..L4 cycles with the index (so any prefix is balanced)."""
    return generate_edit(seed, split, index, LEVELS[index % len(LEVELS)], size)


def sample_metadata(edit: GeneratedEdit, seed: int, split: str, index: int) -> dict[str, Any]:
    """What a sample records about the edit it was generated from."""
    metadata: dict[str, Any] = {
        "source_scene": edit.source.to_dict(),
        "target_scene": edit.target.to_dict(),
        "program": program_to_json(edit.program),
        "phrasing_family": edit.family,
        "reference_types": edit.details.get("reference_types", []),
        "order_matters": edit.details.get("order_matters", False),
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "split": split,
        "index": index,
    }
    if "goal" in edit.details:
        metadata["goal"] = edit.details["goal"]
    return metadata


def make_sample(seed: int, split: str, index: int, size: int = 256) -> Sample:
    """Sample ``index`` of ``split``: level L1..L4 cycles with the index (so any prefix is balanced)."""
    edit = sample_edit(seed, split, index, size)
    source_image = render_scene(edit.source)
    target_image = render_scene(edit.target)
    metadata = sample_metadata(edit, seed, split, index)
    return Sample(
        id=sample_id(split, index),
        source=source_image,
        instruction=edit.instruction,
        mask=edit_mask(edit.source, edit.target, source_image, target_image),
        target=target_image,
        category=edit.category,
        level=edit.level,
        metadata=metadata,
    )


class SynthEditSuite:
    """Procedural 2-D scenes (shapes, palette colours, sizes; plain / gradient / texture backgrounds)
    with L1-L4 edit instructions, exact targets and an exact checker (``synth_exact``)."""

    name = SUITE_NAME
    version = f"{GENERATOR_VERSION}.{SCENE_SCHEMA_VERSION}"
    splits = ("train", "test")
    cache_samples = True  # deterministic from the seed: the runner may store rendered samples
    default_metrics = (
        "synth_exact",
        "synth_partial",
        "psnr",
        "ssim",
        "preserve_psnr",
        "edit_region_psnr",
        "l1",
    )

    def __init__(self, seed: int = 0, size: int = 256, n_per_level: int | None = None, **_: Any) -> None:
        if size < 64:
            raise ValueError(f"synth-edit needs a canvas of at least 64 px, got {size}")
        self.seed = int(seed)
        self.size = int(size)
        self.n_per_level = n_per_level

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        try:
            import skimage.data

            skimage.data.brick()
        except Exception as exc:  # textures ship with scikit-image; a broken install is the only cause
            return f"scikit-image textures cannot load ({type(exc).__name__}: {exc}); reinstall scikit-image"
        return None

    def fingerprint(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "generator_version": GENERATOR_VERSION,
            "scene_schema_version": SCENE_SCHEMA_VERSION,
            "seed": self.seed,
            "size": self.size,
            "n_per_level": self.n_per_level,
        }

    def count(self, split: str) -> int:
        per_level = self.n_per_level if self.n_per_level is not None else DEFAULT_PER_LEVEL[split]
        return per_level * len(LEVELS)

    def samples(self, split: str = "test", limit: int | None = None) -> Iterator[Sample | InvalidSample]:
        if split not in self.splits:
            raise ValueError(f"synth-edit has splits {', '.join(self.splits)}, not {split!r}")
        total = self.count(split) if limit is None else min(limit, self.count(split))
        for index in range(total):
            try:
                yield make_sample(self.seed, split, index, self.size)
            except GenerationError as exc:
                yield InvalidSample(sample_id(split, index), str(exc), level=LEVELS[index % len(LEVELS)])
