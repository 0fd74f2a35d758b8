"""photo-ops: real photographs (scikit-image's bundled photos) with exactly computable targets.

Each sample applies a ground-truth program of photo ops (``harness.suites.photo_ops.ops``) to a
square, downscaled photo. L1 phrases one op directly, L2 describes it indirectly (by the look or
by the photo's subject), L3 chains 2-3 ops whose order changes the result. Generation is
deterministic from ``seed``; the generator version is part of the fingerprint.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np
from PIL import Image as PILImage

from harness.suites.photo_ops import phrasing
from harness.suites.photo_ops.ops import CROP_REGIONS, HUE_SHIFTS, ROTATIONS, apply_program
from harness.types import Image, InvalidSample, Sample

GENERATOR_VERSION = "1.0.0"
LEVELS: tuple[str, ...] = ("L1", "L2", "L3")
DEFAULT_PER_LEVEL = {"test": 120, "train": 400}


@dataclass(frozen=True)
class Photo:
    name: str
    subject: str
    loader: str  # attribute of skimage.data, or "file:<name>" inside the skimage.data package


PHOTOS: tuple[Photo, ...] = (
    Photo("astronaut", "the astronaut", "astronaut"),
    Photo("chelsea", "the cat", "chelsea"),
    Photo("coffee", "the coffee cup", "coffee"),
    Photo("rocket", "the rocket", "rocket"),
    Photo("motorcycle_left", "the motorcycle", "file:motorcycle_left.png"),
    Photo("hubble_deep_field", "the galaxies", "hubble_deep_field"),
)

ARG_CHOICES: dict[str, dict[str, tuple[Any, ...]]] = {
    "grayscale": {},
    "flip_horizontal": {},
    "flip_vertical": {},
    "rotate": {"degrees": ROTATIONS},
    "crop": {"region": CROP_REGIONS},
    "brightness": {"factor": (0.5, 0.7, 1.3, 1.6)},
    "contrast": {"factor": (0.5, 0.75, 1.5, 2.0)},
    "gaussian_blur": {"sigma": (1.0, 2.0, 3.0)},
    "hue_shift": {"degrees": HUE_SHIFTS},
    "invert": {},
    "posterize": {"bits": (1, 2, 3)},
}
OP_NAMES: tuple[str, ...] = tuple(ARG_CHOICES)


def _load_photo(photo: Photo) -> Image:
    if photo.loader.startswith("file:"):
        path = resources.files("skimage.data") / photo.loader[len("file:") :]
        with resources.as_file(path) as file, PILImage.open(file) as img:
            return np.asarray(img.convert("RGB"))
    import skimage.data

    return np.asarray(getattr(skimage.data, photo.loader)())[:, :, :3]


@functools.lru_cache(maxsize=64)
def photo_at(name: str, size: int) -> Image:
    """The named photo, centre-cropped to a square and resized to ``size`` (PIL Lanczos)."""
    photo = next(p for p in PHOTOS if p.name == name)
    image = _load_photo(photo)
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = PILImage.fromarray(np.ascontiguousarray(image[top : top + side, left : left + side]))
    resized = np.asarray(square.resize((size, size), PILImage.Resampling.LANCZOS))
    resized.setflags(write=False)
    return resized


class PhotoOpsSuite:
    """Real photos x exact ops. ``n_per_level`` defaults to 120 (test) / 400 (train) per level."""

    name = "photo-ops"
    version = GENERATOR_VERSION
    splits = ("test", "train")
    cache_samples = True  # deterministic from the seed: the runner may store rendered samples
    default_metrics = ("psnr", "ssim", "l1", "l2")

    def __init__(self, seed: int = 0, size: int = 256, n_per_level: int | None = None, **_: Any) -> None:
        if size < 16 or size % 4:
            raise ValueError(f"photo-ops: size must be a multiple of 4 and at least 16, got {size}")
        self.seed = int(seed)
        self.size = int(size)
        self.n_per_level = n_per_level

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        if importlib.util.find_spec("skimage") is None or importlib.util.find_spec("scipy") is None:
            return "needs scikit-image and scipy (pip install scikit-image) for the bundled photographs"
        return None

    def fingerprint(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "config": {"seed": self.seed, "size": self.size, "n_per_level": self.n_per_level},
        }

    def num_samples(self, split: str) -> int:
        return len(LEVELS) * (self.n_per_level or DEFAULT_PER_LEVEL[split])

    def samples(self, split: str = "test", limit: int | None = None) -> Iterator[Sample | InvalidSample]:
        if split not in self.splits:
            raise ValueError(f"photo-ops has splits {self.splits}, not {split!r}")
        per_level = self.n_per_level or DEFAULT_PER_LEVEL[split]
        family = "heldout" if split == "test" else "train"
        produced = 0
        for index in range(per_level):
            for level in LEVELS:
                if limit is not None and produced >= limit:
                    return
                yield self.make_sample(split, level, index, family)
                produced += 1

    def make_sample(self, split: str, level: str, index: int, family: str) -> Sample:
        split_code = self.splits.index(split)
        rng = np.random.default_rng([self.seed, split_code, LEVELS.index(level), index])
        photo = PHOTOS[int(rng.integers(len(PHOTOS)))]
        source = photo_at(photo.name, self.size)
        if level == "L3":
            program, target = _ordered_program(rng, source)
        else:
            program = [_random_step(rng, OP_NAMES[int(rng.integers(len(OP_NAMES)))])]
            target = apply_program(source, program)
        instruction = _instruction(rng, level, family, program, photo.subject)
        category = "multi-step" if level == "L3" else program[0]["op"]
        return Sample(
            id=f"{split}-{level}-{index:04d}",
            source=source,
            instruction=instruction,
            target=target,
            category=category,
            level=level,
            metadata={
                "photo": photo.name,
                "program": program,
                "phrasing_family": family,
                "generator_version": GENERATOR_VERSION,
            },
        )


def _random_step(rng: np.random.Generator, op: str) -> dict[str, Any]:
    args = {key: _plain(choices[int(rng.integers(len(choices)))]) for key, choices in ARG_CHOICES[op].items()}
    return {"op": op, "args": args}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _ordered_program(rng: np.random.Generator, source: Image) -> tuple[list[dict[str, Any]], Image]:
    """2-3 distinct ops, each changing its input, whose result changes when the order is reversed."""
    while True:
        n_steps = 2 + int(rng.integers(2))
        ops = rng.choice(len(OP_NAMES), size=n_steps, replace=False)
        program = [_random_step(rng, OP_NAMES[int(i)]) for i in ops]
        image, every_step_changes = source, True
        for step in program:
            after = apply_program(image, [step])
            every_step_changes = every_step_changes and not np.array_equal(after, image)
            image = after
        if every_step_changes and not np.array_equal(image, apply_program(source, program[::-1])):
            return program, image


def _instruction(
    rng: np.random.Generator, level: str, family: str, program: list[dict[str, Any]], subject: str
) -> str:
    table = phrasing.INDIRECT if level == "L2" else phrasing.DIRECT
    clauses = [
        phrasing.clause(
            table, step["op"], family, int(rng.integers(8)), **phrasing.fields(step["args"], subject)
        )
        for step in program
    ]
    if len(clauses) == 1:
        return phrasing.sentence(clauses[0])
    joiners = phrasing.SEQUENCES if len(clauses) == 2 else phrasing.SEQUENCES_3
    templates = joiners[family]
    return phrasing.sentence(templates[int(rng.integers(len(templates)))].format(*clauses))
