"""The rule-based planner for flat-shape scenes: instruction text -> ordered ``SubEdit``s.

Each sentence is one sub-edit. Its action is read from structure, not from verbs: the noun
phrases that denote objects (``referring.find_references``), a new object ("a small red star"),
left-over goal words (a colour, a size class, a position, a background) and a few train-template
cues ("where X was", "the same colour as X", "keep only"). Written against the train phrasing
families; its accuracy per level on held-out wording is reported in docs/TOOLS.md.

``read_instruction`` also says how completely the grammar read the text: per sentence, the
elements it found (object phrases, a new object, goal words) that the sub-edit it chose does not
use. A reading with none left over and no sentence skipped is *complete*; one with leftovers
chose among readings (two object phrases but no swap, a size word beside a move), so parts of the
sentence were read as something or not at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from baselines.tools.classical.referring import (
    HORIZONTAL_WORDS,
    MIDDLE_WORDS,
    SIZE_WORDS,
    VERTICAL_WORDS,
    Reference,
    find_references,
    region_from_words,
    words_of,
)
from baselines.tools.plans import SubEdit
from harness.suites.synth_edit.palette import (
    BACKGROUND_COLOURS,
    COLOURS,
    GRADIENT_DIRECTIONS,
    SHAPES,
    TEXTURES,
)

_POSITION_WORDS = frozenset(VERTICAL_WORDS) | HORIZONTAL_WORDS | MIDDLE_WORDS
_ARTICLES = frozenset({"a", "an", "one", "another"})
_FILLER = frozenset({"more", "extra", "new", "additional"})


def split_sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?;])\s+", text.strip())
    return [part for part in (p.strip() for p in parts) if re.search(r"[a-zA-Z]", part)]


@dataclass(frozen=True)
class Reading:
    """The grammar's reading of an instruction: its sub-edits, how many sentences it has, and per
    sentence what it found but did not use (``'unread'`` for a sentence it could not read)."""

    plan: tuple[SubEdit, ...]
    sentences: int
    unused: tuple[tuple[str, ...], ...]

    @property
    def complete(self) -> bool:
        """Every sentence read, and nothing found in it left out of its sub-edit."""
        return self.sentences > 0 and not any(self.unused)


def plan_instruction(text: str) -> list[SubEdit]:
    """Sub-edits in instruction order; a sentence the grammar cannot read is skipped."""
    return list(read_instruction(text).plan)


def read_instruction(text: str) -> Reading:
    """The sub-edits of ``text`` with, per sentence, the elements the grammar did not use."""
    plan, unused = [], []
    sentences = split_sentences(text)
    for sentence in sentences:
        subedit, left = read_sentence(sentence)
        if subedit is not None:
            plan.append(subedit)
        unused.append(left)
    return Reading(tuple(plan), len(sentences), tuple(unused))


def read_sentence(sentence: str) -> tuple[SubEdit | None, tuple[str, ...]]:
    """One sentence's sub-edit (None: unread) and the elements found that it does not use."""
    words = words_of(sentence)
    background = _background(words)
    if background:
        return SubEdit("background", "background", background), ()
    references = find_references(words)
    used = set()
    for reference in references:
        used.update(range(reference.start, reference.end))
    new_object = _new_object(words, used)
    goal_of = _attribute_goal(words, references)
    where_was = _where_was(words, references)
    if where_was is not None:
        references = [r for r in references if r is not where_was]
    subjects = [r for r in references if r is not goal_of]
    if not subjects and goal_of is not None:  # "change the colour of X to blue": X is the subject
        subjects, goal_of = [goal_of], None
    leftover = [w for index, w in enumerate(words) if index not in used]
    positions = [i for i, w in enumerate(words) if i not in used and w in _POSITION_WORDS]
    found = _Found(
        subjects=len(subjects),
        new_object=new_object is not None and bool(new_object[0]),
        goal_of=goal_of is not None,
        where_was=where_was is not None,
        colours=sum(w in COLOURS for w in leftover),
        sizes=sum(w in SIZE_WORDS for w in leftover),
        positions=positions,
        only="only" in words,
    )
    subedit = _choose(words, subjects, new_object, goal_of, where_was, leftover)
    return subedit, (found.unused_by(subedit) if subedit is not None else ("unread",))


@dataclass(frozen=True)
class _Found:
    """What the grammar found in one sentence, before choosing a sub-edit."""

    subjects: int
    new_object: bool
    goal_of: bool
    where_was: bool
    colours: int
    sizes: int
    positions: list[int]  # word indices of position words outside object phrases
    only: bool  # the cue of the keep-only rule

    def unused_by(self, subedit: SubEdit) -> tuple[str, ...]:
        """The found elements ``subedit`` leaves out; a position spread over more than a short
        phrase ("the object nearest the bottom ... in the upper left") counts as two."""
        action, left = subedit.action, []
        if self.subjects > (2 if action == "swap" else 1):
            left.append("object phrase")
        if self.new_object and action not in ("add", "replace"):
            left.append("new object")
        if self.goal_of and action not in ("recolor", "resize", "add"):
            left.append("attribute of another object")
        if self.where_was and action != "move":
            left.append("former place")
        if self.positions:
            if action not in ("move", "add"):
                left.append("position")
            elif self.positions[-1] - self.positions[0] >= _POSITION_SPAN:
                left.append("second position")
        if self.colours > (1 if action == "recolor" else 0) and action != "add":
            left.append("colour")
        if self.sizes > (1 if action == "resize" else 0) and action != "add":
            left.append("size")
        if self.only and not subedit.subject.startswith(_KEEP_ONLY):
            left.append("only")
        return tuple(left)


