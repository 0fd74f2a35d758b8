"""The synthesis agent: one sub-edit ``(action, subject, goal)`` -> tool calls of the shared schema.

The mapping is fixed (no learning here): the policy decides *what* to do to *which* grounded
region; this table says which tool does it and where the goal goes. A sub-edit that fits no tool
returns a problem string, which the environment records as an invalid step.
"""

from __future__ import annotations

from baselines.tools import ToolCall
from baselines.tools.classical.referring import region_from_words, words_of
from baselines.tools.specs import NAMED_POSITIONS
from imageedit_r1.plan import WHOLE_IMAGE, SubEdit

# action -> (tool, argument the goal fills); the subject fills "region".
REGION_ACTIONS: dict[str, tuple[str, str | None]] = {
    "recolor": ("recolor", "color"),
    "remove": ("remove", None),
    "move": ("move", "to"),
    "resize": ("resize", "size"),
    "replace": ("replace", "object"),
    "swap": ("swap", "other"),
}
# photo ops (global_adjust): action -> (parameter name, type) or None for no parameter.
GLOBAL_OPS: dict[str, tuple[str, type] | None] = {
    "grayscale": None,
    "flip_horizontal": None,
    "flip_vertical": None,
    "invert": None,
    "rotate": ("degrees", int),
    "crop": ("region", str),
    "brightness": ("factor", float),
    "contrast": ("factor", float),
    "gaussian_blur": ("sigma", float),
    "hue_shift": ("degrees", int),
    "posterize": ("bits", int),
}
ADD_SEPARATOR = " at "
POSITION_ALIASES = {"centre": "center"}
ACTIONS: tuple[str, ...] = (*REGION_ACTIONS, "add", "background", *GLOBAL_OPS)


def canonical_position(text: str) -> str:
    """A position as the tool schema names it. 'centre' is 'center'; a position written in the tool
    layer's position words ('lower-right', 'upper middle', 'the middle'), read the way the classic
    pipeline's referring parser reads them, is its named position; anything else (a region handle,
    or what the toolbox will report as an invalid position) is left as written."""
    text = text.strip()
    if text in NAMED_POSITIONS or text in POSITION_ALIASES:
        return POSITION_ALIASES.get(text, text)
    region = region_from_words(words_of(text))
    return POSITION_ALIASES.get(region, region) if region else text


def calls_for_subedit(subedit: SubEdit) -> tuple[list[ToolCall], str]:
    """The tool calls for ``subedit`` and an empty problem, or ([], why it maps to nothing)."""
    action, subject, goal = subedit.action, subedit.subject.strip(), subedit.goal.strip()
    if action in REGION_ACTIONS:
        tool, slot = REGION_ACTIONS[action]
        if not subject or subject == WHOLE_IMAGE:
            return [], f"{action} needs a region handle as subject, got {subject!r}"
        arguments: dict[str, object] = {"region": subject}
        if slot is not None:
            if not goal:
                return [], f"{action} needs a goal"
            arguments[slot] = canonical_position(goal) if slot == "to" else goal
        return [ToolCall(tool, arguments)], ""
    if action == "add":
        obj, _, position = goal.partition(ADD_SEPARATOR)
        if not obj.strip():
            return [], "add needs a goal 'OBJECT at POSITION'"
        arguments = {"object": obj.strip()}
        if position.strip():
            arguments["position"] = canonical_position(position)
        return [ToolCall("add_object", arguments)], ""
    if action == "background":
        if not goal:
            return [], "background needs a goal"
        return [ToolCall("set_background", {"description": goal})], ""
    if action in GLOBAL_OPS:
        parameter = GLOBAL_OPS[action]
        params: dict[str, object] = {}
        if parameter is not None:
            name, kind = parameter
            try:
                params[name] = kind(goal) if kind is not int else int(float(goal))
            except ValueError:
                return [], f"{action} needs a {kind.__name__} goal, got {goal!r}"
        return [ToolCall("global_adjust", {"op": action, "params": params})], ""
    return [], f"unknown action {action!r}"
