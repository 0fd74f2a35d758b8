"""Training data: suite samples -> (observation prompt, ground-truth plan) pairs.

The prompt is what the policy sees at run time: the instruction and the scene as the grounding
tool describes it (``EditingEnvironment.reset``). The target plan is converted from the suite's
ground-truth program, with scene objects mapped to the region handles grounding returned (nearest
centre). Only train splits feed training; the test split of synth-edit uses held-out phrasings.
"""

from __future__ import annotations

import functools
import math
import random
import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.types import Sample
from imageedit_r1.phrases import PHRASE_TYPES, canonical_phrase, is_handle
from imageedit_r1.plan import WHOLE_IMAGE, SubEdit, format_plan

POSITION_NAMES = {"centre": "center"}


@dataclass(frozen=True)
class PlanExample:
    prompt: str
    completion: str
    sample_id: str
    suite: str
    level: str = ""
    reference: tuple[SubEdit, ...] = field(default_factory=tuple)


class ConversionError(ValueError):
    """A ground-truth program this converter cannot express as a plan (the sample is skipped)."""


def match_regions(
    objects: Sequence[Mapping[str, Any]], regions: Sequence[Mapping[str, Any]], width: int, height: int
) -> dict[str, str]:
    """Scene object id -> region handle, by nearest centre (each region used once)."""
    mapping: dict[str, str] = {}
    free = list(regions)
    for obj in objects:
        ox, oy = float(obj["x"]) / width, float(obj["y"]) / height
        best, best_distance = None, math.inf
        for region in free:
            cx, cy = region.get("centroid") or region["center"]
            distance = math.hypot(cx - ox, cy - oy)
            if distance < best_distance:
                best, best_distance = region, distance
        if best is not None and best_distance < 0.08:
            mapping[str(obj["id"])] = str(best.get("handle", best["id"]))
            free.remove(best)
    return mapping


def _handle(subject: Mapping[str, Any] | None, handles: Mapping[str, str]) -> str:
    if not subject or str(subject.get("id")) not in handles:
        raise ConversionError(f"subject {subject!r} has no grounded region")
    return handles[str(subject["id"])]


SUBJECT_FORMS: tuple[str, ...] = ("handles", "phrases")


def _named(subject: Mapping[str, Any] | None, handles: Mapping[str, str], phrases: bool) -> str:
    """A subject as a referring phrase (when ``phrases`` and its reference has one), else a handle."""
    ref = (subject or {}).get("ref") or {}
    if phrases and ref.get("type") in PHRASE_TYPES:
        return canonical_phrase(ref)
    return _handle(subject, handles)


def phrase_subjects(subjects: str, level: str) -> bool:
    """Whether a synth-edit plan of ``level`` names its subjects by phrase. Goal plans (L4) keep
    handles in either form: their sub-edits enumerate a set the instruction never names one by one."""
    if subjects not in SUBJECT_FORMS:
        raise ValueError(f"unknown subject form {subjects!r}; expected one of {', '.join(SUBJECT_FORMS)}")
    return subjects == "phrases" and level != "L4"


def background_goal(background: Mapping[str, Any]) -> str:
    kind = background.get("kind")
    if kind == "plain":
        return str(background["colour"])
    if kind == "gradient":
        return f"{background['direction']} gradient from {background['colour']} to {background['colour2']}"
    if kind == "texture":
        return f"{background['texture']} texture"
    raise ConversionError(f"unknown background {background!r}")


def synth_subedits(
    program: Sequence[Mapping[str, Any]], handles: Mapping[str, str], phrases: bool = False
) -> list[SubEdit]:
    """A synth-edit ground-truth program (JSON form) as sub-edits over region handles; with
    ``phrases`` the subjects (and a swap's other object) are the references' grounding phrases
    (``imageedit_r1.phrases``), resolved on the current image when the plan runs. A move's "where
    X was" goal stays a handle: it names a place, not an object of the current image."""
    out: list[SubEdit] = []
    handles = dict(handles)
    next_handle = len(handles) + 1
    for step in program:
        action, args = step["action"], dict(step.get("arguments") or {})
        subject = step.get("subject")
        if action == "recolor":
            out.append(SubEdit("recolor", _named(subject, handles, phrases), str(args["colour"])))
        elif action == "remove":
            out.append(SubEdit("remove", _named(subject, handles, phrases), ""))
        elif action == "resize":
            out.append(SubEdit("resize", _named(subject, handles, phrases), str(args["size"])))
        elif action == "replace_shape":
            out.append(SubEdit("replace", _named(subject, handles, phrases), str(args["shape"])))
        elif action == "swap":
            out.append(
                SubEdit(
                    "swap", _named(subject, handles, phrases), _named(args.get("other"), handles, phrases)
                )
            )
        elif action == "move":
            if args.get("region"):
                goal = POSITION_NAMES.get(args["region"], args["region"])
            elif isinstance(args.get("anchor"), Mapping):
                goal = _handle(args["anchor"], handles)
            else:
                raise ConversionError("move to an unnamed place")
            out.append(SubEdit("move", _named(subject, handles, phrases), goal))
        elif action == "add":
            where = POSITION_NAMES.get(str(args.get("region", "")), str(args.get("region", "")))
            if not where:
                raise ConversionError("add at an unnamed place")
            obj = f"{args['size']} {args['colour']} {args['shape']}"
            out.append(SubEdit("add", WHOLE_IMAGE, f"{obj} at {where}"))
            if args.get("id"):
                handles[str(args["id"])] = f"o{next_handle}"
                next_handle += 1
        elif action == "background":
            out.append(SubEdit("background", WHOLE_IMAGE, background_goal(args["background"])))
        else:
            raise ConversionError(f"unknown action {action!r}")
    return out


