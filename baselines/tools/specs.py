"""The JSON schema of every tool (OpenAI-function style). One schema per capability; any
implementation (classical or learned) of a tool answers to the same schema.

Conventions: a *handle* is a region id from ``ground`` (``r1``) or a mask id from ``segment`` /
``refine_mask`` (``m1``). A *position* is a named place (``left``, ``top-right``, ``center``...),
a handle (the centre of that region) or a normalised point ``[x, y]`` in 0..1.
"""

from __future__ import annotations

from typing import Any

from baselines.tools.calls import ToolSpec

HANDLE: dict[str, Any] = {
    "type": "string",
    "pattern": r"^[rm][0-9]+$",
    "description": "a region id (r1, r2, ...) from ground or a mask id (m1, ...) from segment",
}
REGION_ID: dict[str, Any] = {
    "type": "string",
    "pattern": r"^r[0-9]+$",
    "description": "a region id from ground",
}
NAMED_POSITIONS: tuple[str, ...] = (
    "left",
    "right",
    "top",
    "bottom",
    "center",
    "top-left",
    "top-right",
    "bottom-left",
    "bottom-right",
)
POSITION: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "enum": list(NAMED_POSITIONS)},
        {"type": "string", "pattern": r"^[rm][0-9]+$"},
        {
            "type": "array",
            "items": {"type": "number", "minimum": 0.0, "maximum": 1.0},
            "minItems": 2,
            "maxItems": 2,
        },
    ],
    "description": "a named position, a handle (that region's centre) or a normalised [x, y] point",
}
BOX: dict[str, Any] = {
    "type": "array",
    "items": {"type": "number", "minimum": 0.0, "maximum": 1.0},
    "minItems": 4,
    "maxItems": 4,
    "description": "normalised [x0, y0, x1, y1]",
}
SUBEDIT: dict[str, Any] = {
    "type": "object",
    "properties": {
        "action": {"type": "string"},
        "subject": {"type": "string"},
        "goal": {"type": "string"},
    },
    "required": ["action", "subject", "goal"],
}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


SPECS: dict[str, ToolSpec] = {
    spec.name: spec
    for spec in (
        ToolSpec(
            "plan",
            "Split an editing instruction into ordered sub-edits (action, subject, goal).",
            _object({"instruction": {"type": "string", "minLength": 1}}, ["instruction"]),
            "planning",
        ),
        ToolSpec(
            "ground",
            "Find the objects a text query refers to; returns region ids with boxes and attributes.",
            _object(
                {
                    "query": {"type": "string", "minLength": 1},
                    "max_regions": {"type": "integer", "minimum": 1, "maximum": 32, "default": 3},
                },
                ["query"],
            ),
            "grounding",
        ),
        ToolSpec(
            "segment",
            "Compute the pixel mask of a grounded region; returns a mask id.",
            _object({"region": REGION_ID}, ["region"]),
            "segmentation",
        ),
        ToolSpec(
            "refine_mask",
            "Grow, shrink, invert or combine masks; returns a new mask id.",
            _object(
                {
                    "mask": HANDLE,
                    "op": {"type": "string", "enum": ["dilate", "erode", "invert", "union", "subtract"]},
                    "px": {"type": "integer", "minimum": 0, "maximum": 64, "default": 3},
                    "other": HANDLE,
                },
                ["mask", "op"],
            ),
            "segmentation",
        ),
        ToolSpec(
            "recolor",
            "Change the colour of a region.",
            _object({"region": HANDLE, "color": {"type": "string", "minLength": 1}}, ["region", "color"]),
            "synthesis",
        ),
        ToolSpec(
            "remove",
            "Remove a region and fill it with background.",
            _object({"region": HANDLE}, ["region"]),
            "synthesis",
        ),
        ToolSpec(
            "add_object",
            "Add an object (e.g. 'small red star') at a position or inside a box.",
            _object(
                {"object": {"type": "string", "minLength": 1}, "position": POSITION, "box": BOX},
                ["object"],
            ),
            "synthesis",
        ),
        ToolSpec(
            "move",
            "Move a region to a position, filling the place it left with background.",
            _object({"region": HANDLE, "to": POSITION}, ["region", "to"]),
            "synthesis",
        ),
        ToolSpec(
            "resize",
            "Scale a region about its centre, by a factor or to a named size (small, medium, large).",
            _object(
                {
                    "region": HANDLE,
                    "scale": {"type": "number", "minimum": 0.1, "maximum": 10.0},
                    "size": {"type": "string", "minLength": 1},
                },
                ["region"],
            ),
            "synthesis",
        ),
        ToolSpec(
            "replace",
            "Replace a region with another object (e.g. 'triangle' or 'blue star') at the same place.",
            _object({"region": HANDLE, "object": {"type": "string", "minLength": 1}}, ["region", "object"]),
            "synthesis",
        ),
        ToolSpec(
            "swap",
            "Swap the positions of two regions.",
            _object({"region": HANDLE, "other": HANDLE}, ["region", "other"]),
            "synthesis",
        ),
        ToolSpec(
            "set_background",
            "Change the background (e.g. 'white', 'light blue') and keep every object.",
            _object({"description": {"type": "string", "minLength": 1}}, ["description"]),
            "synthesis",
        ),
        ToolSpec(
            "inpaint",
            "Repaint a region from a text prompt; an empty prompt fills it with surrounding background.",
            _object(
                {
                    "region": HANDLE,
                    "prompt": {"type": "string", "default": ""},
                    "strength": {"type": "number", "minimum": 0.0, "maximum": 1.0, "default": 1.0},
                },
                ["region"],
            ),
            "synthesis",
        ),
        ToolSpec(
            "instruct_edit",
            "Apply a free-form editing instruction to the whole image, or only inside a region.",
            _object({"prompt": {"type": "string", "minLength": 1}, "region": HANDLE}, ["prompt"]),
            "synthesis",
        ),
        ToolSpec(
            "global_adjust",
            "Apply a global photo operation (grayscale, flip, rotate, brightness, blur, ...) with parameters.",
            _object(
                {
                    "op": {"type": "string", "minLength": 1},
                    "params": {"type": "object", "default": {}},
                },
                ["op"],
            ),
            "synthesis",
        ),
        ToolSpec(
            "verify",
            "Check the current image against a sub-edit (or the whole instruction); returns passed and a score.",
            _object({"subedit": SUBEDIT, "instruction": {"type": "string"}}, []),
            "verification",
        ),
        ToolSpec("undo", "Restore the image before the last edit.", _object({}, []), "control"),
        ToolSpec("finish", "End the episode with the current image.", _object({}, []), "control"),
    )
}


def spec(name: str, **overrides: Any) -> ToolSpec:
    """The standard spec of ``name``, optionally with a narrower description or parameters."""
    base = SPECS[name]
    return ToolSpec(
        name,
        overrides.get("description", base.description),
        overrides.get("parameters", base.parameters),
        base.capability,
    )
