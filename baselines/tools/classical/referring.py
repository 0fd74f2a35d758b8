"""Rule-based reading of referring expressions over the flat-shape world's closed vocabulary.

``parse_reference(words)`` turns "the red circle", "the shape left of the blue square", "the
second star from the left", "the largest shape", "every shape that is not a star" into the
structured refs of ``harness.suites.synth_edit.referring`` (plus a ``quantified`` type for
"every/all/each ..."). The vocabulary is the world's own (palette colours, shapes, size classes)
and the train phrasing families, with a few general English synonyms (``SIZE_WORDS``,
``VERTICAL_WORDS``); it was not written against held-out phrasings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.suites.synth_edit.palette import COLOURS, SHAPES
from harness.suites.synth_edit.referring import ORDINAL_WORDS

SIZE_WORDS: dict[str, str] = {
    "small": "small",
    "medium": "medium",
    "large": "large",
    "big": "large",
    "little": "small",
    "tiny": "small",
    "huge": "large",
}
SUPERLATIVE_WORDS: dict[str, str] = {
    "largest": "largest",
    "biggest": "largest",
    "smallest": "smallest",
    "tiniest": "smallest",
    "leftmost": "leftmost",
    "rightmost": "rightmost",
    "topmost": "topmost",
    "bottommost": "bottommost",
}
GENERIC_NOUNS = frozenset({"shape", "object", "one", "thing", "item"})
QUANTIFIERS = frozenset({"every", "all", "each", "everything", "everyone"})
VERTICAL_WORDS: dict[str, str] = {"top": "top", "upper": "top", "bottom": "bottom", "lower": "bottom"}
HORIZONTAL_WORDS = frozenset({"left", "right"})
MIDDLE_WORDS = frozenset({"middle", "centre", "center"})
SIDES = ("left", "right", "top", "bottom")
_PLURALS = {f"{noun}s": noun for noun in (*SHAPES, *GENERIC_NOUNS)} | {"everything": "everything"}


def words_of(text: str) -> list[str]:
    """Lowercase words; hyphens split words, plurals of shape nouns become singular, 'gray' is 'grey'."""
    text = text.lower().replace("-", " ").replace("colour", "colour").replace("color", "colour")
    tokens = re.findall(r"[a-z]+|\d+(?:\.\d+)?", text)
    return [_PLURALS.get(t, "grey" if t == "gray" else t) for t in tokens]


@dataclass
class Reference:
    """A parsed noun phrase: the structured ref, the words it spans and, for add/replace, a new
    object's attributes."""

    ref: dict[str, Any]
    start: int
    end: int
    words: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(self.words)

    @property
    def quantified(self) -> bool:
        return self.ref.get("type") == "quantified"


def _attribute(shape: str | None, colour: str | None, size: str | None) -> dict[str, Any]:
    return {"type": "attribute", "shape": shape, "colour": colour, "size": size}


def _filter(attr: dict[str, Any]) -> dict[str, Any] | None:
    return attr if any(attr.get(k) for k in ("shape", "colour", "size")) else None


def parse_reference(words: list[str], start: int = 0) -> Reference | None:
    """The noun phrase starting at ``words[start]`` ("the ...", "every ..."), or None."""
    i = start
    if i >= len(words):
        return None
    quantified = words[i] in QUANTIFIERS
    if words[i] not in ("the", *QUANTIFIERS):
        return None
    head_is_everything = words[i] == "everything"
    i += 1
    if quantified and not head_is_everything and i < len(words) and words[i] == "the":
        i += 1
    shape = colour = size = superlative = None
    ordinal = 0
    if not head_is_everything:
        while i < len(words):
            word = words[i]
            if word in SIZE_WORDS and size is None:
                size = SIZE_WORDS[word]
            elif word in COLOURS and colour is None:
                colour = word
            elif word in SUPERLATIVE_WORDS and superlative is None:
                superlative = SUPERLATIVE_WORDS[word]
            elif word in ORDINAL_WORDS and not ordinal:
                ordinal = ORDINAL_WORDS.index(word) + 1
            elif word == "other" or (word == "sized" and size is not None):  # "medium-sized"
                pass
            else:
                break
            i += 1
        if i >= len(words) or (words[i] not in SHAPES and words[i] not in GENERIC_NOUNS):
            return None
        shape = words[i] if words[i] in SHAPES else None
        i += 1
    attr = _attribute(shape, colour, size)
    ref: dict[str, Any]
    if quantified:
        ref, i = _quantified(words, i, attr)
    elif superlative:
        ref = {"type": "superlative", "property": superlative, "filter": _filter(attr)}
    elif ordinal:
        side, i = _from_side(words, i)
        if side is None:
            return None
        ref = {"type": "ordinal", "index": ordinal, "from": side, "filter": _filter(attr)}
    else:
        ref, i = _post_modifiers(words, i, attr)
    return Reference(ref, start, i, words[start:i])


