"""Instruction wording: phrasing families split into train and held-out.

A family fixes the sentence templates of every action, of multi-step sequencing and of goals, and
the vocabulary of referring expressions (noun, spatial words, region names). The ``train`` split
draws only from train families, ``test`` only from held-out families, so a learned editor is
tested on wording it never saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.suites.synth_edit.referring import ORDINAL_WORDS
from harness.suites.synth_edit.scene import Background


@dataclass(frozen=True)
class Vocabulary:
    noun: str
    relations: Mapping[str, str]  # relation -> words before the anchor
    superlatives: Mapping[str, str]  # property -> "the ... {noun}" pattern
    ordinal: str  # pattern with {nth}, {noun}, {side}
    analogy: Mapping[str, str]  # attribute -> pattern with {noun}, {anchor}
    regions: Mapping[str, str]
    move_to_region: str  # pattern with {region}
    add_at_region: str
    where_was: str  # pattern with {anchor}
    same_colour_as: str  # pattern with {anchor}
    sizes: Mapping[str, str]
    plain: str  # pattern with {colour}


@dataclass(frozen=True)
class PhrasingFamily:
    name: str
    split: str  # "train" or "test"
    vocabulary: Vocabulary
    actions: Mapping[str, Sequence[str]]
    sequence: Sequence[str]  # prefixes for step 1, middle steps, last step
    goals: Mapping[str, str]


_VOCAB_TRAIN = Vocabulary(
    noun="shape",
    relations={"left_of": "left of", "right_of": "right of", "above": "above", "below": "below"},
    superlatives={
        "largest": "the largest {filter}",
        "smallest": "the smallest {filter}",
        "leftmost": "the leftmost {filter}",
        "rightmost": "the rightmost {filter}",
        "topmost": "the topmost {filter}",
        "bottommost": "the bottommost {filter}",
    },
    ordinal="the {nth} {filter} from the {side}",
    analogy={
        "colour": "the {noun} with the same colour as {anchor}",
        "shape": "the {noun} of the same type as {anchor}",
    },
    regions={
        "top-left": "the top left corner",
        "top": "the top middle",
        "top-right": "the top right corner",
        "left": "the middle of the left side",
        "centre": "the centre",
        "right": "the middle of the right side",
        "bottom-left": "the bottom left corner",
        "bottom": "the bottom middle",
        "bottom-right": "the bottom right corner",
    },
    move_to_region="to {region}",
    add_at_region="in {region}",
    where_was="to where {anchor} was",
    same_colour_as="the same colour as {anchor}",
    sizes={"small": "small", "medium": "medium", "large": "large"},
    plain="plain {colour}",
)

_VOCAB_HELD_OUT = Vocabulary(
    noun="object",
    relations={
        "left_of": "to the left of",
        "right_of": "to the right of",
        "above": "sitting above",
        "below": "sitting below",
    },
    superlatives={
        "largest": "the biggest {filter}",
        "smallest": "the tiniest {filter}",
        "leftmost": "the {filter} furthest to the left",
        "rightmost": "the {filter} furthest to the right",
        "topmost": "the {filter} nearest the top",
        "bottommost": "the {filter} nearest the bottom",
    },
    ordinal="the {filter} {nth} from the {side}",
    analogy={
        "colour": "the {noun} that matches the colour of {anchor}",
        "shape": "the other {noun} shaped like {anchor}",
    },
    regions={
        "top-left": "the upper left corner",
        "top": "the upper middle",
        "top-right": "the upper right corner",
        "left": "the left-hand middle",
        "centre": "the middle of the picture",
        "right": "the right-hand middle",
        "bottom-left": "the lower left corner",
        "bottom": "the lower middle",
        "bottom-right": "the lower right corner",
    },
    move_to_region="in {region}",
    add_at_region="over in {region}",
    where_was="in the spot {anchor} used to occupy",
    same_colour_as="whatever colour {anchor} has",
    sizes={"small": "little", "medium": "medium-sized", "large": "big"},
    plain="a flat {colour}",
)

FAMILIES: dict[str, PhrasingFamily] = {
    "imperative": PhrasingFamily(
        name="imperative",
        split="train",
        vocabulary=_VOCAB_TRAIN,
        actions={
            "recolor": ("Make {subj} {colour}.", "Colour {subj} {colour}.", "Paint {subj} {colour}."),
            "remove": ("Remove {subj}.", "Delete {subj}."),
            "add": ("Add a {size} {colour} {shape} {where}.", "Draw a {size} {colour} {shape} {where}."),
            "move": ("Move {subj} {where}.", "Shift {subj} {where}."),
            "resize": ("Make {subj} {size}.", "Resize {subj} to {size}."),
            "replace_shape": (
                "Turn {subj} into a {shape}.",
                "Replace {subj} with a {shape} of the same colour and size.",
            ),
            "swap": ("Swap {subj} and {other}.", "Swap the positions of {subj} and {other}."),
            "background": ("Change the background to {bg}.", "Make the background {bg}."),
        },
        sequence=("First, ", "Then ", "Finally, "),
        goals={
            "recolor_all_like_largest": "Make every shape the colour of the biggest one.",
            "keep_only_shape": "Remove every shape that is not a {shape}.",
            "remove_colour": "Remove all the {colour} shapes.",
            "recolor_shape": "Make every {shape} {colour}.",
            "shrink_all_to_smallest": "Make every shape the same size as the smallest one.",
            "keep_only_largest": "Keep only the largest shape and remove the rest.",
            "recolor_half": "Make every shape in the {half} half of the picture {colour}.",
        },
    ),
    "request": PhrasingFamily(
        name="request",
        split="train",
        vocabulary=_VOCAB_TRAIN,
        actions={
            "recolor": (
                "Please change the colour of {subj} to {colour}.",
                "Could you recolour {subj} {colour}?",
            ),
            "remove": ("Please take out {subj}.", "Could you get rid of {subj}?"),
            "add": (
                "Please place a {size} {colour} {shape} {where}.",
                "Could you add a {size} {colour} {shape} {where}?",
            ),
            "move": ("Please move {subj} {where}.", "Could you shift {subj} {where}?"),
            "resize": ("Please resize {subj} so it is {size}.", "Could you make {subj} {size}?"),
            "replace_shape": (
                "Please change {subj} into a {shape}.",
                "Could you reshape {subj} into a {shape}?",
            ),
            "swap": (
                "Please exchange the places of {subj} and {other}.",
                "Could you swap {subj} with {other}?",
            ),
            "background": (
                "Please replace the background with {bg}.",
                "Could you set the background to {bg}?",
            ),
        },
        sequence=("", "After that, ", "Lastly, "),
        goals={
            "recolor_all_like_largest": "Please give every shape the colour of the largest shape.",
            "keep_only_shape": "Please delete all shapes except the {shape}s.",
            "remove_colour": "Please remove every {colour} shape.",
            "recolor_shape": "Please colour all the {shape}s {colour}.",
            "shrink_all_to_smallest": "Please resize every shape to the size of the smallest shape.",
            "keep_only_largest": "Please remove everything except the largest shape.",
            "recolor_half": "Please colour every shape on the {half} half {colour}.",
        },
    ),
    "desire": PhrasingFamily(
        name="desire",
        split="test",
        vocabulary=_VOCAB_HELD_OUT,
        actions={
            "recolor": ("I want {subj} to be {colour}.", "I'd like {subj} done in {colour}."),
            "remove": ("I want {subj} gone.", "I'd like {subj} erased from the picture."),
            "add": (
                "I'd like one more {size} {colour} {shape} {where}.",
                "I want an extra {size} {colour} {shape} {where}.",
            ),
            "move": ("I'd like {subj} to sit {where}.", "I want {subj} placed {where}."),
            "resize": ("I want {subj} to become {size}.", "I'd like {subj} rescaled to {size}."),
            "replace_shape": (
                "I'd like {subj} to become a {shape}.",
                "I want a {shape} in place of {subj}, same colour and size.",
            ),
            "swap": (
                "I'd like {subj} and {other} to trade places.",
                "I want {subj} where {other} is, and vice versa.",
            ),
            "background": ("I want {bg} behind everything.", "I'd like the backdrop to be {bg}."),
        },
        sequence=("To begin, ", "Next, ", "Lastly, "),
        goals={
            "recolor_all_like_largest": "I want every object to share the colour of the biggest object.",
            "keep_only_shape": "I only want the {shape}s to stay; everything else should go.",
            "remove_colour": "I want no {colour} objects left.",
            "recolor_shape": "I'd like each {shape} to be {colour}.",
            "shrink_all_to_smallest": "I want all objects as small as the tiniest one.",
            "keep_only_largest": "I'd like just the biggest object to remain.",
            "recolor_half": "I want each object on the {half} side to be {colour}.",
        },
    ),
    "outcome": PhrasingFamily(
        name="outcome",
        split="test",
        vocabulary=_VOCAB_HELD_OUT,
        actions={
            "recolor": ("{Subj} should end up {colour}.", "The result should show {subj} in {colour}."),
            "remove": ("{Subj} should no longer be there.", "The result should not contain {subj}."),
            "add": (
                "There should also be a {size} {colour} {shape} {where}.",
                "The result needs a {size} {colour} {shape} {where}.",
            ),
            "move": ("{Subj} should end up {where}.", "The result should have {subj} sitting {where}."),
            "resize": ("{Subj} should end up {size}.", "The result should show {subj} made {size}."),
            "replace_shape": (
                "{Subj} should turn into a {shape}.",
                "The result should show a {shape} instead of {subj}.",
            ),
            "swap": (
                "{Subj} and {other} should switch spots.",
                "The result should have {subj} and {other} exchanged.",
            ),
            "background": (
                "The backdrop should become {bg}.",
                "The result should have {bg} as its backdrop.",
            ),
        },
        sequence=("Step 1: ", "Step {n}: ", "Step {n}: "),
        goals={
            "recolor_all_like_largest": "Every object should end up the colour of the biggest object.",
            "keep_only_shape": "Only the {shape}s should be left at the end.",
            "remove_colour": "No {colour} object should be left at the end.",
            "recolor_shape": "Each {shape} should end up {colour}.",
            "shrink_all_to_smallest": "Every object should end up as small as the tiniest one.",
            "keep_only_largest": "Only the biggest object should be left at the end.",
            "recolor_half": "Each object on the {half} side should end up {colour}.",
        },
    ),
}

TRAIN_FAMILIES: tuple[str, ...] = tuple(name for name, fam in FAMILIES.items() if fam.split == "train")
HELD_OUT_FAMILIES: tuple[str, ...] = tuple(name for name, fam in FAMILIES.items() if fam.split == "test")


def families_for(split: str) -> tuple[str, ...]:
    return TRAIN_FAMILIES if split == "train" else HELD_OUT_FAMILIES


def _attribute_words(ref: Mapping[str, Any] | None, vocab: Vocabulary) -> str:
    ref = ref or {}
    words = [
        vocab.sizes[ref["size"]] if ref.get("size") else "",
        ref.get("colour") or "",
        ref.get("shape") or "",
    ]
    if not ref.get("shape"):
        words[2] = vocab.noun
    return " ".join(word for word in words if word)


def ref_text(ref: Mapping[str, Any], family: str) -> str:
    """Words for a structured referring expression, in ``family``'s vocabulary."""
    vocab = FAMILIES[family].vocabulary
    kind = ref["type"]
    if kind == "attribute":
        return f"the {_attribute_words(ref, vocab)}"
    if kind == "relation":
        anchor = ref_text(ref["anchor"], family)
        return f"the {vocab.noun} {vocab.relations[ref['relation']]} {anchor}"
    if kind == "analogy":
        return vocab.analogy[ref["attribute"]].format(noun=vocab.noun, anchor=ref_text(ref["anchor"], family))
    filt = _attribute_words(ref.get("filter"), vocab)
    if kind == "superlative":
        return vocab.superlatives[ref["property"]].format(filter=filt)
    if kind == "ordinal":
        nth = ORDINAL_WORDS[int(ref["index"]) - 1]
        return vocab.ordinal.format(nth=nth, filter=filt, side=ref["from"])
    raise ValueError(f"unknown reference type {kind!r}")


