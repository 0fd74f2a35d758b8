"""The synth-edit world's vocabulary: colours, shapes, sizes, backgrounds and named regions.

Everything here is plain data plus the shape geometry, so the renderer, the parser, the tool layer
and the RL policy share one definition. Object colours are saturated (chroma >= 145) and every
background is near-neutral (chroma <= 20), which is what lets ``parse_scene`` separate objects
from any background by chroma alone.
"""

from __future__ import annotations

import math

import numpy as np

# Saturated object colours (sRGB). Pairwise RGB distance >= 95, chroma (max - min) >= 145.
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (215, 25, 35),
    "orange": (240, 120, 0),
    "yellow": (240, 215, 0),
    "green": (20, 165, 50),
    "cyan": (0, 170, 200),
    "blue": (30, 70, 215),
    "purple": (125, 40, 185),
    "magenta": (215, 30, 160),
}
COLOURS: tuple[str, ...] = tuple(PALETTE)

# Near-neutral background colours (chroma <= 20).
BACKGROUND_COLOURS: dict[str, tuple[int, int, int]] = {
    "white": (244, 244, 244),
    "light grey": (205, 205, 205),
    "grey": (150, 150, 150),
    "dark grey": (70, 70, 70),
    "cream": (240, 234, 220),
    "slate": (96, 104, 112),
}
GRADIENT_DIRECTIONS: tuple[str, ...] = ("horizontal", "vertical", "diagonal")
# Grey scikit-image textures (bundled with the package, no download).
TEXTURES: tuple[str, ...] = ("brick", "grass", "gravel")
TEXTURE_MEAN = 150.0
TEXTURE_GAIN = 0.45
TEXTURE_RANGE = (90, 210)
BACKGROUND_KINDS: tuple[str, ...] = ("plain", "gradient", "texture")

SHAPES: tuple[str, ...] = ("circle", "square", "triangle", "star", "hexagon")
STAR_INNER_RATIO = 0.5

# Size classes as the radius of the equal-area disc, in fractions of the canvas side. Every shape
# of one size class covers the same area; consecutive classes differ ~2x in area.
SIZES: dict[str, float] = {"small": 0.05, "medium": 0.075, "large": 0.105}
SIZE_ORDER: tuple[str, ...] = ("small", "medium", "large")

# Named regions: the cells of a 3x3 grid; an object placed "in the top-left corner" is placed at
# that cell's centre.
REGIONS: dict[str, tuple[int, int]] = {  # name -> (column, row)
    "top-left": (0, 0),
    "top": (1, 0),
    "top-right": (2, 0),
    "left": (0, 1),
    "centre": (1, 1),
    "right": (2, 1),
    "bottom-left": (0, 2),
    "bottom": (1, 2),
    "bottom-right": (2, 2),
}

# Layout margins in fractions of the canvas side.
OBJECT_GAP = 0.03  # minimum gap between two objects' circumcircles
BORDER_MARGIN = 0.02  # minimum gap between a circumcircle and the canvas border


def region_centre(region: str, width: int, height: int) -> tuple[int, int]:
    column, row = REGIONS[region]
    return (round((2 * column + 1) * width / 6), round((2 * row + 1) * height / 6))


def unit_polygon(shape: str, rotation: float = 0.0) -> np.ndarray:
    """Vertices (N, 2) as (x, y) of ``shape`` with circumradius 1, image axes (y down)."""
    if shape == "circle":
        angles = np.linspace(0.0, 2 * math.pi, 96, endpoint=False)
        radii = np.ones_like(angles)
    elif shape == "square":
        angles = np.radians(45.0 + 90.0 * np.arange(4))
        radii = np.ones(4)
    elif shape == "triangle":
        angles = np.radians(-90.0 + 120.0 * np.arange(3))
        radii = np.ones(3)
    elif shape == "hexagon":
        angles = np.radians(60.0 * np.arange(6))
        radii = np.ones(6)
    elif shape == "star":
        angles = np.radians(-90.0 + 36.0 * np.arange(10))
        radii = np.where(np.arange(10) % 2 == 0, 1.0, STAR_INNER_RATIO)
    else:
        raise ValueError(f"unknown shape {shape!r}; expected one of {', '.join(SHAPES)}")
    angles = angles + math.radians(rotation)
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)


def _polygon_area(vertices: np.ndarray) -> float:
    x, y = vertices[:, 0], vertices[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def unit_area(shape: str) -> float:
    """Area of ``shape`` with circumradius 1."""
    return math.pi if shape == "circle" else _polygon_area(unit_polygon(shape))


# Circumradius of each shape relative to its equal-area disc radius.
SHAPE_SCALE: dict[str, float] = {shape: math.sqrt(math.pi / unit_area(shape)) for shape in SHAPES}


def circumradius(shape: str, size: str, canvas: int) -> float:
    """Circumradius in px of ``shape`` at size class ``size`` on a canvas whose short side is ``canvas``."""
    return round(SIZES[size] * canvas * SHAPE_SCALE[shape], 2)