def _from_side(words: list[str], i: int) -> tuple[str | None, int]:
    if words[i : i + 2] == ["from", "the"] and i + 2 < len(words) and words[i + 2] in SIDES:
        return words[i + 2], i + 3
    return None, i


def _post_modifiers(words: list[str], i: int, attr: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Relations ("left of X", "above X") and analogies ("with the same colour as X")."""
    j = i
    if words[j : j + 2] == ["to", "the"] and words[j + 2 : j + 3] in (["left"], ["right"]):
        j += 2
    relation = None
    if words[j : j + 2] in (["left", "of"], ["right", "of"]):
        relation, j = f"{words[j]}_of", j + 2
    elif words[j : j + 1] in (["above"], ["below"]):
        relation, j = words[j], j + 1
    if relation:
        anchor = parse_reference(words, j)
        if anchor is not None and anchor.ref["type"] == "attribute":
            return {"type": "relation", "relation": relation, "anchor": anchor.ref}, anchor.end
    if words[i : i + 4] in (["with", "the", "same", "colour"], ["with", "the", "same", "shape"]):
        if words[i + 4 : i + 5] == ["as"]:
            anchor = parse_reference(words, i + 5)
            if anchor is not None and anchor.ref["type"] == "attribute":
                return {"type": "analogy", "attribute": words[i + 3], "anchor": anchor.ref}, anchor.end
    return attr, i


def _quantified(words: list[str], i: int, attr: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """'every shape', 'all the red shapes', '... that is not a star', '... except the circles',
    '... in the left half (of the picture)'."""
    ref: dict[str, Any] = {
        "type": "quantified",
        "filter": _filter(attr),
        "not": None,
        "except": None,
        "half": None,
    }
    if words[i : i + 4] in (["that", "is", "not", "a"], ["that", "is", "not", "an"]) and i + 4 < len(words):
        if words[i + 4] in SHAPES:
            ref["not"] = _attribute(words[i + 4], None, None)
            return ref, i + 5
    if words[i : i + 1] in (["except"], ["but"]):
        excluded = parse_reference(words, i + 1)
        if excluded is not None:
            ref["except"] = excluded.ref
            return ref, excluded.end
    if words[i : i + 2] in (["in", "the"], ["on", "the"]) and words[i + 2 : i + 3] and words[i + 2] in SIDES:
        if words[i + 3 : i + 4] in (["half"], ["side"]):
            ref["half"] = words[i + 2]
            end = i + 4
            if words[end : end + 3] in (["of", "the", "picture"], ["of", "the", "image"]):
                end += 3
            return ref, end
    return ref, i


def find_references(words: list[str]) -> list[Reference]:
    """Every non-overlapping noun phrase that denotes scene objects, left to right."""
    found, i = [], 0
    while i < len(words):
        reference = parse_reference(words, i)
        if reference is None:
            i += 1
            continue
        found.append(reference)
        i = reference.end
    return found


def region_from_words(words: list[str]) -> str | None:
    """A 3x3 cell from position words: 'the top left corner' -> top-left, 'the middle of the left
    side' -> left, 'the centre' -> centre; None when there is no position word."""
    vertical = next((VERTICAL_WORDS[w] for w in words if w in VERTICAL_WORDS), None)
    horizontal = next((w for w in words if w in HORIZONTAL_WORDS), None)
    middle = any(w in MIDDLE_WORDS for w in words)
    if vertical and horizontal:
        return f"{vertical}-{horizontal}"
    if vertical or horizontal:
        return vertical or horizontal
    return "centre" if middle else None
