"""Declared, fingerprinted preprocessing: how each benchmark feeds images and captions to a learned metric.

An ``ImagePrep`` says how pixels become a backbone's input (resize, crop, interpolation,
normalisation); a ``Recipe`` says what a metric compares (edited vs target or vs source) and which
caption it reads. Both are frozen dataclasses whose fields enter the metric's fingerprint, so two runs
that preprocess differently never share cached values.

Sources (docs BENCHMARKS.md): MagicBrush compares with the ground-truth target, CLIP/DINO on 224 centre
crops, CLIP-T on *local* captions; Emu Edit has no target, so CLIP-I/DINO compare input with output and
CLIP-out / CLIP-dir read the input/output captions; PIE-Bench assumes 512x512 and scores the unedited
region (1 - mask) with the mask border treated as edited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ImagePrep:
    """Pixels -> a normalised float tensor (N, 3, H, W). Resizing runs in torch (antialiased)."""

    resize: Literal["shorter_side", "none"] = "shorter_side"
    size: int = 224
    max_size: int | None = None
    crop: Literal["center", "none"] = "center"
    crop_size: int = 224
    interpolation: Literal["bicubic", "bilinear"] = "bicubic"
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD
    scale: Literal["unit", "symmetric"] = "unit"  # [0,1] then normalise, or [-1,1] (LPIPS)

    def fingerprint(self) -> dict[str, Any]:
        return asdict(self)


CLIP_224 = ImagePrep()
DINO_MAGICBRUSH = ImagePrep(size=256, crop_size=224, mean=IMAGENET_MEAN, std=IMAGENET_STD)
DINO_STRUCTURE = ImagePrep(size=224, max_size=480, crop="none", mean=IMAGENET_MEAN, std=IMAGENET_STD)
LPIPS_FULL = ImagePrep(
    resize="none", crop="none", mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), scale="symmetric"
)


@dataclass(frozen=True)
class Recipe:
    """What a learned metric compares, per benchmark convention."""

    name: str
    reference: Literal["target", "source"] = "target"
    output_caption_keys: tuple[str, ...] = ("output", "target", "local", "global")
    input_caption_keys: tuple[str, ...] = ("input", "source")
    pie_size: int = 512
    mask_border_edited: bool = False

    def fingerprint(self) -> dict[str, Any]:
        return asdict(self)

    def output_caption(self, captions: Any) -> str | None:
        return _first(captions, self.output_caption_keys)

    def input_caption(self, captions: Any) -> str | None:
        return _first(captions, self.input_caption_keys)


def _first(captions: Any, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        text = (captions or {}).get(key)
        if text:
            return str(text)
    return None


RECIPES: dict[str, Recipe] = {
    "default": Recipe("default"),
    "magicbrush": Recipe("magicbrush", reference="target", output_caption_keys=("local",)),
    "magicbrush_global": Recipe("magicbrush_global", reference="target", output_caption_keys=("global",)),
    "emu_edit": Recipe(
        "emu_edit", reference="source", output_caption_keys=("output",), input_caption_keys=("input",)
    ),
    "pie_bench": Recipe(
        "pie_bench", reference="source", output_caption_keys=("output", "target"), mask_border_edited=True
    ),
}


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise ValueError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPES))}") from None


def pie_square(image: np.ndarray, size: int) -> np.ndarray:
    """PIE-Bench's 512x512 convention: crop the bottom-right size x size when larger, else resize (Lanczos)."""
    from harness.images import resize_to

    h, w = image.shape[:2]
    if h >= size and w >= size and (h, w) != (size, size):
        return np.ascontiguousarray(image[h - size :, w - size :])
    return resize_to(image, (size, size))


def pie_mask(mask: np.ndarray, size: int, border_edited: bool) -> np.ndarray:
    """The edit mask at size x size (nearest), with the 1-pixel border marked edited as evaluate.py does."""
    if mask.shape != (size, size):
        from PIL import Image as PILImage

        mask = np.asarray(PILImage.fromarray(mask.astype(np.uint8) * 255).resize((size, size), 0)) > 127
    mask = mask.copy()
    if border_edited:
        mask[0, :] = mask[-1, :] = True
        mask[:, 0] = mask[:, -1] = True
    return mask
