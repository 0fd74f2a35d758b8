"""Flat-colour scenes as editable layers: objects read from pixels with their coverage (alpha)
maps over a background model, and exact pixel operations that fill vacated pixels with background.

Objects are found as in ``harness.suites.synth_edit.parse`` (saturated colour on a near-neutral
background). Each object's alpha is recovered per pixel from the background model ``b`` and the
object colour ``c``: ``a = <p - b, c - b> / |c - b|^2``, rounded to the renderer's 1/16 steps, so
recolouring or re-placing an object reproduces the renderer's anti-aliasing. Where the background
model does not fit (a photograph), vacated pixels are filled by biharmonic inpainting instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from scipy import ndimage

from harness.suites.synth_edit.palette import PALETTE, REGIONS, SHAPES, SIZES, circumradius, region_centre
from harness.suites.synth_edit.parse import CHROMA_THRESHOLD, grow, parse_background, parse_objects
from harness.suites.synth_edit.render import SUPERSAMPLE, object_coverage, render_background
from harness.suites.synth_edit.scene import Background, SceneObject

BACKGROUND_FIT_TOLERANCE = 4.0  # mean |error| away from objects for the background model to be trusted
_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass
class Layer:
    """One object: its parsed description, footprint (pixels it touches) and alpha map."""

    obj: SceneObject
    footprint: np.ndarray  # bool (H, W)
    alpha: np.ndarray  # float (H, W), 0 outside the footprint
    rgb: np.ndarray  # float (3,), the colour composited with alpha

    @property
    def centroid(self) -> tuple[float, float]:
        return self.obj.x, self.obj.y


@dataclass
class FlatScene:
    """An image split into a background model and object layers."""

    image: np.ndarray
    background: Background
    background_rgb: np.ndarray  # float (H, W, 3)
    background_fits: bool
    layers: list[Layer]

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def canvas(self) -> int:
        return min(self.height, self.width)

    def objects(self) -> tuple[SceneObject, ...]:
        return tuple(layer.obj for layer in self.layers)

    def layer_for_mask(self, mask: np.ndarray) -> Layer | None:
        """The layer whose footprint overlaps ``mask`` most (None when none does)."""
        best, best_overlap = None, 0
        for layer in self.layers:
            overlap = int((layer.footprint & mask).sum())
            if overlap > best_overlap:
                best, best_overlap = layer, overlap
        return best

    def occupied(self, exclude: Layer | None = None) -> np.ndarray:
        mask = np.zeros((self.height, self.width), dtype=bool)
        for layer in self.layers:
            if layer is not exclude:
                mask |= layer.footprint
        return mask


def read_flat_scene(image: np.ndarray) -> FlatScene:
    """Split ``image`` into background and object layers."""
    image = np.ascontiguousarray(image)
    height, width = image.shape[:2]
    pixels = image.astype(np.float64)
    chroma = pixels.max(axis=2) - pixels.min(axis=2)
    labels, _ = ndimage.label(chroma > CHROMA_THRESHOLD, structure=_EIGHT)
    objects = parse_objects(image)
    footprints = _footprints(labels, objects, chroma)
    background = parse_background(image)
    background_rgb = render_background(background, width, height)
    any_object = np.zeros((height, width), dtype=bool)
    for footprint in footprints:
        any_object |= footprint
    away = ~grow(any_object, 2)
    error = float(np.abs(background_rgb[away] - pixels[away]).mean()) if away.any() else 0.0
    fits = error <= BACKGROUND_FIT_TOLERANCE
    if not fits:
        background_rgb = fill_background(pixels, any_object)
    layers = []
    for parsed, footprint in zip(objects, footprints, strict=True):
        obj = parsed
        if (
            parsed.shape in SHAPES and parsed.size in SIZES
        ):  # the renderer's circumradius, not the area radius
            obj = replace(parsed, radius=circumradius(parsed.shape, parsed.size, min(height, width)))
        rgb = np.asarray(PALETTE.get(obj.colour, _interior_rgb(pixels, footprint)), dtype=np.float64)
        alpha = _alpha(pixels, background_rgb, rgb, footprint)
        layers.append(Layer(obj, footprint, alpha, rgb))
    return FlatScene(image, background, background_rgb, fits, layers)


def _footprints(labels: np.ndarray, objects: tuple[SceneObject, ...], chroma: np.ndarray) -> list[np.ndarray]:
    """Per parsed object: its saturated component grown by the anti-aliased fringe (2 px)."""
    result = []
    for obj in objects:
        row = min(max(int(obj.y), 0), labels.shape[0] - 1)
        col = min(max(int(obj.x), 0), labels.shape[1] - 1)
        label = labels[row, col]
        if label == 0:  # a star or ring whose centroid misses its pixels: take the nearest component
            distance, (rows, cols) = ndimage.distance_transform_edt(labels == 0, return_indices=True)
            label = labels[rows[row, col], cols[row, col]]
        component = labels == label
        fringe = grow(component, 2) & ((labels == 0) | component) & (chroma > 2.0)
        result.append(fringe | component)
    return result


def _interior_rgb(pixels: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    inner = grow(footprint, -3)
    chosen = inner if inner.any() else footprint
    return np.median(pixels[chosen], axis=0)


def _alpha(
    pixels: np.ndarray, background: np.ndarray, colour: np.ndarray, footprint: np.ndarray
) -> np.ndarray:
    alpha = np.zeros(footprint.shape, dtype=np.float64)
    delta = colour[None, :] - background[footprint]
    norm = np.maximum((delta * delta).sum(axis=1), 1e-6)
    raw = ((pixels[footprint] - background[footprint]) * delta).sum(axis=1) / norm
    steps = SUPERSAMPLE * SUPERSAMPLE
    alpha[footprint] = np.clip(np.rint(raw * steps) / steps, 0.0, 1.0)
    return alpha


def fill_background(pixels: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """A float background for ``pixels`` with ``hole`` filled by biharmonic inpainting."""
    from skimage.restoration import inpaint_biharmonic

    filled = pixels.copy()
    if not hole.any():
        return filled
    grown = grow(hole, 1)
    rows, cols = np.nonzero(grown)
    pad = 4
    r0, r1 = max(rows.min() - pad, 0), min(rows.max() + pad + 1, pixels.shape[0])
    c0, c1 = max(cols.min() - pad, 0), min(cols.max() + pad + 1, pixels.shape[1])
    patch = pixels[r0:r1, c0:c1] / 255.0
    result = inpaint_biharmonic(patch, grown[r0:r1, c0:c1], channel_axis=-1)
    filled[r0:r1, c0:c1] = np.where(grown[r0:r1, c0:c1, None], result * 255.0, pixels[r0:r1, c0:c1])
    return filled


# -- pixel operations (each returns a new uint8 image) ---------------------------------------------


def _to_uint8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def erase(scene: FlatScene, image: np.ndarray, layer: Layer) -> np.ndarray:
    """``image`` with ``layer``'s footprint replaced by background."""
    out = image.copy()
    out[layer.footprint] = _to_uint8(scene.background_rgb[layer.footprint])
    return out