def background_text(background: Background, family: str) -> str:
    vocab = FAMILIES[family].vocabulary
    if background.kind == "plain":
        return vocab.plain.format(colour=background.colour)
    return background.describe()


def region_text(region: str, family: str, *, adding: bool) -> str:
    vocab = FAMILIES[family].vocabulary
    pattern = vocab.add_at_region if adding else vocab.move_to_region
    return pattern.format(region=vocab.regions[region])


def action_sentence(family: str, action: str, template_index: int, **slots: str) -> str:
    templates = FAMILIES[family].actions[action]
    template = templates[template_index % len(templates)]
    if "subj" in slots:
        slots["Subj"] = slots["subj"][:1].upper() + slots["subj"][1:]
    return template.format(**slots)


def sequence_text(family: str, sentences: Sequence[str]) -> str:
    """Ordered steps joined with the family's sequencing words."""
    first, middle, last = FAMILIES[family].sequence
    parts = []
    for index, sentence in enumerate(sentences):
        prefix = first if index == 0 else last if index == len(sentences) - 1 else middle
        prefix = prefix.format(n=index + 1)
        keep_case = not prefix or prefix.endswith(": ") or sentence.split(" ", 1)[0] in ("I", "I'd")
        parts.append(prefix + (sentence if keep_case else sentence[:1].lower() + sentence[1:]))
    return " ".join(parts)


def goal_sentence(family: str, goal: str, **slots: str) -> str:
    return FAMILIES[family].goals[goal].format(**slots)
