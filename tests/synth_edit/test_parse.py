"""The pixel reader recovers every object exactly on generated scenes of every background kind."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from harness.suites.synth_edit.layout import random_scene
from harness.suites.synth_edit.palette import BACKGROUND_COLOURS, PALETTE, SHAPES, SIZE_ORDER
from harness.suites.synth_edit.parse import (
    CHROMA_THRESHOLD,
    UNKNOWN,
    classify_colour,
    parse_background,
    parse_objects,
    parse_scene,
)
from harness.suites.synth_edit.render import render_scene
from harness.suites.synth_edit.scene import Background, Scene

KINDS = ("plain", "gradient", "texture")


def _scenes_of_kind(kind: str, count: int, rotate: bool = False) -> list[Scene]:
    rng = np.random.default_rng(["plain", "gradient", "texture"].index(kind))
    scenes = []
    while len(scenes) < count:
        scene = random_scene(rng, 256, int(rng.integers(3, 7)))
        if scene.background.kind != kind:
            continue
        if rotate:
            objects = tuple(replace(o, rotation=float(rng.uniform(0, 360))) for o in scene.objects)
            scene = replace(scene, objects=objects)
        scenes.append(scene)
    return scenes


def _assert_read_back(scene: Scene) -> None:
    found = parse_objects(render_scene(scene))
    assert len(found) == len(scene.objects)
    for obj in scene.objects:
        nearest = min(found, key=lambda d: math.hypot(d.x - obj.x, d.y - obj.y))
        assert math.hypot(nearest.x - obj.x, nearest.y - obj.y) < 0.5
        assert (nearest.shape, nearest.colour, nearest.size) == (obj.shape, obj.colour, obj.size)


@pytest.mark.parametrize("kind", KINDS)
def test_parse_is_exact_on_every_background_kind(kind: str) -> None:
    for scene in _scenes_of_kind(kind, 40):
        _assert_read_back(scene)


def test_shape_reading_is_rotation_invariant() -> None:
    for kind in KINDS:
        for scene in _scenes_of_kind(kind, 12, rotate=True):
            _assert_read_back(scene)


def test_every_shape_colour_and_size_combination_is_read_back() -> None:
    for background in (Background("plain", "white"), Background("texture", texture="grass")):
        for size in SIZE_ORDER:
            scene = Scene(256, 256, background)
            objects = []
            for index, shape in enumerate(SHAPES):
                colour = list(PALETTE)[(index + SIZE_ORDER.index(size)) % len(PALETTE)]
                x, y = 50 + 78 * (index % 3), 60 + 120 * (index // 3)
                objects.append(scene.make_object(f"o{index}", shape, colour, size, x, y))
            _assert_read_back(replace(scene, objects=tuple(objects)))
    for colour in PALETTE:
        scene = Scene(256, 256, Background("plain", "dark grey"))
        scene = replace(scene, objects=(scene.make_object("o1", "circle", colour, "small", 128, 128),))
        _assert_read_back(scene)


def test_backgrounds_are_neutral_and_palette_saturated() -> None:
    for rgb in BACKGROUND_COLOURS.values():
        assert max(rgb) - min(rgb) <= 20 < CHROMA_THRESHOLD / 2
    for rgb in PALETTE.values():
        assert max(rgb) - min(rgb) >= 2 * CHROMA_THRESHOLD


def test_off_palette_colour_is_unknown() -> None:
    assert classify_colour(np.array([215.0, 25.0, 35.0])) == "red"
    assert classify_colour(np.array([128.0, 255.0, 128.0])) == UNKNOWN


def test_parse_background_recovers_the_spec() -> None:
    for kind in KINDS:
        for scene in _scenes_of_kind(kind, 3):
            assert parse_background(render_scene(scene)) == scene.background


def test_parse_scene_returns_objects_and_background() -> None:
    scene = _scenes_of_kind("gradient", 1)[0]
    parsed = parse_scene(render_scene(scene))
    assert parsed.background == scene.background
    assert sorted((o.shape, o.colour, o.size) for o in parsed.objects) == sorted(
        (o.shape, o.colour, o.size) for o in scene.objects
    )
