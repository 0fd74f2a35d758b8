"""The tool layer: one JSON-schema interface per capability (grounding, segmentation, synthesis,
planning, verification), a ``Workspace`` holding the episode state, and a ``Toolbox`` mapping
tool names to classical or learned implementations. See docs/TOOLS.md."""

from baselines.tools.calls import ToolCall, ToolCallParseError, ToolResult, ToolSpec, parse_tool_call
from baselines.tools.specs import SPECS, spec
from baselines.tools.toolbox import Tool, Toolbox, trace_step
from baselines.tools.workspace import HistoryEntry, Region, Workspace

__all__ = [
    "SPECS",
    "HistoryEntry",
    "Region",
    "Tool",
    "ToolCall",
    "ToolCallParseError",
    "ToolResult",
    "ToolSpec",
    "Toolbox",
    "Workspace",
    "parse_tool_call",
    "spec",
    "trace_step",
]
