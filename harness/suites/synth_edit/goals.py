"""L4 goal-level edits: one sentence that states an end state, expanded into per-object steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from harness.suites.synth_edit.layout import pick
from harness.suites.synth_edit.palette import COLOURS, SIZE_ORDER
from harness.suites.synth_edit.phrasing import goal_sentence
from harness.suites.synth_edit.program import EditStep, Subject, apply_step
from harness.suites.synth_edit.referring import CLEAR_MARGIN, minimal_attribute_ref, resolve
from harness.suites.synth_edit.scene import Scene, SceneObject, scene_fits

GOALS: tuple[str, ...] = (
    "recolor_all_like_largest",
    "keep_only_shape",
    "remove_colour",
    "recolor_shape",
    "shrink_all_to_smallest",
    "keep_only_largest",
    "recolor_half",
)


@dataclass(frozen=True)
class GoalDraft:
    goal: str
    slots: dict[str, str]
    sentence: str
    program: list[EditStep] = field(default_factory=list)


def _expand(
    scene: Scene, action: str, objects: list[SceneObject], args: dict[str, Any]
) -> list[EditStep] | None:
    """One step per object in order; subjects carry an attribute ref when one is unique at that step."""
    steps = []
    for obj in objects:
        ref = minimal_attribute_ref(scene, scene.get(obj.id)) or {}
        step = EditStep(action, Subject(obj.id, ref, ""), dict(args))
        scene = apply_step(scene, step)
        steps.append(step)
    return steps if scene_fits(scene) else None


def _unique_largest(scene: Scene) -> SceneObject | None:
    hits = resolve(scene, {"type": "superlative", "property": "largest", "filter": None})
    return hits[0] if len(hits) == 1 else None


def draft_goal(rng: np.random.Generator, scene: Scene, family: str, goal: str) -> GoalDraft | None:
    objects = list(scene.objects)
    slots: dict[str, str] = {}
    if goal == "recolor_all_like_largest":
        largest = _unique_largest(scene)
        if largest is None:
            return None
        chosen = [o for o in objects if o.colour != largest.colour]
        action, args, minimum = "recolor", {"colour": largest.colour}, 2
    elif goal == "keep_only_shape":
        slots["shape"] = pick(rng, sorted({o.shape for o in objects}))
        chosen = [o for o in objects if o.shape != slots["shape"]]
        action, args, minimum = "remove", {}, 2
    elif goal == "remove_colour":
        slots["colour"] = pick(rng, sorted({o.colour for o in objects}))
        chosen = [o for o in objects if o.colour == slots["colour"]]
        if len(chosen) == len(objects):
            return None
        action, args, minimum = "remove", {}, 2
    elif goal == "recolor_shape":
        slots["shape"] = pick(rng, sorted({o.shape for o in objects}))
        slots["colour"] = pick(rng, COLOURS)
        group = [o for o in objects if o.shape == slots["shape"]]
        if len(group) < 2:
            return None
        chosen = [o for o in group if o.colour != slots["colour"]]
        action, args, minimum = "recolor", {"colour": slots["colour"]}, 1
    elif goal == "shrink_all_to_smallest":
        smallest = min(SIZE_ORDER.index(o.size) for o in objects)
        chosen = [o for o in objects if SIZE_ORDER.index(o.size) > smallest]
        action, args, minimum = "resize", {"size": SIZE_ORDER[smallest]}, 2
    elif goal == "keep_only_largest":
        largest = _unique_largest(scene)
        if largest is None:
            return None
        chosen = [o for o in objects if o.id != largest.id]
        action, args, minimum = "remove", {}, 2
    elif goal == "recolor_half":
        slots["half"] = pick(rng, ("left", "right"))
        slots["colour"] = pick(rng, COLOURS)
        middle, margin = scene.width / 2, CLEAR_MARGIN * scene.canvas
        if any(abs(o.x - middle) < margin for o in objects):
            return None
        group = [o for o in objects if (o.x < middle) == (slots["half"] == "left")]
        if len(group) < 2:
            return None
        chosen = [o for o in group if o.colour != slots["colour"]]
        action, args, minimum = "recolor", {"colour": slots["colour"]}, 1
    else:
        raise ValueError(f"unknown goal {goal!r}")
    if len(chosen) < minimum:
        return None
    program = _expand(scene, action, chosen, args)
    if program is None:
        return None
    return GoalDraft(goal, slots, goal_sentence(family, goal, **slots), program)
