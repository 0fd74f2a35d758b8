"""Random scenes and free placements for the generator (all randomness through one numpy Generator)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from harness.suites.synth_edit.palette import (
    BACKGROUND_COLOURS,
    BORDER_MARGIN,
    COLOURS,
    GRADIENT_DIRECTIONS,
    REGIONS,
    SHAPES,
    SIZE_ORDER,
    TEXTURES,
    region_centre,
)
from harness.suites.synth_edit.render import render_background
from harness.suites.synth_edit.scene import Background, Scene, SceneObject, object_fits

MIN_MOVE = 0.2  # a moved object travels at least this fraction of the canvas
MIN_BACKGROUND_CHANGE = 20.0  # mean absolute pixel difference between old and new background


def pick(rng: np.random.Generator, options: list | tuple):
    return options[int(rng.integers(len(options)))]


def random_background(rng: np.random.Generator) -> Background:
    kind = pick(rng, ("plain", "gradient", "texture"))
    colours = list(BACKGROUND_COLOURS)
    if kind == "plain":
        return Background("plain", pick(rng, colours))
    if kind == "gradient":
        first = pick(rng, colours)
        second = pick(rng, [c for c in colours if c != first])
        return Background("gradient", first, second, pick(rng, GRADIENT_DIRECTIONS))
    return Background("texture", texture=pick(rng, TEXTURES))


def backgrounds_differ(a: Background, b: Background, width: int, height: int) -> bool:
    difference = np.abs(render_background(a, width, height) - render_background(b, width, height)).mean()
    return bool(difference >= MIN_BACKGROUND_CHANGE)


def random_point(rng: np.random.Generator, scene: Scene, radius: float) -> tuple[int, int]:
    border = math.ceil(BORDER_MARGIN * scene.canvas + radius)
    x = int(rng.integers(border, max(scene.width - border, border + 1)))
    y = int(rng.integers(border, max(scene.height - border, border + 1)))
    return x, y


def random_scene(rng: np.random.Generator, size: int, n_objects: int, tries: int = 60) -> Scene:
    """A background and up to ``n_objects`` non-overlapping objects with random attributes."""
    scene = Scene(size, size, random_background(rng))
    for _ in range(n_objects):
        shape, colour, size_name = pick(rng, SHAPES), pick(rng, COLOURS), pick(rng, SIZE_ORDER)
        for _ in range(tries):
            obj = scene.make_object(scene.next_object_id(), shape, colour, size_name, 0, 0)
            x, y = random_point(rng, scene, obj.radius)
            obj = replace(obj, x=float(x), y=float(y))
            if object_fits(scene, obj):
                scene = scene.with_object(obj)
                break
    return scene


def free_regions(scene: Scene, obj: SceneObject, ignore: tuple[str, ...] = ()) -> list[str]:
    """Regions whose centre ``obj`` can be placed at (without overlap) and that are at least
    ``MIN_MOVE`` of the canvas away from where ``obj`` is now (when it is in the scene)."""
    found = []
    present = scene.has(obj.id)
    for region in REGIONS:
        x, y = region_centre(region, scene.width, scene.height)
        if present and math.hypot(x - obj.x, y - obj.y) < MIN_MOVE * scene.canvas:
            continue
        if object_fits(scene, replace(obj, x=float(x), y=float(y)), ignore):
            found.append(region)
    return found