SET_ACTIONS = frozenset({"recolor", "remove", "resize"})
SET_ORDERS: tuple[str, ...] = ("program", "reading")


def _handle_number(handle: str) -> int | None:
    return int(handle[1:]) if is_handle(handle) else None


def in_reading_order(example: PlanExample) -> PlanExample:
    """An L4 goal plan in the order grounding lists its regions.

    A goal instruction states an end state, so its plan has no order of its own: the generator lists
    the objects in scene order, which the policy cannot see. When every sub-edit is the same
    per-region edit (recolor, remove, resize) with the same literal goal on a different region, the
    sub-edits commute, and this writes them in region-handle order (``o1, o2, ...``, left to right):
    enumerating a set then is one pass over the region list. Any other plan is returned unchanged.
    """
    subedits = list(example.reference)
    numbers = [_handle_number(s.subject) for s in subedits]
    if (
        example.suite != "synth-edit"
        or example.level != "L4"
        or len(subedits) < 2
        or len({s.action for s in subedits}) != 1
        or subedits[0].action not in SET_ACTIONS
        or len({s.goal for s in subedits}) != 1
        or _handle_number(subedits[0].goal) is not None
        or None in numbers
        or len(set(numbers)) != len(numbers)
    ):
        return example
    ordered = tuple(s for _, s in sorted(zip(numbers, subedits, strict=True), key=lambda pair: pair[0]))
    return replace(example, completion=" " + format_plan(ordered), reference=ordered)


def order_sets(examples: Sequence[PlanExample], order: str) -> list[PlanExample]:
    """The examples with goal plans in ``order``: 'program' (as generated) or 'reading'."""
    if order not in SET_ORDERS:
        raise ValueError(f"unknown set order {order!r}; expected one of {', '.join(SET_ORDERS)}")
    return list(examples) if order == "program" else [in_reading_order(e) for e in examples]


def photo_subedits(program: Sequence[Mapping[str, Any]]) -> list[SubEdit]:
    """A photo-ops program ``[{op, args}]`` as whole-image sub-edits (goal = the op's parameter)."""
    out = []
    for step in program:
        args = dict(step.get("args") or {})
        goal = str(next(iter(args.values()))) if args else ""
        out.append(SubEdit(str(step["op"]), WHOLE_IMAGE, goal))
    return out


def reference_subedits(
    sample: Sample, regions: Sequence[Mapping[str, Any]], subjects: str = "handles"
) -> list[SubEdit]:
    """The ground-truth plan of ``sample`` given the regions grounding returned."""
    meta = sample.metadata
    if "source_scene" in meta and "program" in meta:
        scene = meta["source_scene"]
        height, width = sample.source.shape[:2]
        width, height = int(scene.get("width", width)), int(scene.get("height", height))
        handles = match_regions(scene.get("objects", []), regions, width, height)
        return synth_subedits(meta["program"], handles, phrase_subjects(subjects, sample.level))
    if "program" in meta:
        return photo_subedits(meta["program"])
    raise ConversionError("sample carries no ground-truth program")


def build_examples(
    samples: Iterable[Sample],
    observe: Callable[[Sample], tuple[str, list[dict[str, Any]]]],
    suite: str,
) -> tuple[list[PlanExample], list[str]]:
    """Examples for every sample whose program converts; the ids skipped, with reasons."""
    examples, skipped = [], []
    for sample in samples:
        if not isinstance(sample, Sample):
            skipped.append(f"{getattr(sample, 'id', '?')}: invalid sample")
            continue
        prompt, regions = observe(sample)
        try:
            reference = reference_subedits(sample, regions)
        except (ConversionError, KeyError, TypeError) as exc:
            skipped.append(f"{sample.id}: {exc}")
            continue
        examples.append(
            PlanExample(
                prompt, " " + format_plan(reference), sample.id, suite, sample.level, tuple(reference)
            )
        )
    return examples, skipped