_KEEP_ONLY = "every shape except "
# position words further apart than this belong to two phrases ("upper left corner" spans 3)
_POSITION_SPAN = 4


def _choose(
    words: list[str],
    subjects: list[Reference],
    new_object: tuple[str | None, str | None, str | None] | None,
    goal_of: Reference | None,
    where_was: Reference | None,
    leftover: list[str],
) -> SubEdit | None:
    colour = next((w for w in leftover if w in COLOURS), None)
    size = next((SIZE_WORDS[w] for w in leftover if w in SIZE_WORDS), None)
    region = region_from_words([w for w in leftover if w in _POSITION_WORDS])

    if new_object is not None and new_object[0] and region and not subjects:
        shape, new_colour, new_size = new_object
        colour_word = new_colour or (f"colour of {goal_of.text}" if goal_of else "")
        description = " ".join(w for w in (new_size, new_colour, shape) if w)
        if not new_colour and goal_of:
            return SubEdit("add", description, f"{region}; {colour_word}")
        return SubEdit("add", description, region)
    if not subjects:
        return None
    subject = subjects[0]
    if "only" in words and not subject.quantified and "keep" in words:
        return SubEdit("remove", f"{_KEEP_ONLY}{subject.text}", "")
    if new_object is not None and new_object[0] and not new_object[1] and not region:
        return SubEdit("replace", subject.text, new_object[0])
    if where_was is not None:
        return SubEdit("move", subject.text, f"where {where_was.text} was")
    if goal_of is not None:
        attribute = "size" if _mentions_size_goal(words, goal_of) else "colour"
        return SubEdit(
            "resize" if attribute == "size" else "recolor", subject.text, f"{attribute} of {goal_of.text}"
        )
    if len(subjects) >= 2:
        return SubEdit("swap", subject.text, subjects[1].text)
    if region:
        return SubEdit("move", subject.text, region)
    if colour:
        return SubEdit("recolor", subject.text, colour)
    if size:
        return SubEdit("resize", subject.text, size)
    return SubEdit("remove", subject.text, "")


def _background(words: list[str]) -> str | None:
    text = " ".join(words)
    for texture in TEXTURES:
        if f"{texture} texture" in text:
            return f"{texture} texture"
    names = sorted(BACKGROUND_COLOURS, key=len, reverse=True)
    pattern = "|".join(re.escape(n) for n in names)
    gradient = re.search(rf"({'|'.join(GRADIENT_DIRECTIONS)}) gradient from ({pattern}) to ({pattern})", text)
    if gradient:
        return f"{gradient.group(1)} gradient from {gradient.group(2)} to {gradient.group(3)}"
    for name in names:
        if re.search(rf"\b{re.escape(name)}\b", text):
            return f"plain {name}"
    return None


def _new_object(words: list[str], used: set[int]) -> tuple[str | None, str | None, str | None] | None:
    """(shape, colour, size) of an indefinite noun phrase such as 'a small red star'."""
    for index, word in enumerate(words):
        if word not in _ARTICLES or index in used:
            continue
        j = index + 1
        while j < len(words) and words[j] in _FILLER:
            j += 1
        size = colour = None
        while j < len(words) and (words[j] in SIZE_WORDS or words[j] in COLOURS or words[j] == "sized"):
            if words[j] in SIZE_WORDS:
                size = SIZE_WORDS[words[j]]
            elif words[j] in COLOURS:
                colour = words[j]
            j += 1
        if j < len(words) and words[j] in SHAPES:
            return words[j], colour, size
    return None


def _attribute_goal(words: list[str], references: list[Reference]) -> Reference | None:
    """The object in 'the same colour/size as X' or 'the colour/size of X'."""
    for reference in references:
        before = words[max(reference.start - 4, 0) : reference.start]
        if before[-4:] in (["same", "colour", "as"], ["same", "size", "as"]) or before[-3:] in (
            ["same", "colour", "as"],
            ["same", "size", "as"],
        ):
            return reference
        if before[-2:] in (["colour", "of"], ["size", "of"]) and reference.start >= 2:
            return reference
    return None


def _mentions_size_goal(words: list[str], goal_of: Reference) -> bool:
    return "size" in words[max(goal_of.start - 3, 0) : goal_of.start]


def _where_was(words: list[str], references: list[Reference]) -> Reference | None:
    for reference in references:
        if (
            reference.start >= 1
            and words[reference.start - 1] == "where"
            and words[reference.end : reference.end + 1] == ["was"]
        ):
            return reference
    return None
