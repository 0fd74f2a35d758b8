"""The toolbox ImageEdit-R1 acts through: the shared tool layer's classical tools.

``default_toolbox`` assembles the tool layer's specs (``baselines.tools.spec``) over the tool
layer's classical flat-scene operations (``baselines.tools.classical.flat_scene``) and the
photo-ops functions. Grounding reports each region's centroid beside its box.
Real (learned) grounding or synthesis tools answer to the same schemas, so another toolbox can be
passed to ``AgentSystem``; the policy's plan format does not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from baselines.tools import Toolbox, ToolResult, Workspace, spec
from baselines.tools.classical.referring import SIZE_WORDS, words_of
from baselines.tools.workspace import mask_box
from imageedit_r1.phrases import is_phrase


def default_toolbox() -> Toolbox:
    """A fresh toolbox of classical tools (scene-parser grounding, exact pixel and photo ops).

    The shipped policy was trained on this toolbox's grounding output, so the editor keeps using
    it rather than whichever classical toolbox the installed ``baselines`` may assemble."""
    return Toolbox([tool() for tool in FLAT_SCENE_TOOLS])


def _scene(ws: Workspace) -> Any:
    """The flat-scene reading of the current image, cached until the image changes. After an object
    edit the background model of the previous reading is kept (only the objects are re-read);
    ``set_background`` drops it."""
    from baselines.tools.classical.flat_scene import read_flat_scene

    cached = ws.context.get("_flat_scene")
    if cached is not None and cached[0] is ws.image:
        return cached[1]
    if cached is not None and cached[1].background_fits and not ws.context.get("_background_changed"):
        scene = _reread_objects(ws.image, cached[1])
    else:
        scene = read_flat_scene(ws.image)
    ws.context["_flat_scene"] = (ws.image, scene)
    ws.context["_background_changed"] = False
    return scene


def _reread_objects(image: np.ndarray, previous: Any) -> Any:
    """``read_flat_scene`` with the background model of ``previous`` (objects read afresh)."""
    from dataclasses import replace as replace_object

    from scipy import ndimage

    from baselines.tools.classical import flat_scene as fs
    from harness.suites.synth_edit.palette import PALETTE, SHAPES, SIZES, circumradius

    image = np.ascontiguousarray(image)
    pixels = image.astype(np.float64)
    chroma = pixels.max(axis=2) - pixels.min(axis=2)
    labels, _ = ndimage.label(chroma > fs.CHROMA_THRESHOLD, structure=np.ones((3, 3), dtype=bool))
    objects = fs.parse_objects(image)
    layers = []
    for parsed, footprint in zip(objects, fs._footprints(labels, objects, chroma), strict=True):
        obj = parsed
        if parsed.shape in SHAPES and parsed.size in SIZES:
            obj = replace_object(parsed, radius=circumradius(parsed.shape, parsed.size, min(image.shape[:2])))
        rgb = np.asarray(PALETTE.get(obj.colour, fs._interior_rgb(pixels, footprint)), dtype=np.float64)
        alpha = fs._alpha(pixels, previous.background_rgb, rgb, footprint)
        layers.append(fs.Layer(obj, footprint, alpha, rgb))
    return fs.FlatScene(image, previous.background, previous.background_rgb, True, layers)


def _layer(ws: Workspace, handle: str) -> tuple[Any, Any, ToolResult | None]:
    mask = ws.mask_for(handle)
    if mask is None:
        return None, None, ToolResult.failure(f"unknown handle {handle!r}", invalid=True)
    scene = _scene(ws)
    layer = scene.layer_for_mask(mask)
    if layer is None:
        return scene, None, ToolResult.failure(f"no object left at {handle}")
    return scene, layer, None


def _follow(ws: Workspace, handle: str, obj: Any, left: np.ndarray | None = None) -> None:
    """Keep a region on its object: after a move, resize, replace or swap the region's mask is the
    object's new footprint, so a later sub-edit on the same handle acts on the same object.
    ``left`` is the footprint an object was moved away from or removed from: the region's box
    becomes that place, so a handle used as a place ("move X to where Y was") names where Y was
    before its latest move or removal (a swap exchanges two objects and leaves both boxes, as the
    synth-edit generator's "where it was" does). Otherwise the box stays where grounding found it."""
    from harness.suites.synth_edit.render import object_mask

    region = ws.regions.get(handle)
    if region is None:
        return
    if left is not None and left.any():
        region.box = mask_box(left)
    if obj is None or not region.mask_id or region.mask_id not in ws.masks:
        return
    try:
        footprint = object_mask(obj, ws.width, ws.height)
    except (KeyError, ValueError):  # an object of unknown shape: its old mask stays
        return
    if footprint.any():
        ws.masks[region.mask_id] = footprint


def _point(ws: Workspace, where: Any) -> tuple[float, float] | None:
    from baselines.tools.classical.flat_scene import named_position

    if isinstance(where, (list, tuple)) and len(where) == 2:
        return float(where[0]) * ws.width, float(where[1]) * ws.height
    if isinstance(where, str) and where in ws.regions:
        x0, y0, x1, y1 = ws.regions[where].box
        return (x0 + x1) / 2 * ws.width, (y0 + y1) / 2 * ws.height
    try:
        return named_position(str(where), ws.width, ws.height)
    except ValueError:
        return None


class Ground:
    """Scene-parser grounding: every saturated object (or those matching the query's colour, shape
    or size words) as a region with its rendered footprint as mask. Reads objects only; the
    background model is read later, when a synthesis tool needs it."""

    spec = spec("ground")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        from harness.suites.synth_edit.parse import parse_objects
        from harness.suites.synth_edit.render import object_mask

        query = str(arguments["query"])
        objects = parse_objects(ws.image)
        phrase = is_phrase(query)
        if phrase:
            referred = _referred(query, objects, ws.width, ws.height)
            if isinstance(referred, str):
                return ToolResult.failure(referred)
            objects, words = referred, set()
        else:
            words = set(query.lower().split()) & _ATTRIBUTE_WORDS
        found = []
        for obj in objects:
            if words and not ({obj.shape, obj.colour, obj.size} & words):
                continue
            if (words or phrase) and len(found) >= int(arguments.get("max_regions", 3)):
                break
            footprint = object_mask(obj, ws.width, ws.height)
            if not footprint.any():
                continue
            centroid = [round(obj.x / ws.width, 4), round(obj.y / ws.height, 4)]
            attributes = {"shape": obj.shape, "color": obj.colour, "size": obj.size, "centroid": centroid}
            region = ws.add_region(
                f"{obj.colour} {obj.shape}",
                mask_box(footprint),
                mask_id=ws.add_mask(footprint),
                attributes=attributes,
            )
            found.append(region.describe())
        total = len(objects) if phrase else len(found)
        return ToolResult(ok=True, output={"regions": found, "total": total})


def _referred(query: str, objects: Any, width: int, height: int) -> Any:
    """The objects a referring phrase ("the second circle from the left") denotes, read with the
    classical referring grammar and resolved by the synth-edit resolver; a string says why not."""
    from baselines.tools.classical.referring import parse_reference
    from baselines.tools.classical.scene_tools import resolve_reference
    from harness.suites.synth_edit.referring import ReferenceError
    from harness.suites.synth_edit.scene import Background, Scene

    words = words_of(query)
    reference = parse_reference(words)
    if reference is None or reference.end != len(words):
        return f"cannot read '{query}' as a reference to one object"
    try:
        return resolve_reference(Scene(width, height, Background(), tuple(objects)), reference.ref)
    except (ReferenceError, KeyError) as exc:
        return f"cannot resolve '{query}': {exc}"


class Recolor:
    spec = spec("recolor")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        from baselines.tools.classical.flat_scene import recolor
        from harness.suites.synth_edit.palette import PALETTE

        colour = str(arguments["color"]).lower()
        if colour not in PALETTE:
            return ToolResult.failure(
                f"unknown colour {colour!r} (known: {', '.join(PALETTE)})", invalid=True
            )
        scene, layer, problem = _layer(ws, str(arguments["region"]))
        if problem:
            return problem
        return ToolResult(ok=True, image=recolor(scene, layer, np.asarray(PALETTE[colour], np.float64)))


class Remove:
    spec = spec("remove")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        from baselines.tools.classical.flat_scene import erase

        scene, layer, problem = _layer(ws, str(arguments["region"]))
        if problem:
            return problem
        _follow(ws, str(arguments["region"]), None, left=layer.footprint)
        return ToolResult(ok=True, image=erase(scene, scene.image, layer))


class Move:
    spec = spec("move")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        from baselines.tools.classical.flat_scene import place

        point = _point(ws, arguments["to"])
        if point is None:
            return ToolResult.failure(f"unknown position {arguments['to']!r}", invalid=True)
        scene, layer, problem = _layer(ws, str(arguments["region"]))
        if problem:
            return problem
        moved = replace(layer.obj, x=point[0], y=point[1])
        _follow(ws, str(arguments["region"]), moved, left=layer.footprint)
        return ToolResult(ok=True, image=place(scene, layer, moved))


class Resize:
    spec = spec("resize")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        from baselines.tools.classical.flat_scene import place, resized
        from harness.suites.synth_edit.palette import SIZES

        size = arguments.get("size")
        size = SIZE_WORDS.get(str(size).lower(), size) if size is not None else None
        if size is not None and size not in SIZES:
            return ToolResult.failure(f"unknown size {size!r} (known: {', '.join(SIZES)})", invalid=True)
        scene, layer, problem = _layer(ws, str(arguments["region"]))
        if problem:
            return problem
        new = resized(scene, layer, size, arguments.get("scale"))
        _follow(ws, str(arguments["region"]), new)
        return ToolResult(ok=True, image=place(scene, layer, new))


class Replace:
    spec = spec("replace")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        from baselines.tools.classical.flat_scene import place, reshaped
        from harness.suites.synth_edit.palette import SHAPES

        shape = str(arguments["object"]).lower().split()[-1]
        if shape not in SHAPES:
            return ToolResult.failure(f"unknown shape {shape!r} (known: {', '.join(SHAPES)})", invalid=True)
        scene, layer, problem = _layer(ws, str(arguments["region"]))
        if problem:
            return problem
        new = reshaped(scene, layer, shape)
        _follow(ws, str(arguments["region"]), new)
        return ToolResult(ok=True, image=place(scene, layer, new))


class Swap:
    spec = spec("swap")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        from baselines.tools.classical.flat_scene import swap

        scene, first, problem = _layer(ws, str(arguments["region"]))
        if problem:
            return problem
        _, second, problem = _layer(ws, str(arguments["other"]))
        if problem:
            return problem
        if first is second:
            return ToolResult.failure("cannot swap an object with itself", invalid=True)
        region, other = str(arguments["region"]), str(arguments["other"])
        _follow(ws, region, replace(first.obj, x=second.obj.x, y=second.obj.y))
        _follow(ws, other, replace(second.obj, x=first.obj.x, y=first.obj.y))
        return ToolResult(ok=True, image=swap(scene, first, second))


class AddObject:
    spec = spec("add_object")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        from baselines.tools.classical.flat_scene import add, object_spec
        from harness.suites.synth_edit.palette import PALETTE, SHAPES, SIZES

        words = words_of(str(arguments["object"]))
        shape = next((w for w in words if w in SHAPES), None)
        colour = next((w for w in words if w in PALETTE), None)
        size = next((SIZE_WORDS[w] for w in words if w in SIZE_WORDS and SIZE_WORDS[w] in SIZES), "medium")
        if shape is None or colour is None:
            return ToolResult.failure(
                f"cannot read a colour and a shape from {arguments['object']!r}", invalid=True
            )
        point = _point(ws, arguments.get("position", "center"))
        if point is None:
            return ToolResult.failure(f"unknown position {arguments.get('position')!r}", invalid=True)
        scene = _scene(ws)
        obj = object_spec(scene, shape, colour, size, point[0], point[1])
        image = add(scene, obj)
        from harness.suites.synth_edit.render import object_mask

        footprint = object_mask(obj, ws.width, ws.height)
        region = ws.add_region(
            f"{colour} {shape}",
            mask_box(footprint),
            mask_id=ws.add_mask(footprint),
            attributes={"shape": shape, "color": colour, "size": size},
        )
        return ToolResult(ok=True, image=image, output={"region": region.describe()})


class SetBackground:
    spec = spec("set_background")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        from baselines.tools.classical.flat_scene import set_background

        background = _background(str(arguments["description"]))
        if background is None:
            return ToolResult.failure(
                f"cannot read a background from {arguments['description']!r}", invalid=True
            )
        image = set_background(_scene(ws), background)
        ws.context["_background_changed"] = True
        return ToolResult(ok=True, image=image)


class GlobalAdjust:
    spec = spec("global_adjust")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        from harness.suites.photo_ops.ops import OPS, apply_step

        op = str(arguments["op"])
        if op not in OPS:
            return ToolResult.failure(f"unknown op {op!r} (known: {', '.join(sorted(OPS))})", invalid=True)
        try:
            return ToolResult(
                ok=True, image=apply_step(ws.image, {"op": op, "args": dict(arguments["params"])})
            )
        except (TypeError, ValueError) as exc:
            return ToolResult.failure(f"{op}: {exc}", invalid=True)


def _background(text: str) -> Any:
    from harness.suites.synth_edit.palette import BACKGROUND_COLOURS, GRADIENT_DIRECTIONS, TEXTURES
    from harness.suites.synth_edit.scene import Background

    lowered = text.lower().strip()
    for texture in TEXTURES:
        if texture in lowered:
            return Background(kind="texture", texture=texture)
    names = sorted(BACKGROUND_COLOURS, key=len, reverse=True)
    direction = next((d for d in GRADIENT_DIRECTIONS if d in lowered), None)
    if direction and " to " in lowered:
        first, _, second = lowered.partition(" to ")
        c1 = next((n for n in names if n in first), None)
        c2 = next((n for n in names if n in second), None)
        if c1 and c2:
            return Background(kind="gradient", colour=c1, colour2=c2, direction=direction)
    colour = next((n for n in names if lowered.endswith(n)), None)
    return Background(kind="plain", colour=colour) if colour else None


def _attribute_words() -> frozenset[str]:
    from harness.suites.synth_edit.palette import COLOURS, SHAPES, SIZES

    return frozenset({*COLOURS, *SHAPES, *SIZES})


_ATTRIBUTE_WORDS = _attribute_words()
FLAT_SCENE_TOOLS = (
    Ground,
    Recolor,
    Remove,
    Move,
    Resize,
    Replace,
    Swap,
    AddObject,
    SetBackground,
    GlobalAdjust,
)