def composite(
    scene: FlatScene, image: np.ndarray, obj: SceneObject, rgb: np.ndarray, base: np.ndarray
) -> np.ndarray:
    """Render ``obj`` over ``base`` (float background where free) into ``image``."""
    out = image.copy()
    row0, col0, alpha = object_coverage(obj, scene.width, scene.height)
    if alpha.size == 0:
        return out
    rows = slice(row0, row0 + alpha.shape[0])
    cols = slice(col0, col0 + alpha.shape[1])
    weight = alpha[..., None]
    painted = base[rows, cols] * (1.0 - weight) + rgb[None, None, :] * weight
    region = out[rows, cols]
    region[alpha > 0] = _to_uint8(painted[alpha > 0])
    return out


def paint_base(scene: FlatScene, image: np.ndarray, exclude: Layer | None = None) -> np.ndarray:
    """Float pixels to composite over: the background model where no other object is, else the image."""
    occupied = scene.occupied(exclude)
    return np.where(occupied[..., None], image.astype(np.float64), scene.background_rgb)


def recolor(scene: FlatScene, layer: Layer, rgb: np.ndarray) -> np.ndarray:
    out = scene.image.copy()
    fp = layer.footprint
    weight = layer.alpha[fp][:, None]
    out[fp] = _to_uint8(scene.background_rgb[fp] * (1.0 - weight) + rgb[None, :] * weight)
    return out


