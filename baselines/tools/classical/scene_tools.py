"""Classical grounding, segmentation and synthesis tools for flat-colour scenes.

``ground`` reads the image into object layers (``flat_scene``), parses the query with the rule
grammar (``referring``) and resolves it with the synth-edit resolver; ``segment`` hands out the
parser's exact masks; the synthesis tools edit pixels exactly and fill vacated pixels with the
background model (or biharmonic inpainting where no model fits).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from baselines.tools.calls import ToolResult
from baselines.tools.classical import flat_scene as fs
from baselines.tools.classical.referring import SIZE_WORDS, parse_reference, words_of
from baselines.tools.specs import NAMED_POSITIONS, spec
from baselines.tools.workspace import Workspace, mask_box
from harness.images import image_hash
from harness.suites.synth_edit.palette import BACKGROUND_COLOURS, COLOURS, PALETTE, SHAPES, TEXTURES
from harness.suites.synth_edit.referring import ReferenceError, resolve
from harness.suites.synth_edit.scene import Background, Scene, SceneObject

PARSER_MASKS = "_parser_masks"


def read_scene(ws: Workspace) -> fs.FlatScene:
    """The current image as layers, cached per image content."""
    key = image_hash(ws.image)
    cached = ws.context.get("_flat_scene")
    if cached is None or cached[0] != key:
        cached = (key, fs.read_flat_scene(ws.image))
        ws.context["_flat_scene"] = cached
    return cached[1]


def layer_at(ws: Workspace, handle: str) -> tuple[fs.FlatScene, fs.Layer] | ToolResult:
    mask = ws.mask_for(handle)
    if mask is None:
        return ToolResult.failure(f"unknown region or mask '{handle}'", invalid=True)
    if not mask.any():
        return ToolResult.failure(f"'{handle}' is an empty mask")
    scene = read_scene(ws)
    layer = scene.layer_for_mask(mask)
    if layer is None:
        return ToolResult.failure(f"no flat-coloured object inside '{handle}'")
    return scene, layer


def position_px(ws: Workspace, position: Any) -> tuple[float, float] | ToolResult:
    if isinstance(position, str) and position in NAMED_POSITIONS + ("centre",):
        return fs.named_position(position, ws.width, ws.height)
    if isinstance(position, str):
        region = ws.regions.get(position)
        if region is not None and "centroid" in region.attributes:
            cx, cy = region.attributes["centroid"]
            return cx * ws.width, cy * ws.height
        mask = ws.mask_for(position)
        if mask is None or not mask.any():
            return ToolResult.failure(f"unknown or empty region '{position}'", invalid=mask is None)
        rows, cols = np.nonzero(mask)
        return float(cols.mean() + 0.5), float(rows.mean() + 0.5)
    x, y = position
    return float(x) * ws.width, float(y) * ws.height


def _ok(image: np.ndarray, **output: Any) -> ToolResult:
    return ToolResult(ok=True, output=output, image=image)


class ParserGround:
    """ground(query): objects a referring expression denotes, with exact masks and attributes."""

    spec = spec("ground")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        query = str(arguments["query"])
        words = words_of(query)
        if words and words[0] not in ("the", "every", "all", "each", "everything"):
            words = ["the", *words]
        reference = parse_reference(words)
        if reference is None:
            return ToolResult.failure(f"cannot read '{query}' as a reference to objects")
        scene = read_scene(ws)
        world = Scene(ws.width, ws.height, scene.background, scene.objects())
        try:
            found = resolve_reference(world, reference.ref)
        except (ReferenceError, KeyError) as exc:
            return ToolResult.failure(f"cannot resolve '{query}': {exc}")
        if not found:
            return ToolResult.failure(f"no object matches '{query}'")
        by_id = {layer.obj.id: layer for layer in scene.layers}
        masks = ws.context.setdefault(PARSER_MASKS, {})
        regions = []
        for obj in found[: int(arguments["max_regions"])]:
            layer = by_id[obj.id]
            attributes = {
                "shape": obj.shape,
                "color": obj.colour,
                "size": obj.size,
                "centroid": [round(obj.x / ws.width, 5), round(obj.y / ws.height, 5)],
            }
            region = ws.add_region(query, mask_box(layer.footprint), attributes=attributes)
            masks[region.id] = layer.footprint
            regions.append(region.describe())
        return ToolResult(ok=True, output={"regions": regions, "total": len(found)})


def resolve_reference(world: Scene, ref: Mapping[str, Any]) -> list[SceneObject]:
    """Objects ``ref`` denotes, left to right; ``quantified`` refs are resolved here."""
    if ref.get("type") != "quantified":
        return resolve(world, ref)
    chosen = [o for o in world.objects if _matches(o, ref.get("filter"))]
    if ref.get("not"):
        chosen = [o for o in chosen if not _matches(o, ref["not"])]
    if ref.get("except"):
        excluded = {o.id for o in resolve_reference(world, ref["except"])}
        chosen = [o for o in chosen if o.id not in excluded]
    if ref.get("half"):
        side = ref["half"]
        half = {"left": lambda o: o.x < world.width / 2, "right": lambda o: o.x >= world.width / 2}
        half |= {"top": lambda o: o.y < world.height / 2, "bottom": lambda o: o.y >= world.height / 2}
        chosen = [o for o in chosen if half[side](o)]
    return sorted(chosen, key=lambda o: (o.x, o.y))


def _matches(obj: SceneObject, attr: Mapping[str, Any] | None) -> bool:
    if not attr:
        return True
    return all(attr.get(key) in (None, getattr(obj, key)) for key in ("shape", "colour", "size"))


class ParserSegment:
    """segment(region): the parser's exact mask of a grounded object."""

    spec = spec("segment")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        region_id = arguments["region"]
        region = ws.regions.get(region_id)
        if region is None:
            return ToolResult.failure(f"unknown region '{region_id}'", invalid=True)
        mask = ws.context.get(PARSER_MASKS, {}).get(region_id)
        if mask is None:  # a box from another grounder: take the object under it
            found = layer_at(ws, region_id)
            if isinstance(found, ToolResult):
                return found
            mask = found[1].footprint
        mask_id = ws.add_mask(mask)
        region.mask_id = mask_id
        return ToolResult(ok=True, output={"mask": mask_id, "area": round(float(mask.mean()), 5)})


