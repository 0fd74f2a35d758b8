"""Editing as a sequential decision process over the shared tool layer.

State: the instruction, the current image, the region handles grounding returned, the history of
calls with their results, and the remaining budget (steps, invalid calls). Actions: tool calls in
the tool layer's JSON schema, validated by the ``Toolbox``; an invalid call is an observation plus a
penalty, never an exception. An episode ends on ``finish``, on the step cap, or when the invalid-call
budget is spent.

The policy reads a text observation: the instruction and the grounded scene description from the
grounding tool (one line per region: handle, colour, shape, size and a 20x20 grid cell of its
centre), listed left to right under policy handles ``o1, o2, ...`` that the environment maps
back to the tool's region ids. ``execute_plan`` is the plan-then-execute tier: the policy emits its whole plan at once and
the synthesis agent turns each sub-edit into tool calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from baselines.tools import Toolbox, ToolCall, ToolResult, Workspace, trace_step
from harness.types import Image, TraceStep
from imageedit_r1.phrases import is_phrase
from imageedit_r1.plan import SubEdit
from imageedit_r1.synthesis import calls_for_subedit

SCENE_QUERY = "every object"
GRID = 20
MAX_LISTED_REGIONS = 16


@dataclass
class EpisodeBudget:
    max_steps: int = 12
    max_invalid: int = 3


@dataclass
class Episode:
    """The outcome of one episode: final image, every step as a TraceStep, and counters."""

    image: Image
    trace: list[TraceStep] = field(default_factory=list)
    steps: int = 0
    invalid_calls: int = 0
    tool_errors: int = 0
    end_reason: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class StepResult:
    observation: dict[str, Any]
    invalid: bool
    done: bool


class EditingEnvironment:
    """One episode at a time over a ``Toolbox``; ``reset`` grounds the scene first."""

    def __init__(self, toolbox: Toolbox, budget: EpisodeBudget | None = None) -> None:
        self.toolbox = toolbox
        self.budget = budget or EpisodeBudget()
        self.workspace: Workspace | None = None
        self.instruction = ""
        self.steps = 0
        self.invalid_calls = 0
        self.tool_errors = 0
        self.end_reason = ""
        self._grounding_steps = 0
        self._grounded_ids: set[str] = set()
        self._phrase_ids: set[str] = set()  # regions grounded for phrase subjects: not new objects

    # -- state -------------------------------------------------------------------------------
    def reset(self, source: Image, instruction: str, seed: int = 0) -> str:
        """Start an episode and ground every object; returns the text observation."""
        self.workspace = Workspace.start(np.asarray(source), instruction=instruction, seed=int(seed))
        self.instruction = instruction
        self.steps = self.invalid_calls = self.tool_errors = 0
        self.end_reason = ""
        if "ground" in self.toolbox:
            self.toolbox.call(self.workspace, ToolCall("ground", {"query": SCENE_QUERY, "max_regions": 32}))
        self._grounding_steps = len(self.workspace.history)
        self._grounded_ids = set(self.workspace.regions)
        self._phrase_ids = set()
        return self.observation()

    def restore(self, grounded: Workspace, instruction: str) -> str:
        """Start an episode from a copy of an already grounded workspace (same scene, no re-grounding)."""
        import copy

        self.workspace = copy.deepcopy(grounded)
        self.instruction = instruction
        self.steps = self.invalid_calls = self.tool_errors = 0
        self.end_reason = ""
        self._grounding_steps = len(self.workspace.history)
        self._grounded_ids = set(self.workspace.regions)
        self._phrase_ids = set()
        return self.observation()

    def observation(self) -> str:
        return format_observation(self.instruction, self.regions())

    def regions(self) -> list[dict[str, Any]]:
        """Grounded regions in reading order (left to right, then top to bottom), each with the
        policy-facing ``handle`` (o1, o2, ...) beside the tool's region id; regions a tool added
        later (``add_object``) follow in the order they were made, so a plan can name an object
        it adds (the k-th added object of a scene with N regions is o(N+k))."""
        ws = self._ws()
        grounded = [r.describe() for key, r in ws.regions.items() if key in self._grounded_ids]
        added = [
            r.describe()
            for key, r in ws.regions.items()
            if key not in self._grounded_ids and key not in self._phrase_ids
        ]
        ordered = sorted(grounded, key=reading_order)
        return [{**region, "handle": f"o{index + 1}"} for index, region in enumerate(ordered + added)]

    def resolve_handles(self, subedit: SubEdit) -> SubEdit:
        """Policy handles (o3) in a sub-edit's subject and goal -> the tool's region ids (r5)."""
        table = {r["handle"]: r["id"] for r in self.regions()}
        return SubEdit(
            subedit.action, table.get(subedit.subject, subedit.subject), table.get(subedit.goal, subedit.goal)
        )

    def ground_phrases(self, subedit: SubEdit) -> tuple[SubEdit, str]:
        """A sub-edit whose subject (or a swap's other object) is a referring phrase, with each phrase
        replaced by the one region the grounding tool resolves it to on the current image. A phrase
        that does not read, or that matches no object or several, is the policy's error: the
        sub-edit maps to nothing and the reason is returned. Grounding calls are in the trace and
        do not count against the step cap (they observe, they do not edit). A move's goal is a
        place ('the middle', a named position or a handle), never grounded as an object."""
        subject, goal = subedit.subject, subedit.goal
        if is_phrase(subject):
            subject, problem = self._ground_phrase(subject)
            if problem:
                return subedit, problem
        if subedit.action == "swap" and is_phrase(goal):
            goal, problem = self._ground_phrase(goal)
            if problem:
                return subedit, problem
        return SubEdit(subedit.action, subject, goal), ""

    def _ground_phrase(self, phrase: str) -> tuple[str, str]:
        ws = self._ws()
        result = self.toolbox.call(ws, ToolCall("ground", {"query": phrase, "max_regions": 2}))
        self._phrase_ids.update(str(r["id"]) for r in result.output.get("regions", []))
        if result.ok and result.output.get("total") == 1:
            return self._known_region(str(result.output["regions"][0]["id"])), ""
        if result.ok:
            return "", f"'{phrase}' matches {result.output.get('total')} objects, not one"
        return "", result.error

    def _known_region(self, region_id: str) -> str:
        """The handle region that holds the same object as ``region_id`` (a region grounded for a
        phrase), so that edits through a phrase move that handle's region with its object and a
        later "where X was" by handle still finds X's place; ``region_id`` itself when none does."""
        ws = self._ws()
        mask = ws.mask_for(region_id)
        if mask is None or not mask.any():
            return region_id
        for region in self.regions():
            other = ws.mask_for(str(region["id"]))
            if other is not None and other.shape == mask.shape:
                shared = np.logical_and(other, mask).sum() / max(min(other.sum(), mask.sum()), 1)
                if shared > 0.5:
                    return str(region["id"])
        return region_id

    @property
    def done(self) -> bool:
        return bool(self.end_reason)

    @property
    def remaining_steps(self) -> int:
        return max(self.budget.max_steps - self.steps, 0)

    # -- actions -----------------------------------------------------------------------------
    def step(self, call: ToolCall) -> StepResult:
        ws = self._ws()
        if self.done:
            return StepResult({"ok": False, "error": f"episode over ({self.end_reason})"}, False, True)
        result: ToolResult = self.toolbox.call(ws, call)
        self.steps += 1
        if result.invalid:
            self.invalid_calls += 1
        elif not result.ok:
            self.tool_errors += 1
        if ws.finished:
            self.end_reason = "finish"
        elif self.steps >= self.budget.max_steps:
            self.end_reason = "step cap"
        elif self.invalid_calls >= self.budget.max_invalid:
            self.end_reason = "invalid-call budget"
        observation = result.observation()
        observation["remaining_steps"] = self.remaining_steps
        return StepResult(observation, result.invalid, self.done)

    def execute_plan(self, subedits: Sequence[SubEdit]) -> Episode:
        """Run a whole plan: each sub-edit becomes tool calls; ``finish`` at the end."""
        errors: list[str] = []
        for subedit in subedits:
            if self.done:
                break
            grounded, problem = self.ground_phrases(self.resolve_handles(subedit))
            calls, problem = ([], problem) if problem else calls_for_subedit(grounded)
            if problem:
                self._record_invalid(subedit, problem)
                errors.append(problem)
                continue
            for call in calls:
                outcome = self.step(call)
                if not outcome.observation.get("ok", False):
                    errors.append(f"{call.name}: {outcome.observation.get('error', '')}")
                if self.done:
                    break
        if not self.done:
            self.step(ToolCall("finish", {}))
        return self.episode(errors)

    def episode(self, errors: Sequence[str] = ()) -> Episode:
        ws = self._ws()
        trace = [trace_step(entry) for entry in ws.history]
        return Episode(
            image=ws.image,
            trace=trace,
            steps=max(self.steps - 1, 0) if self.end_reason == "finish" else self.steps,
            invalid_calls=self.invalid_calls,
            tool_errors=self.tool_errors,
            end_reason=self.end_reason,
            errors=list(errors),
        )

    # -- internals ---------------------------------------------------------------------------
    def _record_invalid(self, subedit: SubEdit, problem: str) -> None:
        """A sub-edit that maps to no valid call: recorded as an invalid step and penalised."""
        ws = self._ws()
        call = ToolCall(subedit.action or "?", {"subject": subedit.subject, "goal": subedit.goal})
        ws.record(call, ToolResult.failure(problem, invalid=True), 0.0)
        self.steps += 1
        self.invalid_calls += 1
        if self.invalid_calls >= self.budget.max_invalid:
            self.end_reason = "invalid-call budget"
        elif self.steps >= self.budget.max_steps:
            self.end_reason = "step cap"

    def _ws(self) -> Workspace:
        if self.workspace is None:
            raise RuntimeError("call reset() before using the environment")
        return self.workspace


def reading_order(region: Mapping[str, Any]) -> tuple[float, float]:
    """Left to right (centroids binned to 1% of the width, so parse jitter keeps the order), then top
    to bottom."""
    cx, cy = region.get("centroid") or region.get("center", (0.5, 0.5))
    return round(float(cx), 2), float(cy)


def grid_cell(value: float) -> int:
    return min(max(int(float(value) * GRID), 0), GRID - 1)


def describe_region(region: Mapping[str, Any]) -> str:
    colour = region.get("color") or region.get("colour") or ""
    shape = region.get("shape") or region.get("label") or "object"
    size = region.get("size") or ""
    cx, cy = region.get("centroid") or region.get("center", (0.5, 0.5))
    words = " ".join(w for w in (colour, shape, size) if w)
    return f"{region.get('handle', region['id'])} {words} {grid_cell(cx)} {grid_cell(cy)}"


def format_observation(instruction: str, regions: Sequence[Mapping[str, Any]]) -> str:
    """The policy's prompt: instruction, then the grounded scene, then the plan cue."""
    shown = [describe_region(r) for r in regions[:MAX_LISTED_REGIONS]]
    if len(regions) > MAX_LISTED_REGIONS:
        shown.append(f"+{len(regions) - MAX_LISTED_REGIONS} more")
    scene = " | ".join(shown) if shown else "none"
    return f"instruction: {instruction.strip()}\nregions: {scene}\nplan:"
