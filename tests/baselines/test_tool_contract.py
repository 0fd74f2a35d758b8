"""The tool-call contract: schema validation, the toolbox's error handling and the workspace."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest

from baselines.tools import (
    SPECS,
    Toolbox,
    ToolCall,
    ToolCallParseError,
    ToolResult,
    Workspace,
    parse_tool_call,
    spec,
    trace_step,
)
from baselines.tools.schema import validate_arguments


class PaintRed:
    """A minimal recolor tool: paints the handle's mask pure red."""

    spec = spec("recolor")

    def run(self, workspace: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        mask = workspace.mask_for(arguments["region"])
        if mask is None:
            return ToolResult.failure(f"unknown region {arguments['region']}", invalid=True)
        image = workspace.image.copy()
        image[mask] = (255, 0, 0)
        return ToolResult(ok=True, output={"pixels": int(mask.sum())}, image=image)


class Exploding:
    spec = spec("remove")

    def run(self, workspace: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        raise RuntimeError("kaboom")


class WrongSize:
    spec = spec("inpaint")

    def run(self, workspace: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        return ToolResult(ok=True, image=np.zeros((3, 3, 3), np.uint8))


def _workspace() -> Workspace:
    ws = Workspace.start(np.zeros((8, 10, 3), np.uint8), instruction="paint it")
    ws.add_region("box", (0.0, 0.0, 0.5, 0.5))
    return ws


def test_every_spec_is_an_object_schema_with_known_capability() -> None:
    capabilities = {"planning", "grounding", "segmentation", "synthesis", "verification", "control"}
    for name, tool_spec in SPECS.items():
        assert tool_spec.name == name
        assert tool_spec.capability in capabilities
        assert tool_spec.parameters["type"] == "object"
        assert tool_spec.parameters["additionalProperties"] is False
        assert set(tool_spec.parameters["required"]) <= set(tool_spec.parameters["properties"])
        function = tool_spec.as_openai_function()
        assert function["type"] == "function" and function["function"]["name"] == name


def test_validation_reports_each_problem_and_fills_defaults() -> None:
    params = SPECS["ground"].parameters
    filled, errors = validate_arguments({"query": "red circle"}, params)
    assert errors == [] and filled == {"query": "red circle", "max_regions": 3}
    _, errors = validate_arguments({"max_regions": 0, "colour": "red"}, params)
    assert "arguments: missing required 'query'" in errors
    assert "arguments.max_regions: 0 is below the minimum 1" in errors
    assert any("unknown argument 'colour'" in e for e in errors)
    _, errors = validate_arguments({"region": "x1", "to": [0.5, 2.0]}, SPECS["move"].parameters)
    assert any("does not match" in e for e in errors)
    assert any("matches none of the allowed forms" in e for e in errors)
    _, errors = validate_arguments({"region": "r1", "to": "r2"}, SPECS["move"].parameters)
    assert errors == []
    _, errors = validate_arguments(["not", "an", "object"], params)
    assert errors == ["arguments must be a JSON object, got array"]


def test_toolbox_runs_a_tool_updates_the_image_and_records_history() -> None:
    ws = _workspace()
    box = Toolbox([PaintRed()])
    result = box.call(ws, ToolCall("recolor", {"region": "r1", "color": "red"}))
    assert result.ok and result.output == {"pixels": 4 * 5}
    assert ws.image[0, 0].tolist() == [255, 0, 0] and ws.image[7, 9].tolist() == [0, 0, 0]
    assert ws.source[0, 0].tolist() == [0, 0, 0]
    step = trace_step(ws.history[-1])
    assert step.tool == "recolor" and step.status == "ok" and step.seconds >= 0
    assert step.image is not None and step.image[0, 0].tolist() == [255, 0, 0]
    assert box.call(ws, ToolCall("undo")).ok
    assert ws.image[0, 0].tolist() == [0, 0, 0]
    assert not box.call(ws, ToolCall("undo")).ok  # nothing left to undo


@pytest.mark.parametrize(
    ("call", "invalid", "fragment"),
    [
        (ToolCall("paint", {}), True, "unknown tool 'paint'"),
        (ToolCall("recolor", {"region": "r1"}), True, "missing required 'color'"),
        (ToolCall("recolor", {"region": "r9", "color": "red"}), True, "unknown region r9"),
        (ToolCall("remove", {"region": "r1"}), False, "remove raised RuntimeError: kaboom"),
        (ToolCall("inpaint", {"region": "r1"}), False, "differs from the workspace's 10x8"),
    ],
)
def test_bad_calls_and_failing_tools_become_recorded_failures(
    call: ToolCall, invalid: bool, fragment: str
) -> None:
    ws = _workspace()
    before = ws.image.copy()
    result = Toolbox([PaintRed(), Exploding(), WrongSize()]).call(ws, call)
    assert not result.ok and result.invalid is invalid and fragment in result.error
    assert np.array_equal(ws.image, before)
    step = trace_step(ws.history[-1])
    assert step.status == ("invalid" if invalid else "error") and fragment in step.message


def test_parse_tool_call_accepts_plain_and_openai_forms() -> None:
    assert parse_tool_call('{"name": "ground", "arguments": {"query": "star"}}') == ToolCall(
        "ground", {"query": "star"}
    )
    openai = '{"function": {"name": "segment", "arguments": "{\\"region\\": \\"r1\\"}"}}'
    assert parse_tool_call(openai) == ToolCall("segment", {"region": "r1"})
    for text in ("ground(star)", '{"arguments": {}}', '{"name": "x", "arguments": [1]}'):
        with pytest.raises(ToolCallParseError):
            parse_tool_call(text)


def test_workspace_masks_by_handle() -> None:
    ws = _workspace()
    assert ws.mask_for("r1").sum() == 20 and ws.mask_for("r7") is None
    exact = np.zeros((8, 10), bool)
    exact[1, 1] = True
    mask_id = ws.add_mask(exact)
    region = ws.add_region("dot", (0.1, 0.125, 0.2, 0.25), mask_id=mask_id)
    assert (mask_id, region.id) == ("m1", "r2")
    assert ws.mask_for("r2").sum() == 1 and ws.mask_for("m1").sum() == 1
    summary = ws.summary()
    assert [r["id"] for r in summary["regions"]] == ["r1", "r2"] and summary["regions"][1]["mask"] == "m1"
