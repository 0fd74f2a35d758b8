"""The photo-ops edit operations: pure, exactly computable functions on uint8 RGB images.

Every op takes an ``(H, W, 3)`` uint8 image and keyword arguments and returns a new uint8 image of
the same shape. Integer arithmetic is used where it can be, so a target is bit-exact on every
machine; the one float op (Gaussian blur) is computed in float64 and rounded half to even.
A program is an ordered list of ``{"op": name, "args": {...}}`` steps (JSON-able) applied with
``apply_program``. The classical tool layer reuses these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from harness.types import Image

CROP_REGIONS: tuple[str, ...] = ("top-left", "top-right", "bottom-left", "bottom-right", "center")
ROTATIONS: tuple[int, ...] = (90, 180, 270)
HUE_SHIFTS: tuple[int, ...] = (120, 180, 240)


def _check(image: Image) -> None:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a uint8 HxWx3 image, got {image.dtype} {image.shape}")


def grayscale(image: Image) -> Image:
    """ITU-R BT.601 luma, Y = (299 R + 587 G + 114 B) / 1000 rounded half up, on all 3 channels."""
    _check(image)
    rgb = image.astype(np.int32)
    luma = (299 * rgb[..., 0] + 587 * rgb[..., 1] + 114 * rgb[..., 2] + 500) // 1000
    return np.repeat(luma.astype(np.uint8)[:, :, None], 3, axis=2)


def flip_horizontal(image: Image) -> Image:
    """Mirror left-right."""
    _check(image)
    return np.ascontiguousarray(image[:, ::-1])


def flip_vertical(image: Image) -> Image:
    """Mirror top-bottom."""
    _check(image)
    return np.ascontiguousarray(image[::-1])


def rotate(image: Image, degrees: int) -> Image:
    """Rotate clockwise by 90, 180 or 270 degrees (square images keep their shape)."""
    _check(image)
    if degrees not in ROTATIONS:
        raise ValueError(f"rotate: degrees must be one of {ROTATIONS}, got {degrees!r}")
    return np.ascontiguousarray(np.rot90(image, k=-(degrees // 90)))


def crop(image: Image, region: str) -> Image:
    """Crop to a named half-size region and scale it back to the full size by pixel replication.

    The region is a quadrant or the centred half-size window; each kept pixel becomes a 2x2 block,
    so the output has the input's size (H and W must be even) and no resampling filter is involved.
    """
    _check(image)
    height, width = image.shape[:2]
    if height % 2 or width % 2:
        raise ValueError(f"crop: image sides must be even, got {height}x{width}")
    half_h, half_w = height // 2, width // 2
    offsets = {
        "top-left": (0, 0),
        "top-right": (0, half_w),
        "bottom-left": (half_h, 0),
        "bottom-right": (half_h, half_w),
        "center": (half_h // 2, half_w // 2),
    }
    if region not in offsets:
        raise ValueError(f"crop: region must be one of {CROP_REGIONS}, got {region!r}")
    top, left = offsets[region]
    window = image[top : top + half_h, left : left + half_w]
    return np.ascontiguousarray(window.repeat(2, axis=0).repeat(2, axis=1))


def _scale_round(values: np.ndarray) -> Image:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def brightness(image: Image, factor: float) -> Image:
    """Multiply every channel value by ``factor`` (round half to even, clip to 0..255)."""
    _check(image)
    if factor <= 0:
        raise ValueError(f"brightness: factor must be positive, got {factor!r}")
    return _scale_round(image.astype(np.float64) * factor)


def contrast(image: Image, factor: float) -> Image:
    """Scale the distance of every channel value from mid-grey 128 by ``factor`` (rounded, clipped)."""
    _check(image)
    if factor <= 0:
        raise ValueError(f"contrast: factor must be positive, got {factor!r}")
    return _scale_round(128.0 + (image.astype(np.float64) - 128.0) * factor)


def gaussian_blur(image: Image, sigma: float) -> Image:
    """Gaussian blur of standard deviation ``sigma`` pixels per channel (scipy.ndimage, reflect
    borders, kernel truncated at 4 sigma), rounded half to even."""
    _check(image)
    if sigma <= 0:
        raise ValueError(f"gaussian_blur: sigma must be positive, got {sigma!r}")
    from scipy import ndimage  # imported here so listing suites stays fast

    blurred = ndimage.gaussian_filter(image.astype(np.float64), sigma=(sigma, sigma, 0), mode="reflect")
    return _scale_round(blurred)


def hue_shift(image: Image, degrees: int) -> Image:
    """Rotate every pixel's HSV hue by 120, 180 or 240 degrees, exactly in integers.

    A 120 or 240 degree rotation permutes the channels (red -> green -> blue); 180 degrees maps
    each channel c to max + min - c, which keeps HSV saturation and value.
    """
    _check(image)
    if degrees == 120:
        return np.ascontiguousarray(image[..., [2, 0, 1]])
    if degrees == 240:
        return np.ascontiguousarray(image[..., [1, 2, 0]])
    if degrees == 180:
        r, g, b = image[..., 0], image[..., 1], image[..., 2]
        total = np.maximum(np.maximum(r, g), b).astype(np.int16) + np.minimum(np.minimum(r, g), b)
        return (total[..., None] - image).astype(np.uint8)
    raise ValueError(f"hue_shift: degrees must be one of {HUE_SHIFTS}, got {degrees!r}")


def invert(image: Image) -> Image:
    """Photographic negative: 255 - value."""
    _check(image)
    return 255 - image


def posterize(image: Image, bits: int) -> Image:
    """Keep the ``bits`` most significant bits of each channel (2**bits levels per channel)."""
    _check(image)
    if bits not in (1, 2, 3, 4, 5, 6, 7):
        raise ValueError(f"posterize: bits must be 1..7, got {bits!r}")
    return image & np.uint8((0xFF << (8 - bits)) & 0xFF)


OPS: dict[str, Callable[..., Image]] = {
    "grayscale": grayscale,
    "flip_horizontal": flip_horizontal,
    "flip_vertical": flip_vertical,
    "rotate": rotate,
    "crop": crop,
    "brightness": brightness,
    "contrast": contrast,
    "gaussian_blur": gaussian_blur,
    "hue_shift": hue_shift,
    "invert": invert,
    "posterize": posterize,
}

Step = Mapping[str, Any]


def apply_step(image: Image, step: Step) -> Image:
    name = step.get("op")
    if name not in OPS:
        raise ValueError(f"unknown photo op {name!r}; known: {', '.join(sorted(OPS))}")
    return OPS[name](image, **dict(step.get("args") or {}))


def apply_program(image: Image, program: Sequence[Step]) -> Image:
    """Apply the steps of ``program`` in order; the input is never modified."""
    result = np.asarray(image)
    _check(result)
    for step in program:
        result = apply_step(result, step)
    return result


def inverse_step(step: Step) -> dict[str, Any] | None:
    """The step that undoes ``step`` exactly, or None when the op loses information."""
    name, args = step["op"], dict(step.get("args") or {})
    if name in ("flip_horizontal", "flip_vertical", "invert"):
        return {"op": name, "args": {}}
    if name == "rotate":
        return {"op": "rotate", "args": {"degrees": 360 - args["degrees"]}}
    if name == "hue_shift":
        return {"op": "hue_shift", "args": {"degrees": 360 - args["degrees"]}}
    return None
