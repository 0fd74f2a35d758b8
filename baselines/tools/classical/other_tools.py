"""Classical planning, photo operations and verification tools."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np

from baselines.tools.calls import ToolResult
from baselines.tools.classical import flat_scene as fs
from baselines.tools.classical.instructions import plan_instruction
from baselines.tools.classical.photo_instructions import plan_photo_instruction, read_photo_instruction
from baselines.tools.classical.referring import SIZE_WORDS, find_references, words_of
from baselines.tools.classical.scene_tools import parse_background, parse_object, read_scene
from baselines.tools.plans import SubEdit
from baselines.tools.specs import spec
from baselines.tools.workspace import Workspace
from harness.suites.photo_ops.ops import OPS


def rule_plan(instruction: str, flat_scene: bool = True) -> list[SubEdit]:
    """Object edits when the image is a flat-colour scene and the instruction names objects (or a
    background / new object); photo operations otherwise."""
    if not flat_scene:
        return plan_photo_instruction(instruction)
    scene_plan = plan_instruction(instruction)
    if find_references(words_of(instruction)) and scene_plan:
        return scene_plan
    return plan_photo_instruction(instruction) or scene_plan


class RulePlanner:
    """plan(instruction): the rule grammar of the synth-edit phrasings and the photo-editing lexicon
    (``photo_instructions``); it looks at the image only to tell a flat-colour scene from a
    photograph. A photograph's instruction with a step it cannot read is refused, with the step."""

    spec = spec("plan")
    smoke = False

    def fingerprint(self) -> dict[str, Any]:
        return {"impl": "rule-grammar", "version": "2"}

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        instruction = str(arguments["instruction"])
        flat = read_scene(ws).background_fits  # a photograph has no flat background model
        if not flat:  # a photo plan is carried out whole or not at all
            reading = read_photo_instruction(instruction)
            if reading.problems:
                return ToolResult.failure(
                    "the photo grammar cannot read the instruction: " + "; ".join(reading.problems)
                )
        plan = rule_plan(instruction, flat_scene=flat)
        if not plan:
            return ToolResult.failure("the rule grammar found no edit in the instruction")
        return ToolResult(ok=True, output={"subedits": [s.to_dict() for s in plan]})


GLOBAL_ADJUST_PARAMETERS = {
    "type": "object",
    "properties": {
        "op": {"type": "string", "enum": sorted(OPS)},
        "params": {"type": "object", "default": {}},
    },
    "required": ["op"],
    "additionalProperties": False,
}


class PhotoAdjust:
    """global_adjust(op, params): the photo-ops operations (exact, integer where possible)."""

    spec = spec("global_adjust", parameters=GLOBAL_ADJUST_PARAMETERS)
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        op, params = arguments["op"], dict(arguments.get("params") or {})
        try:
            image = OPS[op](ws.image, **params)
        except TypeError as exc:
            return ToolResult.failure(f"bad parameters for {op}: {exc}", invalid=True)
        except ValueError as exc:
            return ToolResult.failure(str(exc), invalid=True)
        return ToolResult(ok=True, output={"applied": op, "params": params}, image=image)


class SceneVerifier:
    """verify(subedit): re-reads the image and checks the sub-edit's post-condition on the objects
    it acted on (``context["acted_regions"]``, set by the pipeline; else the regions grounded for
    its subject)."""

    spec = spec("verify")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        if "subedit" not in arguments:
            changed = not np.array_equal(ws.image, ws.source)
            return _verdict(changed, "the image changed" if changed else "the image is unchanged")
        sub = SubEdit(**{k: str(v) for k, v in arguments["subedit"].items()})
        if sub.action == "global_adjust":
            try:
                expected = OPS[sub.subject](
                    ws.context.get("before_subedit", ws.source), **json.loads(sub.goal or "{}")
                )
            except Exception as exc:
                return ToolResult.failure(f"cannot recompute {sub.subject}: {exc}")
            same = expected.shape == ws.image.shape and bool(np.array_equal(expected, ws.image))
            return _verdict(same, "matches the operation" if same else "differs from the operation")
        scene = read_scene(ws)
        if sub.action == "background":
            wanted = parse_background(sub.goal)
            ok = wanted is not None and scene.background == wanted
            return _verdict(ok, f"background is {scene.background.describe()}")
        if sub.action == "add":
            shape, colour, size = parse_object(sub.subject)
            ok = any(
                o.shape == shape and o.colour == colour and o.size == (size or "medium")
                for o in scene.objects()
            )
            return _verdict(ok, "object present" if ok else "object not found")
        acted = [ws.regions[i] for i in ws.context.get("acted_regions", []) if i in ws.regions]
        regions = acted or [r for r in ws.regions.values() if r.label == sub.subject]
        regions = [r for r in regions if "centroid" in r.attributes]
        if not regions:
            return ToolResult.failure(f"no grounded region for '{sub.subject}' to verify")
        results = [_check_region(ws, scene, sub, region.attributes) for region in regions]
        passed = all(ok for ok, _ in results)
        return _verdict(passed, "; ".join(message for _, message in results))


def _verdict(passed: bool, message: str) -> ToolResult:
    return ToolResult(
        ok=True, output={"passed": bool(passed), "score": 1.0 if passed else 0.0, "message": message}
    )


def _near(scene: fs.FlatScene, x: float, y: float) -> fs.Layer | None:
    tolerance = 0.06 * scene.canvas
    best = min(scene.layers, key=lambda layer: (layer.obj.x - x) ** 2 + (layer.obj.y - y) ** 2, default=None)
    if best is None or (best.obj.x - x) ** 2 + (best.obj.y - y) ** 2 > tolerance**2:
        return None
    return best


def _check_region(
    ws: Workspace, scene: fs.FlatScene, sub: SubEdit, attrs: Mapping[str, Any]
) -> tuple[bool, str]:
    x, y = attrs["centroid"][0] * ws.width, attrs["centroid"][1] * ws.height
    here = _near(scene, x, y)
    if sub.action == "remove":
        return here is None, "gone" if here is None else "still there"
    resolved = str(ws.context.get("resolved_goal", sub.goal))
    if sub.action == "recolor":
        goal = resolved if resolved in fs.PALETTE else None
        ok = here is not None and (goal is None or here.obj.colour == goal)
        return ok, f"colour {here.obj.colour if here else 'missing'}"
    if sub.action == "resize":
        goal = SIZE_WORDS.get(resolved)
        ok = here is not None and (goal is None or here.obj.size == goal)
        return ok, f"size {here.obj.size if here else 'missing'}"
    if sub.action == "replace":
        goal, _, _ = parse_object(sub.goal)
        ok = here is not None and here.obj.shape == goal
        return ok, f"shape {here.obj.shape if here else 'missing'}"
    if sub.action in ("move", "swap"):
        same = [
            layer
            for layer in scene.layers
            if layer.obj.shape == attrs["shape"] and layer.obj.colour == attrs["color"]
        ]
        moved = bool(same) and all((layer.obj.x - x) ** 2 + (layer.obj.y - y) ** 2 > 4.0 for layer in same)
        return moved, "moved" if moved else "not moved"
    return True, f"no check for {sub.action}"
