"""The tool-call contract shared by the fixed pipelines and the ImageEdit-R1 policy.

A tool is described by a ``ToolSpec`` (OpenAI-function style: name, description, JSON-schema
parameters). A policy emits ``ToolCall(name, arguments)``; the toolbox answers with a
``ToolResult(ok, output, error, image)``: ``output`` is a JSON-able dict (the observation),
``image`` the new current image when the tool edited it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True)
class ToolSpec:
    """What a policy sees of a tool: its name, what it does and its JSON-schema parameters.

    ``capability`` groups tools (grounding, segmentation, synthesis, planning, verification,
    control) so one capability can be served by interchangeable implementations.
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    capability: str

    def as_openai_function(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }


@dataclass(frozen=True)
class ToolCall:
    """One call a planner or policy wants to make."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "arguments": dict(self.arguments)}, sort_keys=True)


@dataclass
class ToolResult:
    """The answer to a ``ToolCall``. ``ok=False`` always carries a one-line ``error``.

    ``invalid`` marks a call rejected before running (unknown tool, arguments that fail the
    schema, an unknown region id): a policy error, penalised in RL, unlike a tool failure.
    """

    ok: bool
    output: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    image: np.ndarray | None = None
    invalid: bool = False

    @classmethod
    def failure(cls, error: str, *, invalid: bool = False) -> ToolResult:
        return cls(ok=False, error=error, invalid=invalid)

    def observation(self) -> dict[str, Any]:
        """The JSON-able view a policy reads (no pixels)."""
        if self.ok:
            return {"ok": True, **self.output}
        return {"ok": False, "error": self.error}


class ToolCallParseError(ValueError):
    """Text that is not a ``{"name": ..., "arguments": {...}}`` object."""


def parse_tool_call(text: str) -> ToolCall:
    """Parse a policy's JSON text into a ToolCall; raise ToolCallParseError with the reason.

    Accepts ``{"name": "...", "arguments": {...}}`` and the OpenAI form whose ``arguments`` is a
    JSON string.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ToolCallParseError(f"not JSON: {exc.msg} at character {exc.pos}") from exc
    if isinstance(data, Mapping) and "function" in data and isinstance(data["function"], Mapping):
        data = data["function"]
    if not isinstance(data, Mapping) or not isinstance(data.get("name"), str):
        raise ToolCallParseError('a tool call is {"name": "<tool>", "arguments": {...}}')
    arguments = data.get("arguments", {})
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except json.JSONDecodeError as exc:
            raise ToolCallParseError(f"arguments are not JSON: {exc.msg}") from exc
    if not isinstance(arguments, Mapping):
        raise ToolCallParseError("arguments must be a JSON object")
    return ToolCall(data["name"], dict(arguments))
