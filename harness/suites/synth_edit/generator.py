"""Seeded sample generation: a source scene, an instruction at one level, the program and target.

Everything is drawn from ``numpy.random.default_rng([seed, split code, index])``, so a sample is
a pure function of (seed, split, index, size). Levels:
  L1  one edit, subject named by its attributes ("the red circle")
  L2  one edit with an indirect reference: relation, superlative, ordinal or analogy
  L3  2-4 ordered edits; later references are resolved on the scene as earlier steps left it,
      and "move X to where Y was" refers to a place an earlier step emptied
  L4  a goal ("remove every shape that is not a circle"), expanded into per-object steps
A draft is rejected (and redrawn) when the target does not fit, when it equals the source under
the checker's tolerances (so the unedited source never passes), or when executing the program by
reference does not reproduce the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from harness.suites.synth_edit.goals import GOALS, draft_goal
from harness.suites.synth_edit.layout import pick, random_scene
from harness.suites.synth_edit.matching import scenes_equivalent
from harness.suites.synth_edit.phrasing import families_for, sequence_text
from harness.suites.synth_edit.program import ACTIONS, EditStep, ProgramError, apply_program, apply_step
from harness.suites.synth_edit.scene import Scene, scene_fits
from harness.suites.synth_edit.steps import INDIRECT_TYPES, StepDraft, draft_move_to_old_place, draft_step

GENERATOR_VERSION = "1"
LEVELS: tuple[str, ...] = ("L1", "L2", "L3", "L4")
SPLIT_CODES: dict[str, int] = {"train": 1, "test": 2}
L1_ACTIONS: tuple[str, ...] = ACTIONS
L2_ACTIONS: tuple[str, ...] = ("recolor", "remove", "add", "move", "resize", "replace_shape", "swap")
L3_ACTIONS: tuple[str, ...] = ACTIONS
CATEGORY_MULTI_STEP = "multi-step"
CATEGORY_GOAL = "goal"
OBJECT_COUNTS: dict[str, tuple[int, int]] = {"L1": (3, 5), "L2": (4, 6), "L3": (4, 6), "L4": (4, 6)}
MAX_ATTEMPTS = 400


class GenerationError(RuntimeError):
    """No valid sample found within MAX_ATTEMPTS draws (a generator bug, not a user error)."""


@dataclass(frozen=True)
class GeneratedEdit:
    level: str
    category: str
    family: str
    instruction: str
    source: Scene
    target: Scene
    program: list[EditStep]
    details: dict[str, Any] = field(default_factory=dict)


def follow_leniently(scene: Scene, program: list[EditStep]) -> Scene:
    """Execute by reference, skipping steps whose reference no longer resolves (what a literal
    agent does when it follows the words in whatever order it was given)."""
    for step in program:
        try:
            scene = apply_step(scene, step, by_reference=True)
        except ProgramError:
            continue
    return scene


def order_matters(source: Scene, program: list[EditStep], target: Scene) -> bool:
    """True when following the steps in reverse order misses the target (``follow_leniently``)."""
    if len(program) < 2:
        return False
    return not scenes_equivalent(follow_leniently(source, list(reversed(program))), target)


def _single(draft: StepDraft | None, category: str, indirect: bool):
    if draft is None:
        return None
    if indirect and not set(draft.reference_types) & set(INDIRECT_TYPES):
        return None
    details = {"reference_types": sorted(set(draft.reference_types))}
    return draft.sentence, [draft.step], category, details


def _multi_step(rng: np.random.Generator, scene: Scene, family: str):
    n_steps = int(rng.integers(2, 5))
    current, steps, sentences, kinds = scene, [], [], set()
    memory: tuple[str, str, float, float] | None = None
    last_id: str | None = None
    used_background = False
    for _ in range(n_steps):
        draft = None
        for _ in range(12):
            if memory and rng.random() < 0.5:
                draft = draft_move_to_old_place(rng, current, family, *memory)
                if draft is not None:
                    draft = replace(draft, reference_types=(*draft.reference_types, "where_was"))
            else:
                actions = [a for a in L3_ACTIONS if not (a == "background" and used_background)]
                action = pick(rng, actions)
                focus = last_id if last_id and current.has(last_id) and rng.random() < 0.4 else None
                if action in ("add", "background"):
                    focus = None
                draft = draft_step(rng, current, family, action, "any", focus=focus)
            if draft is not None:
                break
        if draft is None:
            return None
        step = draft.step
        if step.action in ("remove", "move") and step.subject and not step.arguments.get("anchor"):
            moved = current.get(step.subject.id)
            memory = (step.subject.text, moved.id, moved.x, moved.y)
        elif memory and step.action == "move" and step.arguments.get("anchor"):
            memory = None
        used_background = used_background or step.action == "background"
        last_id = step.subject.id if step.subject else step.arguments.get("id")
        current = apply_step(current, step)
        steps.append(step)
        sentences.append(draft.sentence)
        kinds.update(draft.reference_types)
    return sequence_text(family, sentences), steps, CATEGORY_MULTI_STEP, {"reference_types": sorted(kinds)}


def _goal(rng: np.random.Generator, scene: Scene, family: str, goal: str):
    draft = draft_goal(rng, scene, family, goal)
    if draft is None:
        return None
    details = {"goal": {"name": draft.goal, "slots": draft.slots}, "reference_types": []}
    return draft.sentence, draft.program, CATEGORY_GOAL, details


def generate_edit(seed: int, split: str, index: int, level: str, size: int = 256) -> GeneratedEdit:
    if split not in SPLIT_CODES:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLIT_CODES)}")
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; expected one of {', '.join(LEVELS)}")
    rng = np.random.default_rng([int(seed), SPLIT_CODES[split], int(index)])
    family = pick(rng, families_for(split))
    choice = pick(rng, {"L1": L1_ACTIONS, "L2": L2_ACTIONS, "L3": ("",), "L4": GOALS}[level])
    low, high = OBJECT_COUNTS[level]
    for _ in range(MAX_ATTEMPTS):
        scene = random_scene(rng, size, int(rng.integers(low, high + 1)))
        if len(scene.objects) < 3:
            continue
        if level == "L1":
            built = _single(draft_step(rng, scene, family, choice, "attribute"), choice, indirect=False)
        elif level == "L2":
            built = _single(draft_step(rng, scene, family, choice, "indirect"), choice, indirect=True)
        elif level == "L3":
            built = _multi_step(rng, scene, family)
        else:
            built = _goal(rng, scene, family, choice)
        if built is None:
            continue
        instruction, program, category, details = built
        target = apply_program(scene, program)
        if not scene_fits(target) or scenes_equivalent(scene, target):
            continue
        try:
            if apply_program(scene, program, by_reference=True) != target:
                continue
        except ProgramError:
            continue
        details["order_matters"] = order_matters(scene, program, target)
        return GeneratedEdit(level, category, family, instruction, scene, target, list(program), details)
    raise GenerationError(f"no valid {level} sample for seed={seed} split={split} index={index}")
