"""Scene graphs: a canvas, a background and non-overlapping objects, as frozen dataclasses.

The JSON form (``Scene.to_dict`` / ``Scene.from_dict``) is the schema documented in
data_cards/synth-edit.md; it is what samples carry in ``metadata["source_scene"]`` and
``metadata["target_scene"]``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from harness.suites.synth_edit.palette import (
    BACKGROUND_COLOURS,
    BORDER_MARGIN,
    COLOURS,
    GRADIENT_DIRECTIONS,
    OBJECT_GAP,
    REGIONS,
    SHAPES,
    SIZES,
    TEXTURES,
    circumradius,
)

SCENE_SCHEMA_VERSION = 1


class SceneError(ValueError):
    """A scene or object description that breaks the schema."""


@dataclass(frozen=True)
class Background:
    """``kind`` is plain (``colour``), gradient (``colour`` -> ``colour2`` along ``direction``) or
    texture (``texture``)."""

    kind: str = "plain"
    colour: str = "light grey"
    colour2: str = ""
    direction: str = ""
    texture: str = ""

    def __post_init__(self) -> None:
        # Fields a kind does not use are blanked, so equal backgrounds compare equal.
        unused = {"plain": ("colour2", "direction", "texture"), "gradient": ("texture",)}.get(
            self.kind, ("colour", "colour2", "direction") if self.kind == "texture" else ()
        )
        for name in unused:
            object.__setattr__(self, name, "")

    def validate(self) -> None:
        if self.kind == "plain":
            _check(self.colour in BACKGROUND_COLOURS, f"unknown background colour {self.colour!r}")
        elif self.kind == "gradient":
            _check(self.colour in BACKGROUND_COLOURS, f"unknown background colour {self.colour!r}")
            _check(self.colour2 in BACKGROUND_COLOURS, f"unknown background colour {self.colour2!r}")
            _check(self.direction in GRADIENT_DIRECTIONS, f"unknown gradient direction {self.direction!r}")
        elif self.kind == "texture":
            _check(self.texture in TEXTURES, f"unknown texture {self.texture!r}")
        else:
            raise SceneError(f"unknown background kind {self.kind!r}")

    def to_dict(self) -> dict[str, Any]:
        if self.kind == "plain":
            return {"kind": "plain", "colour": self.colour}
        if self.kind == "gradient":
            return {
                "kind": "gradient",
                "colour": self.colour,
                "colour2": self.colour2,
                "direction": self.direction,
            }
        return {"kind": "texture", "texture": self.texture}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Background:
        background = cls(
            kind=str(data.get("kind", "")),
            colour=str(data.get("colour", "")),
            colour2=str(data.get("colour2", "")),
            direction=str(data.get("direction", "")),
            texture=str(data.get("texture", "")),
        )
        background.validate()
        return background

    def describe(self) -> str:
        """Words for instructions: 'a plain white background', 'a brick texture', ..."""
        if self.kind == "plain":
            return f"plain {self.colour}"
        if self.kind == "gradient":
            return f"a {self.direction} gradient from {self.colour} to {self.colour2}"
        return f"a {self.texture} texture"


@dataclass(frozen=True)
class SceneObject:
    """One flat-coloured shape. ``x``, ``y``: centre (centroid) in px; ``radius``: circumradius in
    px (derived from shape and size class); ``rotation`` in degrees; ``region``: the named 3x3 cell
    the object was placed into by an instruction, or "" (then its position is exact)."""

    id: str
    shape: str
    colour: str
    size: str
    x: float
    y: float
    radius: float
    rotation: float = 0.0
    region: str = ""

    def validate(self) -> None:
        _check(self.shape in SHAPES, f"object {self.id}: unknown shape {self.shape!r}")
        _check(self.colour in COLOURS, f"object {self.id}: unknown colour {self.colour!r}")
        _check(self.size in SIZES, f"object {self.id}: unknown size {self.size!r}")
        _check(not self.region or self.region in REGIONS, f"object {self.id}: unknown region {self.region!r}")
        _check(self.radius > 0, f"object {self.id}: radius must be positive")

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "shape": self.shape,
            "colour": self.colour,
            "size": self.size,
            "x": self.x,
            "y": self.y,
            "radius": self.radius,
            "rotation": self.rotation,
            "region": self.region,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SceneObject:
        try:
            obj = cls(
                id=str(data["id"]),
                shape=str(data["shape"]),
                colour=str(data["colour"]),
                size=str(data["size"]),
                x=float(data["x"]),
                y=float(data["y"]),
                radius=float(data["radius"]),
                rotation=float(data.get("rotation", 0.0)),
                region=str(data.get("region", "") or ""),
            )
        except KeyError as exc:
            raise SceneError(f"object lacks field {exc.args[0]!r}") from exc
        obj.validate()
        return obj

    def attributes(self) -> dict[str, str]:
        return {"shape": self.shape, "colour": self.colour, "size": self.size}


@dataclass(frozen=True)
class Scene:
    width: int
    height: int
    background: Background = field(default_factory=Background)
    objects: tuple[SceneObject, ...] = ()

    @property
    def canvas(self) -> int:
        """The short side: sizes and tolerances are fractions of it."""
        return min(self.width, self.height)

    def get(self, object_id: str) -> SceneObject:
        for obj in self.objects:
            if obj.id == object_id:
                return obj
        raise KeyError(object_id)

    def has(self, object_id: str) -> bool:
        return any(obj.id == object_id for obj in self.objects)

    def replace_object(self, new: SceneObject) -> Scene:
        return replace(self, objects=tuple(new if obj.id == new.id else obj for obj in self.objects))

    def without(self, object_id: str) -> Scene:
        return replace(self, objects=tuple(obj for obj in self.objects if obj.id != object_id))

    def with_object(self, new: SceneObject) -> Scene:
        return replace(self, objects=(*self.objects, new))

    def next_object_id(self) -> str:
        numbers = [int(obj.id[1:]) for obj in self.objects if obj.id[1:].isdigit()]
        return f"o{max(numbers, default=0) + 1}"

    def make_object(
        self, object_id: str, shape: str, colour: str, size: str, x: float, y: float, region: str = ""
    ) -> SceneObject:
        """An object with its circumradius derived from shape and size on this canvas."""
        radius = circumradius(shape, size, self.canvas)
        return SceneObject(object_id, shape, colour, size, float(x), float(y), radius, 0.0, region)

    def validate(self) -> None:
        _check(self.width > 0 and self.height > 0, "canvas size must be positive")
        self.background.validate()
        ids = [obj.id for obj in self.objects]
        _check(len(ids) == len(set(ids)), "object ids must be unique")
        for obj in self.objects:
            obj.validate()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCENE_SCHEMA_VERSION,
            "width": self.width,
            "height": self.height,
            "background": self.background.to_dict(),
            "objects": [obj.to_dict() for obj in self.objects],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scene:
        try:
            scene = cls(
                width=int(data["width"]),
                height=int(data["height"]),
                background=Background.from_dict(data["background"]),
                objects=tuple(SceneObject.from_dict(item) for item in data["objects"]),
            )
        except KeyError as exc:
            raise SceneError(f"scene lacks field {exc.args[0]!r}") from exc
        scene.validate()
        return scene


def object_fits(scene: Scene, obj: SceneObject, ignore: tuple[str, ...] = ()) -> bool:
    """True when ``obj`` lies inside the canvas with the border margin and keeps the gap to every
    other object of ``scene`` (objects whose id is ``obj.id`` or in ``ignore`` are skipped)."""
    border = BORDER_MARGIN * scene.canvas + obj.radius
    if not (border <= obj.x <= scene.width - border and border <= obj.y <= scene.height - border):
        return False
    gap = OBJECT_GAP * scene.canvas
    for other in scene.objects:
        if other.id == obj.id or other.id in ignore:
            continue
        if math.hypot(other.x - obj.x, other.y - obj.y) < obj.radius + other.radius + gap:
            return False
    return True


def scene_fits(scene: Scene) -> bool:
    """True when no two objects overlap (with the gap) and all lie inside the canvas."""
    return all(object_fits(scene, obj) for obj in scene.objects)


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise SceneError(message)
