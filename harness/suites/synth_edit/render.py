"""Deterministic, anti-aliased rendering of scenes (pure numpy, no fonts or GPU).

Each object's coverage is computed on a 4x4 supersampling grid per pixel (exact point-in-polygon
tests, so the result is a multiple of 1/16) and alpha-composited over the background in object
order. Identical scenes give byte-identical images on any platform.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from harness.suites.synth_edit.palette import (
    BACKGROUND_COLOURS,
    PALETTE,
    TEXTURE_GAIN,
    TEXTURE_MEAN,
    TEXTURE_RANGE,
    unit_polygon,
)
from harness.suites.synth_edit.scene import Background, Scene, SceneObject

SUPERSAMPLE = 4


@lru_cache(maxsize=8)
def _texture_source(name: str) -> np.ndarray:
    import skimage.data

    loader = getattr(skimage.data, name)
    grey = np.asarray(loader(), dtype=np.float64)
    if grey.ndim == 3:
        grey = grey[..., :3].mean(axis=2)
    flattened = TEXTURE_MEAN + (grey - grey.mean()) * TEXTURE_GAIN
    return np.clip(flattened, *TEXTURE_RANGE)


def render_background(background: Background, width: int, height: int) -> np.ndarray:
    """float64 (H, W, 3) background in 0..255 (a fresh, writable array)."""
    return _cached_background(background, width, height).copy()


@lru_cache(maxsize=32)
def _cached_background(background: Background, width: int, height: int) -> np.ndarray:
    if background.kind == "plain":
        colour = np.asarray(BACKGROUND_COLOURS[background.colour], dtype=np.float64)
        return np.broadcast_to(colour, (height, width, 3)).copy()
    if background.kind == "gradient":
        start = np.asarray(BACKGROUND_COLOURS[background.colour], dtype=np.float64)
        end = np.asarray(BACKGROUND_COLOURS[background.colour2], dtype=np.float64)
        xs = (np.arange(width) + 0.5) / width
        ys = (np.arange(height) + 0.5) / height
        if background.direction == "horizontal":
            t = np.broadcast_to(xs[None, :], (height, width))
        elif background.direction == "vertical":
            t = np.broadcast_to(ys[:, None], (height, width))
        else:
            t = (xs[None, :] + ys[:, None]) / 2.0
        return start + (end - start) * t[..., None]
    texture = _texture_source(background.texture)
    rows = (np.arange(height) * texture.shape[0]) // max(height, 1) % texture.shape[0]
    cols = (np.arange(width) * texture.shape[1]) // max(width, 1) % texture.shape[1]
    grey = texture[np.ix_(rows, cols)]
    return np.repeat(grey[..., None], 3, axis=2)


def object_coverage(obj: SceneObject, width: int, height: int) -> tuple[int, int, np.ndarray]:
    """(row0, col0, alpha): the object's fractional pixel coverage in a patch at (row0, col0).

    Pixels whose centre is more than ``_BAND`` px from the outline are fully in or out; only the
    band along the outline is supersampled (same values as supersampling everything).
    """
    reach = obj.radius + 1.0
    col0, col1 = max(int(np.floor(obj.x - reach)), 0), min(int(np.ceil(obj.x + reach)), width)
    row0, row1 = max(int(np.floor(obj.y - reach)), 0), min(int(np.ceil(obj.y + reach)), height)
    if col1 <= col0 or row1 <= row0:
        return 0, 0, np.zeros((0, 0))
    px, py = np.meshgrid(np.arange(col0, col1) + 0.5 - obj.x, np.arange(row0, row1) + 0.5 - obj.y)
    vertices = None if obj.shape == "circle" else unit_polygon(obj.shape, obj.rotation) * obj.radius
    rho = np.hypot(px, py)
    if vertices is None:
        inside = rho <= obj.radius
        near = np.abs(rho - obj.radius) <= _BAND
    else:
        # Only the annulus between the inscribed and circumscribed circles can hold the outline.
        inradius = float(_distance_to_outline(np.zeros(1), np.zeros(1), vertices)[0])
        rows, cols = np.nonzero((rho >= inradius - _BAND) & (rho <= obj.radius + _BAND))
        inside = rho < inradius
        inside[rows, cols] |= _inside_polygon(px[rows, cols], py[rows, cols], vertices)
        near = np.zeros(px.shape, dtype=bool)
        near[rows, cols] = _distance_to_outline(px[rows, cols], py[rows, cols], vertices) <= _BAND
    alpha = inside.astype(np.float64)
    rows, cols = np.nonzero(near)
    if rows.size:
        offsets = (np.arange(SUPERSAMPLE) + 0.5) / SUPERSAMPLE - 0.5
        ox, oy = np.meshgrid(offsets, offsets)
        sx = px[rows, cols][:, None] + ox.ravel()[None, :]
        sy = py[rows, cols][:, None] + oy.ravel()[None, :]
        hits = _inside(sx, sy, obj.radius, vertices).sum(axis=1)
        alpha[rows, cols] = hits / float(SUPERSAMPLE * SUPERSAMPLE)
    return row0, col0, alpha


_BAND = 0.75  # > the largest distance (0.53 px) from a pixel centre to its supersampling points


def _inside(px: np.ndarray, py: np.ndarray, radius: float, vertices: np.ndarray | None) -> np.ndarray:
    if vertices is None:
        return px * px + py * py <= radius * radius
    return _inside_polygon(px, py, vertices)


def _distance_to_outline(px: np.ndarray, py: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Distance from each point to the nearest polygon edge."""
    best = np.full(px.shape, np.inf)
    count = len(vertices)
    for i in range(count):
        x1, y1 = vertices[i]
        x2, y2 = vertices[(i + 1) % count]
        ex, ey = x2 - x1, y2 - y1
        t = np.clip(((px - x1) * ex + (py - y1) * ey) / (ex * ex + ey * ey), 0.0, 1.0)
        best = np.minimum(best, np.hypot(px - x1 - t * ex, py - y1 - t * ey))
    return best


def _inside_polygon(px: np.ndarray, py: np.ndarray, vertices: np.ndarray) -> np.ndarray:
    """Even-odd rule point-in-polygon test, vectorised over points."""
    inside = np.zeros(px.shape, dtype=bool)
    count = len(vertices)
    for i in range(count):
        x1, y1 = vertices[i]
        x2, y2 = vertices[(i + 1) % count]
        if y1 == y2:
            continue
        crosses = (py >= min(y1, y2)) & (py < max(y1, y2))
        x_at = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (px < x_at)
    return inside


def object_mask(obj: SceneObject, width: int, height: int) -> np.ndarray:
    """bool (H, W): pixels the object covers at all (its footprint)."""
    mask = np.zeros((height, width), dtype=bool)
    row0, col0, alpha = object_coverage(obj, width, height)
    mask[row0 : row0 + alpha.shape[0], col0 : col0 + alpha.shape[1]] = alpha > 0
    return mask


def render_scene(scene: Scene) -> np.ndarray:
    """The scene as uint8 RGB (H, W, 3)."""
    canvas = render_background(scene.background, scene.width, scene.height)
    for obj in scene.objects:
        row0, col0, alpha = object_coverage(obj, scene.width, scene.height)
        if alpha.size == 0:
            continue
        colour = np.asarray(PALETTE[obj.colour], dtype=np.float64)
        patch = canvas[row0 : row0 + alpha.shape[0], col0 : col0 + alpha.shape[1]]
        weight = alpha[..., None]
        patch[...] = patch * (1.0 - weight) + colour * weight
    return np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
