"""``--backend ray`` on a local 2-CPU cluster writes the same results as the local backend."""

from __future__ import annotations

import os
import socket
from typing import Any, ClassVar

import numpy as np
import pytest
import ray

from harness import registry
from harness.backends.ray_backend import ActorPool, RayExecutor
from harness.export import export_suite
from harness.planning import resolve_plan
from harness.protocols import BaseEditor, EditorCapabilities
from harness.records import RunRecord, read_jsonl
from harness.runner import RunConfig, RunError, run_evaluation
from harness.types import EditRequest, EditResult


class PidStampEditor(BaseEditor):
    """Writes the worker's pid into pixel (0, 0) and fails on instructions that say 'fail'."""

    name = "pid-stamp"
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities(batch_size=64)
    cache_edits: ClassVar[bool] = False

    def __init__(self, **_: Any) -> None:
        pass

    def edit_one(self, request: EditRequest) -> EditResult:
        if "fail" in request.instruction:
            raise ValueError("asked to fail")
        image = request.source.copy()
        image[0, 0] = np.frombuffer(os.getpid().to_bytes(3, "big"), np.uint8)
        return EditResult(status="ok", image=image)


class GpuDeclaringEditor(PidStampEditor):
    name = "gpu-declaring"
    num_gpus = 1


def test_an_address_nobody_answers_on_is_one_clear_error():
    assert not ray.is_initialized()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    plan = resolve_plan(RunConfig(suites=["synth-edit"], editors=["identity"]))
    with pytest.raises(RunError, match=f"could not start or join the Ray cluster at 127.0.0.1:{port}"):
        RayExecutor(plan, address=f"127.0.0.1:{port}")
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    registry.editors.register("pid-stamp", PidStampEditor)
    registry.editors.register("gpu-declaring", GpuDeclaringEditor)
    yield
    ray.shutdown()


def _leaderboard_and_values(out):
    values = {r.key: (r.status, r.value) for r in read_jsonl(out / "records.jsonl", RunRecord)}
    return (out / "leaderboard.csv").read_text(), values


def test_ray_backend_matches_local_backend_on_synth_edit_and_a_folder_suite(cluster, tmp_path):
    folder = export_suite("synth-edit", split="train", n=6, out=tmp_path / "folder", seed=3)
    base = dict(suites=["synth-edit", f"folder:{folder}"], editors=["identity", "oracle"], limit=20,
                use_cache=False)  # fmt: skip
    local = run_evaluation(RunConfig(out=tmp_path / "local", **base))
    on_ray = run_evaluation(RunConfig(out=tmp_path / "ray", backend="ray", **base))
    local_csv, local_values = _leaderboard_and_values(tmp_path / "local")
    ray_csv, ray_values = _leaderboard_and_values(tmp_path / "ray")
    assert ray_csv == local_csv
    assert ray_values == local_values
    assert len(ray_values) == on_ray.counters.records_written == local.counters.records_written > 26 * 2
    assert on_ray.counters.edits_computed == local.counters.edits_computed == (20 + 6) * 2
    assert ray.is_initialized(), "an executor must not shut down a cluster it did not start"


def _requests(n: int, fail_at: tuple[int, ...] = ()) -> list[EditRequest]:
    rng = np.random.default_rng(0)
    return [
        EditRequest(sample_id=f"s{i}", source=rng.integers(0, 255, (8, 8, 3), dtype=np.uint8),
                    instruction="fail" if i in fail_at else f"edit {i}")
        for i in range(n)
    ]  # fmt: skip


def test_one_call_is_split_across_actors_and_gathered_in_request_order(cluster, tmp_path):
    plan = resolve_plan(RunConfig(suites=["synth-edit"], editors=["pid-stamp", "gpu-declaring"]))
    executor = RayExecutor(plan, cpu_actors=2, max_in_flight_per_actor=1, max_chunk=4)
    try:
        requests = _requests(20, fail_at=(7,))
        results = executor.edit("pid-stamp", requests)
        assert [r.status for r in results] == ["ok"] * 7 + ["error"] + ["ok"] * 12
        assert "asked to fail" in results[7].error
        for request, result in zip(requests, results, strict=True):
            if result.status == "ok":
                assert np.array_equal(result.image[1:], request.source[1:])
        pids = {int.from_bytes(r.image[0, 0].tobytes(), "big") for r in results if r.status == "ok"}
        assert len(pids) == 2 and os.getpid() & 0xFFFFFF not in pids
        pool = executor.pools["cpu"]
        assert pool.peak_in_flight == 2  # 5 chunks of 4, never more than one per actor in flight
        # the editor was built once per actor and reused: a second call lands on the same two pids
        again = executor.edit("pid-stamp", _requests(8))
        assert {int.from_bytes(r.image[0, 0].tobytes(), "big") for r in again} == pids
        # a GPU-declaring editor on a cluster without GPUs gets one actor of its own
        gpu_less = executor.edit("gpu-declaring", _requests(6))
        assert len({int.from_bytes(r.image[0, 0].tobytes(), "big") for r in gpu_less}) == 1
        assert executor.placement() == {"editor pid-stamp": ["cpu", "cpu"], "editor gpu-declaring": ["cpu"]}
        # an actor that dies is restarted by Ray and rebuilds its editor on the next call
        ray.kill(pool.actors[0], no_restart=False)
        crash_requests = _requests(8)
        after_crash = executor.edit("pid-stamp", crash_requests)
        assert [r.status for r in after_crash] == ["ok"] * 8
        for request, result in zip(crash_requests, after_crash, strict=True):
            assert np.array_equal(result.image[1:], request.source[1:])
    finally:
        executor.close()
    assert ray.is_initialized()


def test_an_actor_pool_needs_an_actor_and_splits_evenly():
    with pytest.raises(ValueError):
        ActorPool([])
    pool = ActorPool(["a", "b", "c"], max_chunk=16)
    assert [len(c) for c in pool.chunks(list(range(10)))] == [4, 4, 2]
    assert [len(c) for c in ActorPool(["a"], max_chunk=4).chunks(list(range(10)))] == [4, 4, 2]