def _pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(3, 8)))


@functools.cache
def _world_values() -> frozenset[str]:
    from harness.suites.synth_edit.palette import BACKGROUND_COLOURS, COLOURS, SHAPES, SIZES, TEXTURES
    from harness.suites.synth_edit.referring import ORDINAL_WORDS

    values = {*COLOURS, *SHAPES, *(f"{s}s" for s in SHAPES), *SIZES, *TEXTURES, *ORDINAL_WORDS}
    values |= {word for name in BACKGROUND_COLOURS for word in name.split()}
    return frozenset(values)


@functools.cache
def relation_words() -> frozenset[str]:
    """The world's spatial reference words: sides, relations and superlatives of ``referring``
    (left, right, top, bottom, above, below, largest, leftmost, ...), in their bare forms."""
    from harness.suites.synth_edit.referring import ORDINAL_SIDES, RELATIONS, SUPERLATIVES

    relations = {word for name in RELATIONS for word in name.split("_") if word != "of"}
    return frozenset({*ORDINAL_SIDES, *relations, *SUPERLATIVES})


@functools.cache
def _kept_words(keep_relations: bool) -> frozenset[str]:
    """The words word noise never replaces."""
    return _world_values() | relation_words() if keep_relations else _world_values()


@functools.cache
def size_synonyms() -> dict[str, tuple[str, ...]]:
    """Canonical size class -> the other words the tool layer's size vocabulary reads as it
    (``referring.SIZE_WORDS``: small -> little, tiny; large -> big, huge)."""
    from baselines.tools.classical.referring import SIZE_WORDS

    table: dict[str, list[str]] = {}
    for word, size in SIZE_WORDS.items():
        if word != size:
            table.setdefault(size, []).append(word)
    return {size: tuple(sorted(words)) for size, words in table.items()}


@functools.cache
def cue_words(keep_relations: bool = False) -> tuple[str, ...]:
    """The words of the train phrasing families' action templates, less the words noise keeps.

    Lower case, sorted, placeholders removed. Written by word noise into any instruction, a verb
    that the train wording ties to one action ("place" only ever adds there) stops predicting that
    action, so the policy learns to read the edit from its arguments (a subject, a colour, a
    region, a new shape) and the scene. Only train-family text is read.
    """
    from harness.suites.synth_edit.phrasing import FAMILIES

    keep = _kept_words(keep_relations)
    words = set()
    for family in FAMILIES.values():
        if family.split != "train":
            continue
        for templates in family.actions.values():
            for template in templates:
                for word in re.sub(r"\{[^}]*\}", " ", template).split():
                    bare = word.strip(".,?;:!").lower()
                    if bare.isalpha() and bare not in keep:
                        words.add(bare)
    return tuple(sorted(words))


def add_word_noise(
    prompt: str,
    rate: float,
    rng: random.Random,
    synonyms: float = 0.0,
    keep_relations: bool = False,
    cues: float = 0.0,
) -> str:
    """Replace a fraction ``rate`` of the instruction's words by random letter strings.

    Vocabulary-agnostic robustness noise: attribute values of the world (colours, shapes,
    sizes, ordinals), which the grounded scene can be matched against, are kept; any other word
    may be replaced, so the policy learns to infer the edit from what remains and from the scene
    instead of leaning on one verb it saw in training. With ``synonyms > 0`` a size value is,
    with that probability, written as one of the tool vocabulary's other words for it
    (``size_synonyms``): kept words then also vary, so the policy does not learn that any unseen
    word next to a size or colour can be dropped. With ``keep_relations`` the world's spatial
    reference words (``relation_words``) are kept too, so a noisy prompt still says which object
    is meant ("the one furthest to the right" keeps "right"). With ``cues > 0`` a replaced word is,
    with that probability, one of the train wording's action words (``cue_words``) instead of a
    random string, so those words appear next to every kind of edit.
    """
    if (rate <= 0 and synonyms <= 0) or not prompt.startswith("instruction: "):
        return prompt
    keep = _kept_words(keep_relations)
    others = size_synonyms()
    pool = cue_words(keep_relations) if cues > 0 else ()
    head, sep, rest = prompt.partition("\n")
    noisy = []
    for word in head[len("instruction: ") :].split(" "):
        bare = word.strip(".,?;:!").lower()
        if synonyms > 0 and bare in others and rng.random() < synonyms:
            noisy.append(word.lower().replace(bare, rng.choice(others[bare])))
        elif rng.random() < rate and bare not in keep:  # one draw per word, as without synonyms
            noisy.append(rng.choice(pool) if cues > 0 and rng.random() < cues else _pseudo_word(rng))
        else:
            noisy.append(word)
    return "instruction: " + " ".join(noisy) + sep + rest
