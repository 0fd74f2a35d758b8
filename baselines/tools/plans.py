"""Plans: ordered sub-edits ``(action, subject, goal)``, the output of every planner.

The action vocabulary is shared by the rule-based planner, LLM planners and the pipelines:
object edits (``recolor remove add move resize replace swap background``) and photo operations
(``global_adjust`` with the op name as subject and its parameters as a JSON goal). A subject is a
referring expression ("the red circle", "every shape that is not a star"); a goal is the target
value ("blue", "top-left", "where the star was", "the colour of the largest shape").
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

OBJECT_ACTIONS: tuple[str, ...] = (
    "recolor",
    "remove",
    "add",
    "move",
    "resize",
    "replace",
    "swap",
    "background",
)
PLAN_ACTIONS: tuple[str, ...] = (*OBJECT_ACTIONS, "global_adjust", "instruct_edit")


@dataclass(frozen=True)
class SubEdit:
    action: str
    subject: str
    goal: str = ""

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


class PlanParseError(ValueError):
    """Planner output that is not a list of {action, subject, goal} objects."""


def plan_to_json(subedits: Sequence[SubEdit]) -> str:
    return json.dumps([s.to_dict() for s in subedits])


def parse_plan(text: str) -> list[SubEdit]:
    """Read a planner's answer: a JSON list of sub-edits, or an object with a ``subedits`` list.
    Text around the JSON (a model's preamble, a code fence) is ignored."""
    data = _first_json(text)
    if isinstance(data, Mapping):
        data = data.get("subedits", data.get("plan"))
    if not isinstance(data, list) or not data:
        raise PlanParseError("expected a non-empty JSON list of {action, subject, goal}")
    subedits = []
    for index, item in enumerate(data):
        if not isinstance(item, Mapping):
            raise PlanParseError(f"sub-edit {index + 1} is not an object")
        action = str(item.get("action", "")).strip().lower()
        if action not in PLAN_ACTIONS:
            raise PlanParseError(f"sub-edit {index + 1}: unknown action {action!r}")
        goal: Any = item.get("goal", "")
        goal = json.dumps(goal, sort_keys=True) if isinstance(goal, (Mapping, list)) else str(goal or "")
        subedits.append(SubEdit(action, str(item.get("subject", "") or ""), goal))
    return subedits


def _first_json(text: str) -> Any:
    decoder = json.JSONDecoder()
    for match in re.finditer(r"[\[{]", text):
        try:
            value, _ = decoder.raw_decode(text[match.start() :])
        except json.JSONDecodeError:
            continue
        return value
    raise PlanParseError("no JSON in the planner's answer")
