"""Sub-edit subjects as referring phrases that the grounding tool resolves.

With handle subjects the decomposition policy must do the geometry itself: to write ``o4`` for
"the circle second from the left" it has to count circles by their grid cells. With phrase subjects
it rewrites the instruction's referring expression in the grounding tool's own wording
("the second circle from the left") and the grounding agent resolves it on the current image at
execution time, exactly (``ground``, the same resolver the classical pipeline uses). This is the
paper's division of labour: decomposition names the subject, grounding finds it.

``canonical_phrase(ref)`` writes a synth-edit reference (``harness.suites.synth_edit.referring``)
as that wording; the grounding tool's parser reads every phrase it writes back to the same
reference (tested over the generator's references).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.suites.synth_edit.referring import ORDINAL_WORDS

PHRASE_TYPES = frozenset({"attribute", "relation", "superlative", "ordinal", "analogy"})
RELATION_WORDS = {"left_of": "left of", "right_of": "right of", "above": "above", "below": "below"}


class PhraseError(ValueError):
    """A reference this wording cannot express."""


def _noun_phrase(attr: Mapping[str, Any] | None, head: str = "") -> str:
    attr = attr or {}
    words = [head] if head else []
    words += [str(attr[key]) for key in ("size", "colour") if attr.get(key)]
    words.append(str(attr.get("shape") or "object"))
    return " ".join(words)


def canonical_phrase(ref: Mapping[str, Any]) -> str:
    """The grounding tool's wording of ``ref``, e.g. 'the object left of the red circle'."""
    kind = ref.get("type")
    if kind == "attribute":
        return "the " + _noun_phrase(ref)
    if kind == "relation":
        relation = RELATION_WORDS.get(str(ref.get("relation")))
        if relation is None:
            raise PhraseError(f"unknown relation {ref.get('relation')!r}")
        return f"the object {relation} the {_noun_phrase(ref.get('anchor'))}"
    if kind == "superlative":
        return "the " + _noun_phrase(ref.get("filter"), str(ref["property"]))
    if kind == "ordinal":
        index = int(ref["index"])
        if not 1 <= index <= len(ORDINAL_WORDS):
            raise PhraseError(f"ordinal {index} out of range")
        return f"the {_noun_phrase(ref.get('filter'), ORDINAL_WORDS[index - 1])} from the {ref['from']}"
    if kind == "analogy":
        return f"the object with the same {ref['attribute']} as the {_noun_phrase(ref.get('anchor'))}"
    raise PhraseError(f"no phrase for a {kind!r} reference")


def is_handle(text: str) -> bool:
    """A policy region handle (o1, o2, ...)."""
    return text[:1] == "o" and text[1:].isdigit()


def is_phrase(text: str) -> bool:
    """A referring phrase in the grounding tool's wording (every one starts with 'the ')."""
    return text.startswith("the ")
