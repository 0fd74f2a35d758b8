"""Drafting one edit step: choose a subject and its referring expression, arguments and words."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from harness.suites.synth_edit.layout import backgrounds_differ, free_regions, pick, random_background
from harness.suites.synth_edit.palette import COLOURS, SHAPES, SIZE_ORDER, region_centre
from harness.suites.synth_edit.phrasing import (
    FAMILIES,
    action_sentence,
    background_text,
    ref_text,
    region_text,
)
from harness.suites.synth_edit.program import EditStep, Subject, apply_step
from harness.suites.synth_edit.referring import (
    ORDINAL_SIDES,
    RELATIONS,
    SUPERLATIVES,
    attribute_ref,
    is_clear,
    minimal_attribute_ref,
    resolve,
)
from harness.suites.synth_edit.scene import Scene, SceneObject, scene_fits

INDIRECT_TYPES = ("relation", "superlative", "ordinal", "analogy")


@dataclass(frozen=True)
class StepDraft:
    step: EditStep
    sentence: str
    reference_types: tuple[str, ...]


@dataclass(frozen=True)
class Referent:
    obj: SceneObject
    ref: dict[str, Any]
    text: str

    def subject(self) -> Subject:
        return Subject(self.obj.id, self.ref, self.text)


def indirect_refs(scene: Scene) -> dict[str, list[tuple[dict[str, Any], str]]]:
    """Every clear indirect reference in ``scene``, by type, as (ref, object id)."""
    found: dict[str, list[tuple[dict[str, Any], str]]] = {kind: [] for kind in INDIRECT_TYPES}
    for anchor_ref in [minimal_attribute_ref(scene, obj) for obj in scene.objects]:
        if anchor_ref is None:
            continue
        for relation in RELATIONS:
            ref = {"type": "relation", "relation": relation, "anchor": anchor_ref}
            hits = resolve(scene, ref)
            if len(hits) == 1 and is_clear(scene, ref, hits[0].id):
                found["relation"].append((ref, hits[0].id))
        for attribute in ("colour", "shape"):
            ref = {"type": "analogy", "attribute": attribute, "anchor": anchor_ref}
            hits = resolve(scene, ref)
            if len(hits) == 1:
                found["analogy"].append((ref, hits[0].id))
    filters: list[dict[str, Any] | None] = [None]
    filters += [attribute_ref(shape=s) for s in sorted({o.shape for o in scene.objects})]
    filters += [attribute_ref(colour=c) for c in sorted({o.colour for o in scene.objects})]
    for filt in filters:
        pool = resolve(scene, filt) if filt else list(scene.objects)
        if len(pool) < 2:
            continue
        for prop in SUPERLATIVES:
            ref = {"type": "superlative", "property": prop, "filter": filt}
            hits = resolve(scene, ref)
            if len(hits) == 1 and is_clear(scene, ref, hits[0].id):
                found["superlative"].append((ref, hits[0].id))
        for side in ORDINAL_SIDES:
            for index in range(2, min(len(pool), 4) + 1):
                ref = {"type": "ordinal", "index": index, "from": side, "filter": filt}
                hits = resolve(scene, ref)
                if len(hits) == 1 and is_clear(scene, ref, hits[0].id):
                    found["ordinal"].append((ref, hits[0].id))
    return found


def choose_referent(
    rng: np.random.Generator,
    scene: Scene,
    family: str,
    mode: str,
    exclude: tuple[str, ...] = (),
    focus: str | None = None,
) -> Referent | None:
    """A subject referred to by attributes (mode "attribute"), indirectly ("indirect") or either
    ("any"); ``focus`` restricts the choice to that object id."""
    if focus is not None:
        exclude = (*exclude, *(obj.id for obj in scene.objects if obj.id != focus))
    if mode == "any":
        mode = "indirect" if rng.random() < 0.5 else "attribute"
    if mode == "attribute":
        candidates = [obj for obj in scene.objects if obj.id not in exclude]
        rng.shuffle(candidates)
        for obj in candidates:
            ref = minimal_attribute_ref(scene, obj, prefer_full=bool(rng.random() < 0.7))
            if ref is not None:
                return Referent(obj, ref, ref_text(ref, family))
        return None
    by_type = indirect_refs(scene)
    kinds = [kind for kind in INDIRECT_TYPES if any(oid not in exclude for _, oid in by_type[kind])]
    if not kinds:
        return None
    options = [(ref, oid) for ref, oid in by_type[pick(rng, kinds)] if oid not in exclude]
    ref, oid = options[int(rng.integers(len(options)))]
    return Referent(scene.get(oid), ref, ref_text(ref, family))


def referent_for(scene: Scene, obj: SceneObject, family: str) -> Referent | None:
    ref = minimal_attribute_ref(scene, obj)
    return Referent(obj, ref, ref_text(ref, family)) if ref else None


def _sentence(family: str, action: str, rng: np.random.Generator, **slots: str) -> str:
    index = int(rng.integers(len(FAMILIES[family].actions[action])))
    return re.sub(r"\s+", " ", action_sentence(family, action, index, **slots)).replace(" ,", ",")


def _kinds(*refs: dict[str, Any] | None) -> tuple[str, ...]:
    return tuple(ref["type"] for ref in refs if ref)


def _colour_source(
    rng: np.random.Generator, scene: Scene, family: str, avoid: str, exclude: str = ""
) -> Referent | None:
    """An object (by attributes) whose colour differs from ``avoid``, for 'the same colour as X'."""
    options = [obj for obj in scene.objects if obj.colour != avoid and obj.id != exclude]
    rng.shuffle(options)
    for obj in options:
        ref = minimal_attribute_ref(scene, obj)
        if ref is not None and ref.get("colour") is None:  # 'the same colour as the red star' gives it away
            return Referent(obj, ref, ref_text(ref, family))
    return None


def draft_step(
    rng: np.random.Generator, scene: Scene, family: str, action: str, mode: str, focus: str | None = None
) -> StepDraft | None:
    """One step of ``action`` on ``scene``, or None when this scene offers no valid one.

    ``mode``: "attribute" (direct references only), "indirect" (the step must use a relation,
    superlative, ordinal or analogy), or "any".
    """
    vocab = FAMILIES[family].vocabulary
    if action == "background":
        for _ in range(10):
            new = random_background(rng)
            if backgrounds_differ(scene.background, new, scene.width, scene.height):
                step = EditStep("background", None, {"background": new.to_dict()})
                return StepDraft(step, _sentence(family, action, rng, bg=background_text(new, family)), ())
        return None
    if action == "add":
        shape, colour, size = pick(rng, SHAPES), pick(rng, COLOURS), pick(rng, SIZE_ORDER)
        source = _colour_source(rng, scene, family, "") if mode == "indirect" else None
        if mode == "indirect" and source is None:
            return None
        colour = source.obj.colour if source else colour
        new = scene.make_object(scene.next_object_id(), shape, colour, size, 0, 0)
        regions = free_regions(scene, new)
        if not regions:
            return None
        region = pick(rng, regions)
        x, y = region_centre(region, scene.width, scene.height)
        args: dict[str, Any] = {"id": new.id, "shape": shape, "colour": colour, "size": size, "x": x, "y": y}
        args["region"] = region
        where = region_text(region, family, adding=True)
        colour_words = colour
        if source:
            args["colour_ref"] = source.subject().to_dict()
            colour_words = ""
            where += ", " + vocab.same_colour_as.format(anchor=source.text)
        sentence = _sentence(
            family, action, rng, size=vocab.sizes[size], colour=colour_words, shape=shape, where=where
        )
        kinds = ("analogy", *_kinds(source.ref)) if source else ()
        return StepDraft(EditStep("add", None, args), sentence, kinds)
    subject_mode = mode
    if mode == "indirect" and action == "recolor" and rng.random() < 0.35:
        subject_mode = "attribute"  # the indirection goes into the colour: 'the same colour as X'
    referent = choose_referent(rng, scene, family, subject_mode, focus=focus)
    if referent is None:
        return None
    obj, subj = referent.obj, referent.text
    if action == "remove":
        return StepDraft(
            EditStep("remove", referent.subject()),
            _sentence(family, action, rng, subj=subj),
            _kinds(referent.ref),
        )
    if action == "recolor":
        source = None
        if subject_mode != mode or (mode == "any" and rng.random() < 0.2):
            source = _colour_source(rng, scene, family, obj.colour, exclude=obj.id)
            if source is None and subject_mode != mode:
                return None
        colour = source.obj.colour if source else pick(rng, [c for c in COLOURS if c != obj.colour])
        args = {"colour": colour}
        words = colour
        if source:
            args["colour_ref"] = source.subject().to_dict()
            words = vocab.same_colour_as.format(anchor=source.text)
        step = EditStep("recolor", referent.subject(), args)
        kinds = _kinds(referent.ref, source.ref if source else None) + (("analogy",) if source else ())
        return StepDraft(step, _sentence(family, action, rng, subj=subj, colour=words), kinds)
    if action == "move":
        regions = free_regions(scene, obj)
        if not regions:
            return None
        region = pick(rng, regions)
        x, y = region_centre(region, scene.width, scene.height)
        step = EditStep("move", referent.subject(), {"x": x, "y": y, "region": region})
        where = region_text(region, family, adding=False)
        return StepDraft(step, _sentence(family, action, rng, subj=subj, where=where), _kinds(referent.ref))
    if action in ("resize", "replace_shape"):
        key, values = ("size", SIZE_ORDER) if action == "resize" else ("shape", SHAPES)
        options = [v for v in values if v != getattr(obj, key)]
        rng.shuffle(options)
        for value in options:
            step = EditStep(action, referent.subject(), {key: value})
            if scene_fits(apply_step(scene, step)):
                words = vocab.sizes[value] if key == "size" else value
                return StepDraft(
                    step, _sentence(family, action, rng, subj=subj, **{key: words}), _kinds(referent.ref)
                )
        return None
    if action == "swap":
        other_mode = "attribute" if subject_mode == "indirect" else ("any" if mode == "any" else "attribute")
        other = choose_referent(rng, scene, family, other_mode, exclude=(obj.id,))
        if other is None or other.obj.attributes() == obj.attributes():
            return None
        if other.text in subj or subj in other.text:  # 'the shape left of X' swapped with X reads badly
            return None
        if math.hypot(other.obj.x - obj.x, other.obj.y - obj.y) < 0.2 * scene.canvas:
            return None
        step = EditStep("swap", referent.subject(), {"other": other.subject()})
        if not scene_fits(apply_step(scene, step)):
            return None
        sentence = _sentence(family, action, rng, subj=subj, other=other.text)
        return StepDraft(step, sentence, _kinds(referent.ref, other.ref))
    raise ValueError(f"unknown action {action!r}")


def draft_move_to_old_place(
    rng: np.random.Generator, scene: Scene, family: str, anchor_text: str, anchor_id: str, x: float, y: float
) -> StepDraft | None:
    """'Move X to where Y was': Y (``anchor_id``) was removed or moved by an earlier step."""
    vocab = FAMILIES[family].vocabulary
    candidates = [
        o for o in scene.objects if o.id != anchor_id and math.hypot(o.x - x, o.y - y) >= 0.2 * scene.canvas
    ]
    rng.shuffle(candidates)
    for obj in candidates:
        referent = referent_for(scene, obj, family)
        if referent is None:
            continue
        moved = replace(obj, x=float(x), y=float(y), region="")
        if not scene_fits(scene.replace_object(moved)):
            continue
        args = {"x": x, "y": y, "region": "", "anchor": {"id": anchor_id, "text": anchor_text}}
        where = vocab.where_was.format(anchor=anchor_text)
        return StepDraft(
            EditStep("move", referent.subject(), args),
            _sentence(family, "move", rng, subj=referent.text, where=where),
            _kinds(referent.ref),
        )
    return None