def place(scene: FlatScene, layer: Layer, new: SceneObject) -> np.ndarray:
    """Erase ``layer`` and draw ``new`` (same colour) in its stead: move / resize / replace."""
    cleared = erase(scene, scene.image, layer)
    if not known_shape(new):
        return _shift_alpha(scene, cleared, layer, new.x - layer.obj.x, new.y - layer.obj.y)
    return composite(scene, cleared, new, layer.rgb, paint_base(scene, cleared, exclude=layer))


def _shift_alpha(scene: FlatScene, image: np.ndarray, layer: Layer, dx: float, dy: float) -> np.ndarray:
    """Move an object of unknown shape by whole pixels, carrying its alpha map."""
    shift = (int(round(dy)), int(round(dx)))
    alpha = ndimage.shift(layer.alpha, shift, order=0, mode="constant", cval=0.0)
    base = paint_base(scene, image, exclude=layer)
    out = image.copy()
    where = alpha > 0
    weight = alpha[where][:, None]
    out[where] = _to_uint8(base[where] * (1.0 - weight) + layer.rgb[None, :] * weight)
    return out


def swap(scene: FlatScene, first: Layer, second: Layer) -> np.ndarray:
    cleared = erase(scene, erase(scene, scene.image, first), second)
    base = paint_base(scene, cleared, exclude=first)
    base = np.where(second.footprint[..., None], scene.background_rgb, base)
    moved_first = replace(first.obj, x=second.obj.x, y=second.obj.y)
    moved_second = replace(second.obj, x=first.obj.x, y=first.obj.y)
    out = composite(scene, cleared, moved_first, first.rgb, base)
    return composite(scene, out, moved_second, second.rgb, base)


def add(scene: FlatScene, obj: SceneObject) -> np.ndarray:
    return composite(
        scene, scene.image, obj, np.asarray(PALETTE[obj.colour], np.float64), paint_base(scene, scene.image)
    )


def set_background(scene: FlatScene, background: Background) -> np.ndarray:
    new_rgb = render_background(background, scene.width, scene.height)
    out = new_rgb.copy()
    for layer in scene.layers:
        fp = layer.footprint
        weight = layer.alpha[fp][:, None]
        out[fp] = new_rgb[fp] * (1.0 - weight) + layer.rgb[None, :] * weight
    return _to_uint8(out)


# -- geometry helpers --------------------------------------------------------------------------------


def known_shape(obj: SceneObject) -> bool:
    return obj.shape in SHAPES and obj.size in SIZES


def object_spec(scene: FlatScene, shape: str, colour: str, size: str, x: float, y: float) -> SceneObject:
    radius = circumradius(shape, size, scene.canvas)
    return SceneObject("new", shape, colour, size, float(x), float(y), radius)


def resized(
    scene: FlatScene, layer: Layer, size: str | None = None, scale: float | None = None
) -> SceneObject:
    """The layer's object at a named size class, or scaled by ``scale`` (needs a known shape)."""
    obj = layer.obj
    if not known_shape(obj):
        raise ValueError(f"cannot resize an object of unknown shape ({obj.shape}, {obj.size})")
    if size is not None:
        return replace(obj, size=size, radius=circumradius(obj.shape, size, scene.canvas))
    return replace(obj, radius=obj.radius * float(scale or 1.0))


def reshaped(scene: FlatScene, layer: Layer, shape: str) -> SceneObject:
    obj = layer.obj
    size = obj.size if obj.size in SIZES else "medium"
    return replace(obj, shape=shape, size=size, radius=circumradius(shape, size, scene.canvas), rotation=0.0)


def named_position(name: str, width: int, height: int) -> tuple[float, float]:
    """Pixel centre of a named 3x3 cell (``center`` and ``centre`` both name the middle)."""
    region = "centre" if name in ("center", "centre") else name
    if region not in REGIONS:
        raise ValueError(f"unknown position {name!r}")
    x, y = region_centre(region, width, height)
    return float(x), float(y)