class RefineMask:
    spec = spec("refine_mask")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        mask = ws.mask_for(arguments["mask"])
        if mask is None:
            return ToolResult.failure(f"unknown mask '{arguments['mask']}'", invalid=True)
        op, px = arguments["op"], int(arguments["px"])
        if op in ("union", "subtract"):
            other = ws.mask_for(str(arguments.get("other", "")))
            if other is None:
                return ToolResult.failure(f"{op} needs 'other', a known mask or region", invalid=True)
            result = mask | other if op == "union" else mask & ~other
        elif op == "invert":
            result = ~mask
        else:
            result = fs.grow(mask, px if op == "dilate" else -px)
        mask_id = ws.add_mask(result)
        return ToolResult(ok=True, output={"mask": mask_id, "area": round(float(result.mean()), 5)})


def _colour(name: str) -> np.ndarray | None:
    key = name.strip().lower()
    if key in PALETTE:
        return np.asarray(PALETTE[key], dtype=np.float64)
    if key.startswith("#") and len(key) == 7:
        try:
            return np.asarray([int(key[i : i + 2], 16) for i in (1, 3, 5)], dtype=np.float64)
        except ValueError:
            return None
    return None


class FlatRecolor:
    spec = spec("recolor")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        rgb = _colour(str(arguments["color"]))
        if rgb is None:
            return ToolResult.failure(
                f"unknown colour '{arguments['color']}' (known: {', '.join(COLOURS)}, #rrggbb)"
            )
        found = layer_at(ws, arguments["region"])
        if isinstance(found, ToolResult):
            return found
        scene, layer = found
        return _ok(fs.recolor(scene, layer, rgb), recolored=layer.obj.colour + " -> " + arguments["color"])


class FlatRemove:
    spec = spec("remove")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        found = layer_at(ws, arguments["region"])
        if isinstance(found, ToolResult):
            return found
        scene, layer = found
        fill = "background model" if scene.background_fits else "biharmonic inpainting"
        return _ok(
            fs.erase(scene, scene.image, layer), removed=f"{layer.obj.colour} {layer.obj.shape}", fill=fill
        )


def parse_object(text: str) -> tuple[str | None, str | None, str | None]:
    """(shape, colour, size) named in 'small red star' style text."""
    words = words_of(text)
    shape = next((w for w in words if w in SHAPES), None)
    colour = next((w for w in words if w in COLOURS), None)
    size = next((SIZE_WORDS[w] for w in words if w in SIZE_WORDS), None)
    return shape, colour, size


class FlatAddObject:
    spec = spec("add_object")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        shape, colour, size = parse_object(str(arguments["object"]))
        if shape is None or colour is None:
            return ToolResult.failure(
                f"'{arguments['object']}' names no shape and colour (e.g. 'small red star')"
            )
        if "box" in arguments:
            x0, y0, x1, y1 = arguments["box"]
            where: tuple[float, float] | ToolResult = ((x0 + x1) / 2 * ws.width, (y0 + y1) / 2 * ws.height)
        elif "position" in arguments:
            where = position_px(ws, arguments["position"])
        else:
            return ToolResult.failure("add_object needs a position or a box", invalid=True)
        if isinstance(where, ToolResult):
            return where
        scene = read_scene(ws)
        obj = fs.object_spec(scene, shape, colour, size or "medium", where[0], where[1])
        return _ok(fs.add(scene, obj), added=f"{obj.size} {colour} {shape}", at=[round(v, 1) for v in where])


