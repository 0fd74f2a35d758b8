"""``Toolbox``: tool names to implementations, with schema validation and history recording.

Any object with a ``spec`` (ToolSpec) and ``run(workspace, arguments) -> ToolResult`` is a tool;
classical and learned implementations of the same name are interchangeable. ``Toolbox.call``
never raises for a bad call or a failing tool: it returns a failed ``ToolResult`` and records
the step in the workspace history.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np

from baselines.tools.calls import ToolCall, ToolResult, ToolSpec
from baselines.tools.schema import validate_arguments
from baselines.tools.specs import spec
from baselines.tools.workspace import HistoryEntry, Workspace
from harness.types import TraceStep


@runtime_checkable
class Tool(Protocol):
    spec: ToolSpec

    def run(self, workspace: Workspace, arguments: Mapping[str, Any]) -> ToolResult: ...


class UndoTool:
    spec = spec("undo")
    smoke = False

    def run(self, workspace: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        if not workspace.undo():
            return ToolResult.failure("nothing to undo")
        return ToolResult(ok=True, output={"undone": True})


class FinishTool:
    spec = spec("finish")
    smoke = False

    def run(self, workspace: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        workspace.finished = True
        return ToolResult(ok=True, output={"finished": True})


class Toolbox:
    """A set of tools by name. ``undo`` and ``finish`` are always present."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in (UndoTool(), FinishTool(), *tools):
            self.add(tool)

    def add(self, tool: Tool) -> None:
        """Add or replace the implementation of ``tool.spec.name``."""
        self._tools[tool.spec.name] = tool

    def names(self) -> list[str]:
        return sorted(self._tools)

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def get(self, name: str) -> Tool:
        return self._tools[name]

    def specs(self) -> list[ToolSpec]:
        return [self._tools[name].spec for name in self.names()]

    def openai_tools(self) -> list[dict[str, Any]]:
        """The tool list in OpenAI function-calling form, for a policy's prompt or an API."""
        return [s.as_openai_function() for s in self.specs()]

    @property
    def smoke(self) -> bool:
        """True when any tool computes with random (test) weights."""
        return any(getattr(tool, "smoke", False) for tool in self._tools.values())

    def fingerprint(self) -> dict[str, Any]:
        entries = {}
        for name, tool in sorted(self._tools.items()):
            describe = getattr(tool, "fingerprint", None)
            entries[name] = describe() if callable(describe) else {"impl": type(tool).__qualname__}
        return entries

    def call(self, workspace: Workspace, call: ToolCall) -> ToolResult:
        """Validate and run one call, update the workspace image and record the step."""
        start = time.perf_counter()
        result = self._run(workspace, call)
        if result.ok and result.image is not None:
            problem = _image_problem(result.image, workspace.image)
            if problem:
                result = ToolResult.failure(f"{call.name} returned a bad image: {problem}")
            else:
                workspace.set_image(result.image)
        if not result.ok and not result.error:
            result.error = f"{call.name} failed without a reason"
        entry = workspace.record(call, result, time.perf_counter() - start)
        entry.image = workspace.image
        return result

    def _run(self, workspace: Workspace, call: ToolCall) -> ToolResult:
        tool = self._tools.get(call.name)
        if tool is None:
            return ToolResult.failure(
                f"unknown tool '{call.name}' (available: {', '.join(self.names())})", invalid=True
            )
        arguments, errors = validate_arguments(call.arguments, tool.spec.parameters)
        if errors:
            return ToolResult.failure("; ".join(errors), invalid=True)
        try:
            return tool.run(workspace, arguments)
        except Exception as exc:  # a failing tool is an observation, not a crash
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" ({frame.filename.rsplit('/', 1)[-1]}:{frame.lineno})" if frame else ""
            return ToolResult.failure(f"{call.name} raised {type(exc).__name__}: {exc}{where}")


def trace_step(entry: HistoryEntry) -> TraceStep:
    """A workspace history entry as a harness TraceStep (image = the image after the step)."""
    status = "invalid" if entry.invalid else ("ok" if entry.ok else "error")
    message = entry.error if not entry.ok else _short(entry.output)
    return TraceStep(
        tool=entry.call.name,
        arguments=dict(entry.call.arguments),
        status=status,
        seconds=entry.seconds,
        message=message,
        image=entry.image,
    )


def _short(output: Mapping[str, Any], limit: int = 500) -> str:
    import json

    text = json.dumps(output, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _image_problem(image: Any, current: np.ndarray) -> str:
    if not isinstance(image, np.ndarray):
        return f"expected a numpy array, got {type(image).__name__}"
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        return f"expected uint8 HxWx3, got {image.dtype} {image.shape}"
    if image.shape != current.shape:
        return f"size {image.shape[1]}x{image.shape[0]} differs from the workspace's {current.shape[1]}x{current.shape[0]}"
    return ""
