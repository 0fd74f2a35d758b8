"""Executing and scoring many rollouts, in forked worker processes.

Tools and checkers are CPU work while the policy runs on the GPU, so rollouts go to a pool of
workers forked (before CUDA is initialised) from a process that already holds the samples. Each
worker keeps one ``RolloutExecutor`` (grounding cached per sample) and the reward objects.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from baselines.tools import Toolbox
from harness.images import image_hash
from harness.types import EditRequest, Sample, ScoreInput
from imageedit_r1.rewards import RolloutExecutor, suite_reward

_SAMPLES: dict[str, Sample] = {}
_STATE: dict[str, Any] = {}
EVAL_METRICS: dict[str, tuple[str, ...]] = {
    "synth-edit": ("synth_exact", "synth_partial"),
    "photo-ops": ("psnr",),
}


@dataclass
class ScoredRollout:
    reward: float | None
    terms: dict[str, float | None]
    well_formed: bool
    invalid_calls: int


@dataclass
class Candidate:
    digest: str | None  # of the edited image; None: no image, or an invalid call on the way
    scores: dict[str, float]


def install(samples: Mapping[str, Sample], toolbox_factory: Callable[[], Toolbox]) -> None:
    """Make ``samples`` and the toolbox visible to this process and to workers forked after it."""
    _SAMPLES.clear()
    _SAMPLES.update(samples)
    _STATE.clear()
    _STATE["toolbox_factory"] = toolbox_factory


def _executor() -> RolloutExecutor:
    if "executor" not in _STATE:
        factory = _STATE.get("toolbox_factory")
        if factory is None:
            from imageedit_r1.toolbox import default_toolbox as factory
        _STATE["executor"] = RolloutExecutor(_SAMPLES, factory)
    return _STATE["executor"]


def _metric(name: str) -> Any:
    key = f"metric|{name}"
    if key not in _STATE:
        from harness.registry import metrics

        _STATE[key] = metrics.create(name)
    return _STATE[key]


def score_rollouts(jobs: Sequence[tuple[str, str, str, str]]) -> list[ScoredRollout]:
    """Rewards for (sample_id, suite, completion, variant) jobs."""
    executor = _executor()
    scored = []
    for sample_id, suite, completion, variant in jobs:
        key = f"reward|{suite}|{variant}"
        if key not in _STATE:
            _STATE[key] = suite_reward(suite, variant, executor)
        outcome = executor(completion, {"sample_id": sample_id})
        values, columns = _STATE[key].score_outcomes([outcome])
        terms = {k: v[0] for k, v in columns.items()}
        scored.append(ScoredRollout(values[0], terms, outcome.well_formed, outcome.invalid_calls))
    return scored


def _raw_scores(sample: Sample, suite: str, edited: Any) -> dict[str, float]:
    values = {}
    for name in EVAL_METRICS[suite]:
        metric = _metric(name)
        value = metric.worst
        if edited is not None:
            record = metric.score([ScoreInput(sample, edited)])[0]
            if record.status == "ok" and record.value is not None:
                value = float(record.value)
        values[name] = value
    return values


def evaluate_rollouts(jobs: Sequence[tuple[str, str, str]]) -> list[dict[str, float]]:
    """Raw held-out metric values (strict: no image = worst) for (sample_id, suite, completion)."""
    executor = _executor()
    out = []
    for sample_id, suite, completion in jobs:
        sample = _SAMPLES[sample_id]
        outcome = executor.execute(sample, completion)
        out.append(_raw_scores(sample, suite, outcome.edited))
    return out


def candidate_outcomes(jobs: Sequence[tuple[str, str, Sequence[str]]]) -> list[list[Candidate]]:
    """Every candidate plan of (sample_id, suite, completions) executed and scored: its result's
    digest (None when it made no image or a call failed) and its raw held-out metric values."""
    executor = _executor()
    out = []
    for sample_id, suite, completions in jobs:
        sample = _SAMPLES[sample_id]
        row = []
        for completion in completions:
            outcome = executor.execute(sample, completion)
            valid = outcome.edited is not None and outcome.well_formed and not outcome.invalid_calls
            digest = image_hash(outcome.edited) if valid else None
            row.append(Candidate(digest, _raw_scores(sample, suite, outcome.edited)))
        out.append(row)
    return out


def evaluate_editor(jobs: Sequence[tuple[str, str, str]], batch_size: int = 64) -> list[dict[str, float]]:
    """Raw metric values of a registered editor on (editor, sample_id, suite) jobs. Consecutive jobs
    of one editor go to it as one request list of up to ``batch_size`` (an editor with a model,
    such as imageedit-r1:smollm2, generates its plans for the whole list at once)."""
    from itertools import groupby

    out = []
    for editor_name, group in groupby(jobs, key=lambda job: job[0]):
        key = f"editor|{editor_name}"
        if key not in _STATE:
            from harness.registry import editors

            _STATE[key] = editors.create(editor_name)
        editor = _STATE[key]
        needs_truth = getattr(editor.capabilities, "needs_ground_truth", False)
        members = [(_SAMPLES[sample_id], suite) for _, sample_id, suite in group]
        for first in range(0, len(members), batch_size):
            chunk = members[first : first + batch_size]
            requests = [
                EditRequest(s.id, s.source, s.instruction, ground_truth=s if needs_truth else None)
                for s, _ in chunk
            ]
            for (sample, suite), result in zip(chunk, editor.edit(requests), strict=True):
                out.append(_raw_scores(sample, suite, result.image if result.status == "ok" else None))
    return out


def observe(jobs: Sequence[str]) -> list[str]:
    """Prompts (instruction + grounded scene) for sample ids."""
    executor = _executor()
    return [executor.grounded(_SAMPLES[sample_id]).observation() for sample_id in jobs]


def single_threaded_worker() -> None:
    """Worker initializer: one compute thread per process (many workers x many BLAS/torch threads
    each would oversubscribe the cores)."""
    import os

    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


class RolloutPool:
    """``map(fn, items)`` over forked workers (or inline with ``workers <= 1``), in order."""

    def __init__(
        self, samples: Mapping[str, Sample], toolbox_factory: Callable[[], Toolbox], workers: int = 0
    ):
        install(samples, toolbox_factory)
        self.workers = workers
        self._pool = None
        if workers > 1:
            self._pool = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("fork"), initializer=single_threaded_worker
            )

    def map(self, fn: Callable[[Sequence[Any]], list[Any]], items: Sequence[Any]) -> list[Any]:
        items = list(items)
        if not items:
            return []
        if self._pool is None or len(items) < 2:
            return fn(items)
        size = max(1, -(-len(items) // (self.workers * 3)))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        return [result for part in self._pool.map(fn, chunks) for result in part]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
