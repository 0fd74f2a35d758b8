"""The policy's output: an ordered list of sub-edits ``(action, subject, goal)`` as one JSON array.

This is the decomposition of the ImageEdit-R1 paper (Action, Subject, Goal tuples), made
executable: ``subject`` is a region handle the grounding tool returned (``r3``) or ``image`` for
whole-image edits, and ``goal`` is the one value the action needs (a colour, a position, a size, an
object, another handle, a background, an op parameter). ``parse_plan`` never raises on policy
text: it returns a ``PlanParse`` whose ``error`` says why the text is not a plan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MAX_SUBEDITS = 8
WHOLE_IMAGE = "image"


@dataclass(frozen=True)
class SubEdit:
    action: str
    subject: str
    goal: str

    def to_dict(self) -> dict[str, str]:
        return {"action": self.action, "subject": self.subject, "goal": self.goal}


@dataclass(frozen=True)
class PlanParse:
    """``subedits`` in execution order; ``error`` is empty when the text was a well-formed plan."""

    subedits: tuple[SubEdit, ...] = ()
    error: str = ""
    raw: str = ""
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.error


def format_plan(subedits: Sequence[SubEdit]) -> str:
    """The canonical text of a plan (what SFT targets look like)."""
    return json.dumps([s.to_dict() for s in subedits], separators=(",", ":"))


def parse_plan(text: str) -> PlanParse:
    """Read the first JSON array in ``text`` as a plan; never raises."""
    raw = text
    start = text.find("[")
    if start < 0:
        return PlanParse(error="no JSON array in the policy output", raw=raw)
    try:
        data, _ = json.JSONDecoder().raw_decode(text[start:])
    except json.JSONDecodeError as exc:
        return PlanParse(error=f"plan is not valid JSON: {exc.msg} at character {exc.pos}", raw=raw)
    if not isinstance(data, list):
        return PlanParse(error="a plan is a JSON array of sub-edits", raw=raw)
    if not data:
        return PlanParse(error="the plan has no sub-edits", raw=raw)
    if len(data) > MAX_SUBEDITS:
        return PlanParse(error=f"the plan has {len(data)} sub-edits (at most {MAX_SUBEDITS})", raw=raw)
    subedits, problems = [], []
    for index, item in enumerate(data):
        problem = _item_problem(item)
        if problem:
            problems.append(f"sub-edit {index + 1}: {problem}")
            continue
        subedits.append(SubEdit(str(item["action"]), str(item["subject"]), str(item["goal"])))
    if problems:
        return PlanParse(tuple(subedits), error="; ".join(problems), raw=raw, problems=tuple(problems))
    return PlanParse(tuple(subedits), raw=raw)


def _item_problem(item: Any) -> str:
    if not isinstance(item, Mapping):
        return "not a JSON object"
    missing = [key for key in ("action", "subject", "goal") if key not in item]
    if missing:
        return f"missing {', '.join(missing)}"
    bad = [key for key in ("action", "subject", "goal") if not isinstance(item[key], (str, int, float))]
    if bad:
        return f"{', '.join(bad)} must be text"
    return ""


def decomposition_f1(predicted: Sequence[SubEdit], reference: Sequence[SubEdit]) -> float:
    """Mean over action, subject and goal of the multiset F1 between predicted and reference values
    (the paper's decomposition reward). 1.0 when both are empty."""
    if not predicted and not reference:
        return 1.0
    scores = []
    for key in ("action", "subject", "goal"):
        pred = [getattr(s, key) for s in predicted]
        ref = [getattr(s, key) for s in reference]
        scores.append(_multiset_f1(pred, ref))
    return sum(scores) / len(scores)


def _multiset_f1(pred: list[str], ref: list[str]) -> float:
    if not pred or not ref:
        return 0.0
    remaining = list(ref)
    hits = 0
    for value in pred:
        if value in remaining:
            remaining.remove(value)
            hits += 1
    if hits == 0:
        return 0.0
    precision, recall = hits / len(pred), hits / len(ref)
    return 2 * precision * recall / (precision + recall)