class FlatMove:
    spec = spec("move")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        found = layer_at(ws, arguments["region"])
        if isinstance(found, ToolResult):
            return found
        where = position_px(ws, arguments["to"])
        if isinstance(where, ToolResult):
            return where
        scene, layer = found
        moved = _replace(layer.obj, x=where[0], y=where[1])
        return _ok(fs.place(scene, layer, moved), moved_to=[round(v, 1) for v in where])


def _replace(obj: SceneObject, **changes: Any) -> SceneObject:
    from dataclasses import replace

    return replace(obj, **changes)


class FlatResize:
    spec = spec("resize")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        size = arguments.get("size")
        if size is not None and size not in SIZE_WORDS:
            return ToolResult.failure(f"unknown size '{size}' (known: small, medium, large)")
        if size is None and "scale" not in arguments:
            return ToolResult.failure("resize needs a size or a scale", invalid=True)
        found = layer_at(ws, arguments["region"])
        if isinstance(found, ToolResult):
            return found
        scene, layer = found
        new = fs.resized(scene, layer, size=SIZE_WORDS[size] if size else None, scale=arguments.get("scale"))
        return _ok(fs.place(scene, layer, new), size=new.size)


class FlatReplace:
    spec = spec("replace")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        shape, colour, _ = parse_object(str(arguments["object"]))
        if shape is None:
            return ToolResult.failure(f"'{arguments['object']}' names no shape ({', '.join(SHAPES)})")
        found = layer_at(ws, arguments["region"])
        if isinstance(found, ToolResult):
            return found
        scene, layer = found
        new = fs.reshaped(scene, layer, shape)
        image = fs.place(scene, layer, new)
        if colour:
            layer = _replace_layer_colour(layer, colour)
            image = fs.place(scene, layer, new)
        return _ok(image, replaced_with=shape)


def _replace_layer_colour(layer: fs.Layer, colour: str) -> fs.Layer:
    from dataclasses import replace

    return replace(layer, rgb=np.asarray(PALETTE[colour], dtype=np.float64))


class FlatSwap:
    spec = spec("swap")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        first = layer_at(ws, arguments["region"])
        if isinstance(first, ToolResult):
            return first
        second = layer_at(ws, arguments["other"])
        if isinstance(second, ToolResult):
            return second
        if first[1] is second[1]:
            return ToolResult.failure("cannot swap an object with itself")
        return _ok(fs.swap(first[0], first[1], second[1]), swapped=[arguments["region"], arguments["other"]])


def parse_background(text: str) -> Background | None:
    words = " ".join(words_of(text))
    for texture in TEXTURES:
        if texture in words:
            return Background("texture", texture=texture)
    names = sorted(BACKGROUND_COLOURS, key=len, reverse=True)
    found = []
    rest = words
    for name in names:
        while name in rest:
            found.append((words.find(name), name))
            rest = rest.replace(name, " " * len(name), 1)
    found = [name for _, name in sorted(found)]
    if "gradient" in words and len(found) >= 2:
        direction = next((d for d in ("horizontal", "vertical", "diagonal") if d in words), "horizontal")
        return Background("gradient", found[0], found[1], direction)
    if found:
        return Background("plain", found[0])
    return None


class FlatSetBackground:
    spec = spec("set_background")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        background = parse_background(str(arguments["description"]))
        if background is None:
            known = ", ".join(BACKGROUND_COLOURS)
            return ToolResult.failure(
                f"cannot read background '{arguments['description']}' (colours: {known}; gradients; textures)"
            )
        scene = read_scene(ws)
        return _ok(fs.set_background(scene, background), background=background.describe())


class BackgroundInpaint:
    """inpaint(region, prompt=''): fills the region with background; a prompt needs a learned inpainter."""

    spec = spec("inpaint")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        if str(arguments.get("prompt", "")).strip():
            return ToolResult.failure(
                "the classical inpainter only fills with background; give an empty prompt"
            )
        mask = ws.mask_for(arguments["region"])
        if mask is None:
            return ToolResult.failure(f"unknown region '{arguments['region']}'", invalid=True)
        if not mask.any():
            return ToolResult.failure(f"'{arguments['region']}' is an empty mask")
        scene = read_scene(ws)
        filled = (
            fs.fill_background(ws.image.astype(np.float64), mask)
            if not scene.background_fits
            else scene.background_rgb
        )
        out = ws.image.copy()
        out[mask] = np.clip(np.rint(filled[mask]), 0, 255).astype(np.uint8)
        return _ok(out, filled_pixels=int(mask.sum()))


SCENE_TOOLS = (
    ParserGround,
    ParserSegment,
    RefineMask,
    FlatRecolor,
    FlatRemove,
    FlatAddObject,
    FlatMove,
    FlatResize,
    FlatReplace,
    FlatSwap,
    FlatSetBackground,
    BackgroundInpaint,
)
