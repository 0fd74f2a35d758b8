"""Read a scene back from pixels: the checker's reader, also used by the classical grounding tool.

Objects are found by chroma (object colours are saturated, backgrounds near-neutral):
  1. pixels with chroma (max - min channel) > ``CHROMA_THRESHOLD`` form 8-connected components;
     components smaller than ``MIN_AREA_FRACTION`` of a small object's area are ignored;
  2. per component, a coverage map alpha = (chroma - ring chroma) / (interior chroma - ring chroma)
     gives the area (sum of alpha) and centre (alpha-weighted centroid);
  3. colour: nearest palette entry to the interior's median RGB (``unknown`` beyond
     ``MAX_COLOUR_DISTANCE``); size: the size class whose equal-area radius is nearest in log
     scale; shape: nearest reference of the rotation-invariant angular moments |m_k|, k = 2..6,
     (coverage x squared radius weighted), ``unknown`` beyond ``MAX_SHAPE_DISTANCE``.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from scipy import ndimage

from harness.suites.synth_edit.palette import (
    BACKGROUND_COLOURS,
    PALETTE,
    SHAPES,
    SIZE_ORDER,
    SIZES,
    TEXTURES,
)
from harness.suites.synth_edit.render import render_background, render_scene
from harness.suites.synth_edit.scene import Background, Scene, SceneObject

CHROMA_THRESHOLD = 70
MIN_AREA_FRACTION = 0.3
MAX_COLOUR_DISTANCE = 80.0
MAX_SHAPE_DISTANCE = 0.12
MOMENT_ORDERS = (2, 3, 4, 5, 6)
UNKNOWN = "unknown"
_EIGHT = np.ones((3, 3), dtype=bool)


def _chroma(image: np.ndarray) -> np.ndarray:
    red, green, blue = (image[..., channel].astype(np.int16) for channel in range(3))
    spread = np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)
    return spread.astype(np.float64)


def angular_moments(
    alpha: np.ndarray, rows: np.ndarray, cols: np.ndarray, cx: float, cy: float
) -> np.ndarray:
    """|m_k| = |sum w rho^2 e^{-ik phi}| / sum w rho^2 for k in MOMENT_ORDERS (rotation invariant)."""
    dx, dy = cols + 0.5 - cx, rows + 0.5 - cy
    rho2 = dx * dx + dy * dy
    weight = alpha * rho2
    total = weight.sum()
    if total <= 0:
        return np.zeros(len(MOMENT_ORDERS))
    unit = (dx - 1j * dy) / np.sqrt(np.maximum(rho2, 1e-12))  # e^{-i phi}
    power = unit ** (MOMENT_ORDERS[0] - 1)
    moments = []
    for _ in MOMENT_ORDERS:
        power = power * unit
        moments.append(abs((weight * power).sum()) / total)
    return np.array(moments)


@lru_cache(maxsize=1)
def shape_references() -> dict[str, np.ndarray]:
    """Angular moments of each shape rendered at medium size on a 256 px canvas."""
    references = {}
    for shape in SHAPES:
        scene = Scene(256, 256, Background("plain", "white"))
        scene = Scene(256, 256, scene.background, (scene.make_object("r", shape, "red", "medium", 128, 128),))
        references[shape] = _measure_components(render_scene(scene), scene.canvas)[0][3]
    return references


def classify_shape(moments: np.ndarray) -> str:
    distances = {shape: float(np.linalg.norm(moments - ref)) for shape, ref in shape_references().items()}
    best = min(distances, key=distances.__getitem__)
    return best if distances[best] <= MAX_SHAPE_DISTANCE else UNKNOWN


def classify_colour(rgb: np.ndarray) -> str:
    distances = {name: float(np.linalg.norm(rgb - np.asarray(value))) for name, value in PALETTE.items()}
    best = min(distances, key=distances.__getitem__)
    return best if distances[best] <= MAX_COLOUR_DISTANCE else UNKNOWN


def classify_size(area: float, canvas: int) -> str:
    radius = math.sqrt(max(area, 1e-9) / math.pi)
    return min(SIZE_ORDER, key=lambda name: abs(math.log(radius / (SIZES[name] * canvas))))


def _measure_components(
    image: np.ndarray, canvas: int
) -> list[tuple[float, float, float, np.ndarray, np.ndarray]]:
    """(cx, cy, area, moments, median rgb) per object component."""
    chroma = _chroma(image)
    labels, _ = ndimage.label(chroma > CHROMA_THRESHOLD, structure=_EIGHT)
    min_area = MIN_AREA_FRACTION * math.pi * (SIZES["small"] * canvas) ** 2
    found = []
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        pad = 6
        r0, c0 = max(box[0].start - pad, 0), max(box[1].start - pad, 0)
        r1, c1 = min(box[0].stop + pad, image.shape[0]), min(box[1].stop + pad, image.shape[1])
        local = labels[r0:r1, c0:c1]
        component = local == index
        if component.sum() < min_area:
            continue
        free = (local == 0) | component
        interior = grow(component, -2)
        if not interior.any():
            interior = component
        patch_chroma = chroma[r0:r1, c0:c1]
        object_chroma = float(np.median(patch_chroma[interior]))
        near = grow(component, 2)
        ring = grow(component, 5) & ~near & (local == 0)
        ring_chroma = float(np.median(patch_chroma[ring])) if ring.any() else 0.0
        span = max(object_chroma - ring_chroma, 1.0)
        support = near & free
        rows, cols = np.nonzero(support)
        alpha = np.clip((patch_chroma[rows, cols] - ring_chroma) / span, 0.0, 1.0)
        area = float(alpha.sum())
        if area <= 0:
            continue
        cx = float((alpha * (cols + 0.5)).sum() / area)
        cy = float((alpha * (rows + 0.5)).sum() / area)
        moments = angular_moments(alpha, rows, cols, cx, cy)
        rgb = np.median(image[r0:r1, c0:c1][interior].astype(np.float64), axis=0)
        found.append((cx + c0, cy + r0, area, moments, rgb))
    return found


def parse_objects(image: np.ndarray) -> tuple[SceneObject, ...]:
    """Objects read from ``image`` (ids ``d1``, ``d2``, ... left to right)."""
    height, width = image.shape[:2]
    canvas = min(height, width)
    found = sorted(_measure_components(image, canvas), key=lambda item: (item[0], item[1]))
    objects = []
    for number, (cx, cy, area, moments, rgb) in enumerate(found, start=1):
        objects.append(
            SceneObject(
                id=f"d{number}",
                shape=classify_shape(moments),
                colour=classify_colour(rgb),
                size=classify_size(area, canvas),
                x=round(cx, 2),
                y=round(cy, 2),
                radius=round(math.sqrt(area / math.pi), 2),
            )
        )
    return tuple(objects)


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Dilate (pixels > 0) or erode (pixels < 0) a bool mask by a square of half-width |pixels|."""
    if pixels == 0:
        return mask
    size = 2 * abs(pixels) + 1
    if pixels > 0:
        return ndimage.maximum_filter(mask, size=size, mode="constant", cval=False)
    return ndimage.minimum_filter(mask, size=size, mode="constant", cval=False)


