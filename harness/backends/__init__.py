"""Where edits and scores execute. The runner owns planning, records, cache and resume; an
executor only runs ``Editor.edit`` and ``Metric.score`` calls, in-process (``local``) or on a Ray
cluster (``ray``), so every backend writes the same records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from harness.types import EditRequest, EditResult, ScoreInput, ScoreRecord

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

BACKENDS = {
    "local": "harness.backends:LocalExecutor",
    "ray": "harness.backends.ray_backend:RayExecutor",
}


class Pending(Protocol[T_co]):
    """A submitted call: ``result()`` waits for it and returns one item per input, in order, or
    raises what the call raised."""

    def result(self) -> list[T_co]: ...


class Executor(Protocol):
    #: True when submitted calls run while the runner does other work (the runner then keeps the
    #: next batch's edits in flight); False when a call runs only once its result is asked for.
    overlaps: bool

    def edit(self, editor_name: str, requests: list[EditRequest]) -> list[EditResult]: ...

    def score(self, metric_name: str, inputs: list[ScoreInput]) -> list[ScoreRecord]: ...

    def submit_edit(self, editor_name: str, requests: list[EditRequest]) -> Pending[EditResult]: ...

    def submit_score(self, metric_name: str, inputs: list[ScoreInput]) -> Pending[ScoreRecord]: ...

    def close(self) -> None: ...


class Done(Generic[T]):
    """A call whose results are already known."""

    def __init__(self, results: list[T]) -> None:
        self._results = results

    def result(self) -> list[T]:
        return self._results


class Deferred(Generic[T]):
    """A call that runs in this thread when its result is first asked for."""

    def __init__(self, run: Callable[[], list[T]]) -> None:
        self._run = run

    def result(self) -> list[T]:
        return self._run()


# features (memo entries) one grouped prefetch computes at most: half of a backbone's memo, so none
# is evicted before the calls that read it have run
GROUPED_FEATURES = 2048


class LocalExecutor:
    """Runs everything in this process, on the plan's live editor and metric objects. A submitted
    call runs when its result is asked for, so the runner works batch after batch as before.

    Learned metrics submitted for a batch are grouped: when the first of them runs, the features
    of the queued learned calls (every metric and editor of the batch, up to ``GROUPED_FEATURES``)
    are computed together, so each shared backbone runs over the batch once, not once per metric."""

    overlaps = False

    def __init__(self, plan: Any, **_: Any) -> None:
        self.plan = plan
        self._queued: list[tuple[Any, list[ScoreInput]]] = []  # learned calls not yet prefetched

    def edit(self, editor_name: str, requests: list[EditRequest]) -> list[EditResult]:
        return list(self.plan.editors[editor_name].edit(requests))

    def score(self, metric_name: str, inputs: list[ScoreInput]) -> list[ScoreRecord]:
        return list(self.plan.metrics[metric_name].score(inputs))

    def submit_edit(self, editor_name: str, requests: list[EditRequest]) -> Pending[EditResult]:
        return Deferred(lambda: self.edit(editor_name, requests))

    def submit_score(self, metric_name: str, inputs: list[ScoreInput]) -> Pending[ScoreRecord]:
        metric = self.plan.metrics[metric_name]
        if not hasattr(metric, "feature_requests") or not inputs:
            return Deferred(lambda: self.score(metric_name, inputs))
        call = (metric, inputs)
        self._queued.append(call)

        def run() -> list[ScoreRecord]:
            self._prefetch_group(call)
            return self.score(metric_name, inputs)

        return Deferred(run)

    def _prefetch_group(self, call: tuple[Any, list[ScoreInput]]) -> None:
        """If ``call`` is first in the queue, compute its features with those of the calls queued
        after it; a call asked for out of order leaves the queue and computes its own."""
        index = next((i for i, queued in enumerate(self._queued) if queued is call), None)
        if index is None:
            return  # its features came with an earlier group
        if index > 0:
            self._queued.pop(index)
            return
        from harness.metrics.learned.base import feature_requests_of, prefetch_requests

        requests: list[Any] = []
        while self._queued:
            more = feature_requests_of([self._queued[0]])
            if requests and len(requests) + len(more) > GROUPED_FEATURES:
                break
            self._queued.pop(0)
            requests += more
        prefetch_requests(requests)

    def close(self) -> None:
        self._queued.clear()


def make_executor(name: str, plan: Any, **options: Any) -> Executor:
    from harness.registry import _resolve

    if name not in BACKENDS:
        raise ValueError(f"unknown backend '{name}' (choose from {', '.join(BACKENDS)})")
    return _resolve(BACKENDS[name])(plan, **options)
