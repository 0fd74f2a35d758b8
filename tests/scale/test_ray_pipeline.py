"""``--backend ray`` keeps the next batch's edits on the actors while the runner stores and scores
the previous batch; results stay those of the local backend."""

from __future__ import annotations

import json
import os
from typing import Any, ClassVar

import numpy as np
import pytest
import ray

from harness import registry
from harness.planning import resolve_plan
from harness.protocols import BaseEditor, BaseMetric, EditorCapabilities
from harness.records import RunRecord, read_jsonl
from harness.runner import RunConfig, run_evaluation
from harness.types import EditRequest, EditResult, ScoreInput

SCORED = {"n": 0}  # scores computed so far by this process (on a worker: by that actor)


class OrderProbeEditor(BaseEditor):
    """A GPU editor that stamps how many scores its process had computed before each edit."""

    name = "order-probe"
    num_gpus = 1
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities(batch_size=64)
    cache_edits: ClassVar[bool] = False

    def __init__(self, **_: Any) -> None:
        pass

    def edit_one(self, request: EditRequest) -> EditResult:
        provider = {"pid": os.getpid(), "scores_before": SCORED["n"]}
        return EditResult(status="ok", image=255 - request.source, provider=provider)


class OrderProbeMetric(BaseMetric):
    """A GPU metric: the edited image's mean, counted in ``SCORED``."""

    name = "order-probe-metric"
    num_gpus = 1
    value_range = (0.0, 255.0)

    def __init__(self, **_: Any) -> None:
        pass

    def compute(self, inp: ScoreInput) -> float:
        SCORED["n"] += 1
        return float(inp.edited.mean())


class ExplodingEditor(BaseEditor):
    """Raises for a whole call when any instruction says 'explode'."""

    name = "exploding"
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities(batch_size=64)
    cache_edits: ClassVar[bool] = False

    def __init__(self, **_: Any) -> None:
        pass

    def edit(self, requests: Any) -> list[EditResult]:
        if any("explode" in r.instruction for r in requests):
            raise RuntimeError("exploded")
        return super().edit(requests)

    def edit_one(self, request: EditRequest) -> EditResult:
        return EditResult(status="ok", image=request.source.copy())


@pytest.fixture(scope="module")
def one_fake_gpu():
    """A local cluster with one GPU that exists only as a Ray resource: the GPU pool is one actor
    that holds both probe components, and runs its calls in the order they were sent."""
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    registry.editors.register("order-probe", OrderProbeEditor)
    registry.metrics.register("order-probe-metric", OrderProbeMetric)
    registry.editors.register("exploding", ExplodingEditor)
    yield
    ray.shutdown()


def _values(out):
    return {r.key: (r.status, r.value) for r in read_jsonl(out / "records.jsonl", RunRecord)}


def test_next_batch_edits_run_before_the_previous_batch_is_scored(one_fake_gpu, tmp_path):
    base = dict(suites=["synth-edit"], editors=["order-probe"], metrics=["order-probe-metric"], limit=7,
                batch_size=4, use_cache=False)  # fmt: skip
    run_evaluation(RunConfig(out=tmp_path / "ray", backend="ray", **base))
    SCORED["n"] = 0
    run_evaluation(RunConfig(out=tmp_path / "local", **base))

    def stamps(out):
        return [json.loads(line)["provider"]["scores_before"] for line in (out / "edits.jsonl").open()]

    # batches of 1, 2 and 4 samples (the ramp). Local: each batch is scored before the next is
    # edited. Ray: batch 2's edits reach the actor before batch 1's score, batch 3's before batch 2's.
    assert stamps(tmp_path / "local") == [0, 1, 1, 3, 3, 3, 3]
    assert stamps(tmp_path / "ray") == [0, 0, 0, 1, 1, 1, 1]
    assert (
        len({json.loads(line)["provider"]["pid"] for line in (tmp_path / "ray" / "edits.jsonl").open()}) == 1
    )
    assert _values(tmp_path / "ray") == _values(tmp_path / "local")
    assert len(_values(tmp_path / "ray")) == 7
    assert (tmp_path / "ray" / "leaderboard.csv").read_text() == (
        tmp_path / "local" / "leaderboard.csv"
    ).read_text()


def _requests(instructions: list[str]) -> list[EditRequest]:
    rng = np.random.default_rng(1)
    return [EditRequest(sample_id=f"s{i}", source=rng.integers(0, 255, (8, 8, 3), dtype=np.uint8),
                        instruction=text) for i, text in enumerate(instructions)]  # fmt: skip


def test_submitted_calls_share_the_in_flight_limit_and_fail_alone(one_fake_gpu):
    from harness.backends.ray_backend import RayExecutor

    plan = resolve_plan(RunConfig(suites=["synth-edit"], editors=["exploding"]))
    executor = RayExecutor(plan, cpu_actors=2, max_in_flight_per_actor=1, max_chunk=2)
    try:
        failing = executor.submit_edit("exploding", _requests(["a", "b", "explode", "c"]))
        fine_requests = _requests([f"edit {i}" for i in range(6)])
        fine = executor.submit_edit("exploding", fine_requests)
        results = fine.result()  # waits past the failing call's chunks without raising their error
        assert [r.status for r in results] == ["ok"] * 6
        for request, result in zip(fine_requests, results, strict=True):
            assert np.array_equal(result.image, request.source)
        with pytest.raises(Exception, match="exploded"):
            failing.result()
        assert executor.pools["cpu"].peak_in_flight == 2  # 5 chunks of two calls, one per actor at a time
        assert [r.status for r in executor.edit("exploding", _requests(["x", "y", "z"]))] == ["ok"] * 3
    finally:
        executor.close()