def object_region_mask(image: np.ndarray, dilation: int = 3) -> np.ndarray:
    """bool (H, W): pixels belonging to (or within ``dilation`` px of) any saturated object."""
    return grow(_chroma(image) > CHROMA_THRESHOLD / 2, dilation)


def parse_background(image: np.ndarray, objects_mask: np.ndarray | None = None) -> Background:
    """Best-matching background spec, judged on pixels away from objects.

    Candidates: the named plain colour nearest the median, each texture, and per gradient
    direction the least-squares fit snapped to named colours; the one with the smallest mean
    absolute error wins.
    """
    height, width = image.shape[:2]
    keep = ~(object_region_mask(image) if objects_mask is None else objects_mask)
    if keep.sum() < 16:
        keep = np.ones((height, width), dtype=bool)
    pixels = image.astype(np.float64)[keep]
    candidates = [Background("plain", _nearest_background_colour(np.median(pixels, axis=0)))]
    candidates += [Background("texture", texture=name) for name in TEXTURES]
    xs = np.broadcast_to((np.arange(width) + 0.5) / width, (height, width))
    ys = np.broadcast_to(((np.arange(height) + 0.5) / height)[:, None], (height, width))
    for direction, t in (("horizontal", xs), ("vertical", ys), ("diagonal", (xs + ys) / 2)):
        design = np.stack([np.ones(int(keep.sum())), t[keep]], axis=1)
        coef, *_ = np.linalg.lstsq(design, pixels, rcond=None)
        start, end = _nearest_background_colour(coef[0]), _nearest_background_colour(coef[0] + coef[1])
        if start != end:
            candidates.append(Background("gradient", start, end, direction))
    errors = [float(np.abs(render_background(c, width, height)[keep] - pixels).mean()) for c in candidates]
    return candidates[int(np.argmin(errors))]


def _nearest_background_colour(rgb: np.ndarray) -> str:
    return min(
        BACKGROUND_COLOURS, key=lambda name: float(np.linalg.norm(rgb - np.asarray(BACKGROUND_COLOURS[name])))
    )


def parse_scene(image: np.ndarray) -> Scene:
    """The scene graph read from ``image``: objects (with ``unknown`` where nothing fits) and background."""
    height, width = image.shape[:2]
    objects = parse_objects(image)
    return Scene(width, height, parse_background(image), objects)
