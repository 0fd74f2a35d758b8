"""genartist-style: plan, then per sub-edit ground -> segment -> edit -> verify; a failed or
unverified sub-edit is undone and retried on the next grounding candidate, up to ``retries``
times (after GenArtist, Wang et al. 2024: step-wise verification and self-correction)."""

from __future__ import annotations

import numpy as np

from baselines.pipelines.base import PipelineEditor
from baselines.pipelines.execution import SubEditRunner
from baselines.tools.calls import ToolCall
from baselines.tools.plans import SubEdit
from baselines.tools.workspace import Workspace


class GenArtistStyleEditor(PipelineEditor):
    name = "genartist-style"
    default_tools = "classical"

    @property
    def retries(self) -> int:
        return int(self.options.get("retries", 2))

    def execute(self, ws: Workspace, plan: list[SubEdit]) -> list[str]:
        runner = SubEditRunner(self.toolbox)
        failures = []
        for index, sub in enumerate(plan, start=1):
            reason = self._attempt(ws, runner, sub)
            if reason:
                failures.append(f"sub-edit {index} ({sub.action} {sub.subject!r}): {reason}")
        return failures

    def _attempt(self, ws: Workspace, runner: SubEditRunner, sub: SubEdit) -> str:
        before = ws.image
        ws.context["before_subedit"] = before
        outcome = runner.run(ws, sub)
        reason = outcome.reason if not outcome.ok else self._verify(ws, sub)
        if not reason:
            return ""
        singular = sub.action not in ("add", "background", "global_adjust", "instruct_edit")
        candidates = runner.candidates(ws, sub.subject) if singular else []
        tried = set(outcome.regions)
        for candidate in [c for c in candidates if isinstance(c, dict)][1 : 1 + self.retries]:
            self._restore(ws, before)
            if candidate["id"] in tried:
                continue
            tried.add(candidate["id"])
            outcome = runner.run(ws, sub, region=candidate)
            reason = outcome.reason if not outcome.ok else self._verify(ws, sub)
            if not reason:
                return ""
        return reason

    def _verify(self, ws: Workspace, sub: SubEdit) -> str:
        result = self.toolbox.call(ws, ToolCall("verify", {"subedit": sub.to_dict()}))
        if not result.ok:
            return f"verify: {result.error}"
        return (
            "" if result.output.get("passed") else f"verification failed: {result.output.get('message', '')}"
        )

    def _restore(self, ws: Workspace, before: np.ndarray) -> None:
        for _ in range(32):
            if ws.image is before or np.array_equal(ws.image, before):
                return
            if not self.toolbox.call(ws, ToolCall("undo", {})).ok:
                return
