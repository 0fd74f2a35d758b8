"""Fixed multi-agent pipelines as harness editors: a toolbox, a workspace per request, and a trace
of every tool call (with the image after it) in ``EditResult.trace``."""

from __future__ import annotations

from typing import Any, ClassVar

from baselines.tools.calls import ToolCall
from baselines.tools.plans import SubEdit
from baselines.tools.toolbox import Toolbox, trace_step
from baselines.tools.workspace import Workspace
from harness.protocols import BaseEditor, EditorCapabilities
from harness.types import EditRequest, EditResult, Usage

TOOLSETS = ("classical", "learned")


def build_toolbox(tools: str, options: dict[str, Any] | None = None) -> Toolbox:
    if tools == "classical":
        from baselines.tools.classical import classical_toolbox

        return classical_toolbox()
    if tools == "learned":
        from baselines.tools.learned.toolbox import learned_toolbox

        return learned_toolbox(**(options or {}))
    raise ValueError(f"unknown toolset {tools!r}; expected one of {', '.join(TOOLSETS)}")


class PipelineEditor(BaseEditor):
    """Subclasses implement ``execute(ws, plan) -> list[str]`` (failure reasons, empty when done)."""

    version = "1"
    default_tools: ClassVar[str] = "classical"
    capabilities = EditorCapabilities(seeded=False)

    def __init__(
        self,
        arg: str | None = None,
        *,
        tools: str | None = None,
        toolbox: Toolbox | None = None,
        **options: Any,
    ) -> None:
        self.tools = tools or arg or self.default_tools
        if self.tools not in TOOLSETS:
            raise ValueError(f"unknown toolset {self.tools!r}; expected one of {', '.join(TOOLSETS)}")
        self.options = options
        self._toolbox = toolbox

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        tools = arg or cls.default_tools
        if tools == "classical":
            return None
        if tools != "learned":
            return f"unknown toolset {tools!r}; use {cls.name}:classical or {cls.name}:learned"
        from baselines.tools.learned.toolbox import learned_unavailable_reason

        return learned_unavailable_reason()

    @property
    def toolbox(self) -> Toolbox:
        if self._toolbox is None:
            self._toolbox = build_toolbox(self.tools, self.options.get("tool_options"))
        return self._toolbox

    def config(self) -> dict[str, Any]:
        plain = {k: v for k, v in self.options.items() if k != "tool_options"}
        return {"tools": self.tools, "toolbox": self.toolbox.fingerprint(), **plain}

    def edit_one(self, request: EditRequest) -> EditResult:
        ws = Workspace.start(request.source, instruction=request.instruction, seed=request.seed)
        failures: list[str] = []
        planned = self.toolbox.call(ws, ToolCall("plan", {"instruction": request.instruction}))
        if not planned.ok:
            failures.append(f"plan: {planned.error}")
        else:
            plan = [SubEdit(**item) for item in planned.output["subedits"]]
            failures = self.execute(ws, plan)
        return self._finish(ws, failures)

    def edit_with_plan(self, request: EditRequest, plan: list[SubEdit]) -> EditResult:
        """Execute a plan made elsewhere (no ``plan`` call), as ``edit_one`` executes its own."""
        ws = Workspace.start(request.source, instruction=request.instruction, seed=request.seed)
        return self._finish(ws, self.execute(ws, plan))

    def _finish(self, ws: Workspace, failures: list[str]) -> EditResult:
        self.toolbox.call(ws, ToolCall("finish", {}))
        trace = [trace_step(entry) for entry in ws.history]
        usage = Usage(calls=len(ws.history), seconds=sum(step.seconds for step in trace))
        smoke = self.toolbox.smoke
        if failures:
            return EditResult(
                status="error",
                image=ws.image,
                error="; ".join(failures),
                usage=usage,
                trace=trace,
                smoke=smoke,
            )
        return EditResult(status="ok", image=ws.image, usage=usage, trace=trace, smoke=smoke)

    def execute(self, ws: Workspace, plan: list[SubEdit]) -> list[str]:
        raise NotImplementedError
