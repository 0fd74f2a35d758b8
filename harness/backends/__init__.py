"""Where edits and scores execute. The runner owns planning, records, cache and resume; an
executor only runs ``Editor.edit`` and ``Metric.score`` calls, in-process (``local``) or on a Ray
cluster (``ray``), so every backend writes the same records."""

from __future__ import annotations

from typing import Any, Protocol

from harness.types import EditRequest, EditResult, ScoreInput, ScoreRecord

BACKENDS = {
    "local": "harness.backends:LocalExecutor",
    "ray": "harness.backends.ray_backend:RayExecutor",
}


class Executor(Protocol):
    def edit(self, editor_name: str, requests: list[EditRequest]) -> list[EditResult]: ...

    def score(self, metric_name: str, inputs: list[ScoreInput]) -> list[ScoreRecord]: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Runs everything in this process, on the plan's live editor and metric objects."""

    def __init__(self, plan: Any, **_: Any) -> None:
        self.plan = plan

    def edit(self, editor_name: str, requests: list[EditRequest]) -> list[EditResult]:
        return list(self.plan.editors[editor_name].edit(requests))

    def score(self, metric_name: str, inputs: list[ScoreInput]) -> list[ScoreRecord]:
        return list(self.plan.metrics[metric_name].score(inputs))

    def close(self) -> None:
        pass


def make_executor(name: str, plan: Any, **options: Any) -> Executor:
    from harness.registry import _resolve

    if name not in BACKENDS:
        raise ValueError(f"unknown backend '{name}' (choose from {', '.join(BACKENDS)})")
    return _resolve(BACKENDS[name])(plan, **options)
