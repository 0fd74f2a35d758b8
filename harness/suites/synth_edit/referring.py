"""Referring expressions: structured ``ref`` dicts, their resolution on a scene, and their words.

Ref types (JSON):
  attribute    {"type": "attribute", "shape": S|null, "colour": C|null, "size": Z|null}
  relation     {"type": "relation", "relation": "left_of"|"right_of"|"above"|"below", "anchor": ATTR}
  superlative  {"type": "superlative", "property": "largest"|"smallest"|"leftmost"|"rightmost"|
                "topmost"|"bottommost", "filter": ATTR|null}
  ordinal      {"type": "ordinal", "index": 1.., "from": "left"|"right"|"top"|"bottom", "filter": ATTR|null}
  analogy      {"type": "analogy", "attribute": "colour"|"shape", "anchor": ATTR}
               (the one other object sharing the anchor's colour / shape)
A relation holds when the object's centre lies in the 90-degree cone on that side of the anchor's
centre. Superlatives on size compare size classes. The generator only uses a ref when it is
unique and clear (spatial comparisons keep a margin of ``CLEAR_MARGIN`` of the canvas).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.suites.synth_edit.palette import SIZE_ORDER
from harness.suites.synth_edit.scene import Scene, SceneObject

CLEAR_MARGIN = 0.06
ORDINAL_WORDS = ("first", "second", "third", "fourth", "fifth", "sixth")
RELATIONS = ("left_of", "right_of", "above", "below")
SUPERLATIVES = ("largest", "smallest", "leftmost", "rightmost", "topmost", "bottommost")
ORDINAL_SIDES = ("left", "right", "top", "bottom")


class ReferenceError(LookupError):  # noqa: A001 - a lookup of a scene object, not Python's builtin
    """A referring expression that matches no object or several."""


def attribute_ref(
    shape: str | None = None, colour: str | None = None, size: str | None = None
) -> dict[str, Any]:
    return {"type": "attribute", "shape": shape, "colour": colour, "size": size}


def _matches(obj: SceneObject, attr: Mapping[str, Any] | None) -> bool:
    if not attr:
        return True
    return all(attr.get(key) in (None, getattr(obj, key)) for key in ("shape", "colour", "size"))


def _in_cone(obj: SceneObject, anchor: SceneObject, relation: str, slack: float) -> bool:
    dx, dy = obj.x - anchor.x, obj.y - anchor.y
    along, across = {"left_of": (-dx, dy), "right_of": (dx, dy), "above": (-dy, dx), "below": (dy, dx)}[
        relation
    ]
    return along > 0 and along > abs(across) * (1.0 + slack)


def _axis_key(side: str) -> tuple[str, int]:
    return {"left": ("x", 1), "right": ("x", -1), "top": ("y", 1), "bottom": ("y", -1)}[side]


def resolve(scene: Scene, ref: Mapping[str, Any], slack: float = 0.0) -> list[SceneObject]:
    """Every object ``ref`` can denote. ``slack`` widens (<0) or narrows (>0) spatial tests; the
    generator uses it to keep only clear references."""
    kind = ref.get("type")
    objects = list(scene.objects)
    if kind == "attribute":
        return [obj for obj in objects if _matches(obj, ref)]
    if kind in ("relation", "analogy"):
        anchors = resolve(scene, ref["anchor"], slack)
        if len(anchors) != 1:
            return []
        anchor = anchors[0]
        if kind == "relation":
            return [o for o in objects if o.id != anchor.id and _in_cone(o, anchor, ref["relation"], slack)]
        attribute = ref["attribute"]
        return [
            o for o in objects if o.id != anchor.id and getattr(o, attribute) == getattr(anchor, attribute)
        ]
    pool = [obj for obj in objects if _matches(obj, ref.get("filter"))]
    if not pool:
        return []
    margin = slack * CLEAR_MARGIN * scene.canvas
    if kind == "superlative":
        prop = ref["property"]
        if prop in ("largest", "smallest"):
            rank = {obj.id: SIZE_ORDER.index(obj.size) for obj in pool}
            best = max(rank.values()) if prop == "largest" else min(rank.values())
            return [obj for obj in pool if rank[obj.id] == best]
        side = {"leftmost": "left", "rightmost": "right", "topmost": "top", "bottommost": "bottom"}[prop]
        axis, sign = _axis_key(side)
        best_value = min(sign * getattr(obj, axis) for obj in pool)
        return [obj for obj in pool if sign * getattr(obj, axis) <= best_value + max(margin, 0.0)]
    if kind == "ordinal":
        axis, sign = _axis_key(ref["from"])
        ordered = sorted(pool, key=lambda obj: sign * getattr(obj, axis))
        index = int(ref["index"]) - 1
        if not 0 <= index < len(ordered):
            return []
        chosen = ordered[index]
        if margin > 0:
            values = [sign * getattr(obj, axis) for obj in ordered]
            near = [
                o
                for o, v in zip(ordered, values, strict=True)
                if abs(v - values[index]) < margin and o.id != chosen.id
            ]
            return [chosen, *near]
        return [chosen]
    raise ReferenceError(f"unknown reference type {kind!r}")


def resolve_unique(scene: Scene, ref: Mapping[str, Any]) -> SceneObject:
    found = resolve(scene, ref)
    if len(found) != 1:
        what = "nothing" if not found else f"{len(found)} objects"
        raise ReferenceError(f"reference {dict(ref)} matches {what}")
    return found[0]


def is_clear(scene: Scene, ref: Mapping[str, Any], target_id: str) -> bool:
    """True when ``ref`` picks exactly ``target_id`` with a margin: a relation must hold in a
    narrowed cone and match nothing else in a widened one; position superlatives and ordinals need
    ``CLEAR_MARGIN`` of the canvas between the chosen object and the next one."""
    if ref.get("type") == "relation":
        wide = [obj.id for obj in resolve(scene, ref, -0.35)]
        narrow = [obj.id for obj in resolve(scene, ref, 0.35)]
        return wide == [target_id] and narrow == [target_id]
    return [obj.id for obj in resolve(scene, ref, 1.0)] == [target_id]


def minimal_attribute_ref(scene: Scene, obj: SceneObject, prefer_full: bool = True) -> dict[str, Any] | None:
    """The shortest attribute ref that picks ``obj`` alone (colour+shape first when ``prefer_full``)."""
    options = [
        attribute_ref(colour=obj.colour, shape=obj.shape),
        attribute_ref(shape=obj.shape),
        attribute_ref(colour=obj.colour),
        attribute_ref(size=obj.size, shape=obj.shape),
        attribute_ref(size=obj.size, colour=obj.colour, shape=obj.shape),
    ]
    if not prefer_full:
        options = options[1:3] + options[:1] + options[3:]
    for ref in options:
        if [o.id for o in resolve(scene, ref)] == [obj.id]:
            return ref
    return None
