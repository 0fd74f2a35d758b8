"""decompose-then-edit: plan -> keep the planner's order -> ground -> segment -> synthesise, once
per sub-edit, no verification and no retries (ImageEdit-R1's agents without RL).
``classic-pipeline`` is the same pipeline on the classical tools, runnable offline."""

from __future__ import annotations

from baselines.pipelines.base import PipelineEditor
from baselines.pipelines.execution import SubEditRunner
from baselines.tools.plans import SubEdit
from baselines.tools.workspace import Workspace


class DecomposeThenEditEditor(PipelineEditor):
    name = "decompose-then-edit"
    default_tools = "learned"

    def execute(self, ws: Workspace, plan: list[SubEdit]) -> list[str]:
        runner = SubEditRunner(self.toolbox)
        failures = []
        for index, sub in enumerate(plan, start=1):
            ws.context["before_subedit"] = ws.image
            outcome = runner.run(ws, sub)
            if not outcome.ok:
                failures.append(f"sub-edit {index} ({sub.action} {sub.subject!r}): {outcome.reason}")
        return failures


class ClassicPipelineEditor(DecomposeThenEditEditor):
    name = "classic-pipeline"
    default_tools = "classical"
    failures_are_final = True  # classical tools are deterministic: the same inputs fail the same way
