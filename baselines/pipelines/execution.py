"""Turning one sub-edit ``(action, subject, goal)`` into tool calls on a toolbox.

Shared by the fixed pipelines: ground the subject (and any object the goal names), segment each
region, then call the synthesis tool. Regions grounded earlier in the episode are remembered by
their text, so "move X to where Y was" can use Y's place after Y has gone.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from baselines.tools.calls import ToolCall, ToolResult
from baselines.tools.plans import SubEdit
from baselines.tools.toolbox import Toolbox
from baselines.tools.workspace import Workspace


@dataclass
class StepOutcome:
    """How a sub-edit went: ``ok`` or the reason it failed; ``regions`` the ids it acted on."""

    ok: bool
    reason: str = ""
    regions: list[str] = field(default_factory=list)


class SubEditRunner:
    """Executes sub-edits with a toolbox; every call is recorded in the workspace history."""

    def __init__(self, toolbox: Toolbox, max_regions: int = 16) -> None:
        self.toolbox = toolbox
        self.max_regions = max_regions

    def call(self, ws: Workspace, name: str, **arguments: Any) -> ToolResult:
        return self.toolbox.call(ws, ToolCall(name, arguments))

    def ground(
        self, ws: Workspace, query: str, *, many: bool = False, remember: bool = True
    ) -> list[dict] | str:
        """Region descriptions for ``query`` or the failure reason. Earlier groundings of the same
        text are reused (the object may have moved or gone since)."""
        memory: dict[str, list[dict]] = ws.context.setdefault("_grounded", {})
        if remember and query in memory:
            return memory[query]
        result = self.call(ws, "ground", query=query, max_regions=self.max_regions if many else 3)
        if not result.ok:
            return result.error
        regions = result.output.get("regions", [])
        if not regions:
            return f"no region for '{query}'"
        chosen = regions if many else regions[:1]
        memory[query] = chosen
        return chosen

    def candidates(self, ws: Workspace, query: str) -> list[dict] | str:
        result = self.call(ws, "ground", query=query, max_regions=3)
        if not result.ok:
            return result.error
        return result.output.get("regions", [])

    def mask(self, ws: Workspace, region_id: str) -> str | None:
        """A mask id for ``region_id`` (segment), or None when segmentation failed."""
        result = self.call(ws, "segment", region=region_id)
        return result.output.get("mask") if result.ok else None

    def run(self, ws: Workspace, sub: SubEdit, region: dict | None = None) -> StepOutcome:
        """Execute ``sub``. ``region`` forces the subject's region (a retry with another candidate)."""
        action = sub.action
        if action == "global_adjust":
            try:
                params = json.loads(sub.goal) if sub.goal else {}
            except json.JSONDecodeError:
                return StepOutcome(False, f"goal of global_adjust is not JSON: {sub.goal!r}")
            return self._outcome(self.call(ws, "global_adjust", op=sub.subject, params=params))
        if action == "background":
            return self._outcome(self.call(ws, "set_background", description=sub.goal))
        if action == "instruct_edit":
            return self._outcome(self.call(ws, "instruct_edit", prompt=sub.goal or sub.subject))
        if action == "add":
            return self._add(ws, sub)
        many = _quantified(sub.subject)
        if region is not None:
            regions: list[dict] | str = [region]
        else:
            regions = self.ground(ws, sub.subject, many=many, remember=not many)
        if isinstance(regions, str):
            return StepOutcome(False, regions)
        goal_value = self._goal_value(ws, sub)
        if isinstance(goal_value, StepOutcome):
            return goal_value
        ws.context["resolved_goal"] = goal_value  # what a verifier checks against
        done: list[str] = []
        ws.context["acted_regions"] = done
        for described in regions:
            handle = self.mask(ws, described["id"]) or described["id"]
            result = self._synthesise(ws, action, handle, goal_value)
            if not result.ok:
                return StepOutcome(False, f"{action} on {described['id']}: {result.error}", done)
            done.append(described["id"])
        return StepOutcome(True, regions=done)

    def _goal_value(self, ws: Workspace, sub: SubEdit) -> Any:
        """The goal as a tool argument: a colour, size, position, handle or object text."""
        goal = sub.goal.strip()
        match = re.fullmatch(r"(colour|color|size) of (.+)", goal)
        if match:
            regions = self.ground(ws, match.group(2))
            if isinstance(regions, str):
                return StepOutcome(False, regions)
            key = "color" if match.group(1) in ("colour", "color") else "size"
            value = regions[0].get(key)
            return value if value else StepOutcome(False, f"'{match.group(2)}' has no known {key}")
        match = re.fullmatch(r"where (.+) was", goal)
        if match:
            regions = self.ground(ws, match.group(1))
            return regions[0]["id"] if not isinstance(regions, str) else StepOutcome(False, regions)
        if sub.action == "swap":
            regions = self.ground(ws, goal, remember=False)
            if isinstance(regions, str):
                return StepOutcome(False, regions)
            return self.mask(ws, regions[0]["id"]) or regions[0]["id"]
        return goal

    def _synthesise(self, ws: Workspace, action: str, handle: str, goal: Any) -> ToolResult:
        if action == "recolor":
            return self.call(ws, "recolor", region=handle, color=goal)
        if action == "remove":
            return self.call(ws, "remove", region=handle)
        if action == "move":
            return self.call(ws, "move", region=handle, to=_position(goal))
        if action == "resize":
            return self.call(ws, "resize", region=handle, size=goal)
        if action == "replace":
            return self.call(ws, "replace", region=handle, object=goal)
        if action == "swap":
            return self.call(ws, "swap", region=handle, other=goal)
        return ToolResult.failure(f"no tool for action '{action}'", invalid=True)

    def _add(self, ws: Workspace, sub: SubEdit) -> StepOutcome:
        where, _, colour_goal = sub.goal.partition(";")
        description = sub.subject
        if colour_goal.strip():
            value = self._goal_value(ws, SubEdit("recolor", "", colour_goal.strip()))
            if isinstance(value, StepOutcome):
                return value
            description = f"{value} {description}"
        return self._outcome(
            self.call(ws, "add_object", object=description, position=_position(where.strip()))
        )

    @staticmethod
    def _outcome(result: ToolResult) -> StepOutcome:
        return StepOutcome(result.ok, result.error)


def _quantified(subject: str) -> bool:
    first = subject.strip().lower().split(" ", 1)[0] if subject.strip() else ""
    return first in ("every", "all", "each", "everything")


def _position(goal: Any) -> Any:
    if isinstance(goal, str) and goal == "centre":
        return "center"
    return goal
