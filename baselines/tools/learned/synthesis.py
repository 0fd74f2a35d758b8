"""Synthesis tools backed by any harness editor (diffusers, API): ``instruct_edit`` with an
instruction editor, and ``inpaint`` / ``remove`` / ``recolor`` / ``replace`` / ``add_object``
with an inpainting editor (prompted inpainting inside the mask). Edits are composited back inside
the mask, so pixels outside it are untouched."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from baselines.tools.calls import ToolResult
from baselines.tools.specs import spec
from baselines.tools.workspace import Workspace, box_mask
from harness.images import resize_to
from harness.types import EditRequest


def _run_editor(editor: Any, ws: Workspace, prompt: str, mask: np.ndarray | None) -> ToolResult:
    request = EditRequest(
        sample_id="tool", source=ws.image, instruction=prompt, mask=mask, seed=int(ws.context.get("seed", 0))
    )
    (result,) = editor.edit([request])
    if result.status != "ok" or result.image is None:
        return ToolResult.failure(f"{editor.name} {result.status}: {result.error or result.refusal_code}")
    image = resize_to(result.image, ws.image.shape[:2])
    if mask is not None:
        image = np.where(mask[..., None], image, ws.image)
    return ToolResult(ok=True, output={"editor": editor.name}, image=np.ascontiguousarray(image))


class _EditorTool:
    smoke_attr = "smoke"

    def __init__(self, editor: Any) -> None:
        self.editor = editor

    @property
    def smoke(self) -> bool:
        return bool(getattr(self.editor, "smoke", False))

    def fingerprint(self) -> dict[str, Any]:
        return {"impl": type(self).__name__, "editor": self.editor.fingerprint()}

    def _mask(self, ws: Workspace, handle: str) -> np.ndarray | ToolResult:
        mask = ws.mask_for(handle)
        if mask is None:
            return ToolResult.failure(f"unknown region or mask '{handle}'", invalid=True)
        if not mask.any():
            return ToolResult.failure(f"'{handle}' is an empty mask")
        return mask


class InstructEditTool(_EditorTool):
    spec = spec("instruct_edit")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        mask = None
        if "region" in arguments:
            mask = self._mask(ws, arguments["region"])
            if isinstance(mask, ToolResult):
                return mask
        return _run_editor(self.editor, ws, str(arguments["prompt"]), mask)


class InpaintTool(_EditorTool):
    spec = spec("inpaint")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        mask = self._mask(ws, arguments["region"])
        if isinstance(mask, ToolResult):
            return mask
        return _run_editor(self.editor, ws, str(arguments.get("prompt") or "background"), mask)


class InpaintRemove(_EditorTool):
    spec = spec("remove")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        mask = self._mask(ws, arguments["region"])
        if isinstance(mask, ToolResult):
            return mask
        return _run_editor(self.editor, ws, "empty background, nothing there", mask)


class InpaintRecolor(_EditorTool):
    spec = spec("recolor")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        mask = self._mask(ws, arguments["region"])
        if isinstance(mask, ToolResult):
            return mask
        region = ws.regions.get(arguments["region"])
        what = region.label if region else "object"
        return _run_editor(self.editor, ws, f"{what}, coloured {arguments['color']}", mask)


class InpaintReplace(_EditorTool):
    spec = spec("replace")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        mask = self._mask(ws, arguments["region"])
        if isinstance(mask, ToolResult):
            return mask
        return _run_editor(self.editor, ws, str(arguments["object"]), mask)


class InpaintAddObject(_EditorTool):
    spec = spec("add_object")

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        if "box" in arguments:
            box = tuple(arguments["box"])
        elif isinstance(arguments.get("position"), (list, tuple)):
            x, y = arguments["position"]
            box = (max(x - 0.1, 0), max(y - 0.1, 0), min(x + 0.1, 1), min(y + 0.1, 1))
        else:
            return ToolResult.failure(
                "the inpainting add_object needs a box or an [x, y] point", invalid=True
            )
        return _run_editor(self.editor, ws, str(arguments["object"]), box_mask(box, ws.height, ws.width))
