"""ImageEdit-R1's training rewards, built on ``harness.rewards`` (train/eval parity).

``RolloutExecutor`` turns (completion, dataset row) into a ``RolloutOutcome`` by executing the plan
in the editing environment on the row's sample; outcomes are cached per (sample, completion), and
the tool seed is fixed by the sample id, so all rollouts of one GRPO group see the same tools.

Reward variants (``make_reward``):
- ``harness``: on synth-edit ``0.6 synth_exact + 0.2 synth_partial + 0.1 preserve_psnr``; on
  photo-ops ``0.9 psnr``-vs-target (normalised over 10..50 dB); plus ``0.1`` format, minus clipped
  step / invalid-call penalties (cap 0.1 < the success weight);
- ``f1``: the paper's reward: F1 of action / subject / goal against the ground-truth program
  (weight 0.9) plus the same format reward and penalties.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from baselines.tools import Toolbox
from harness.rewards import (
    CompositeReward,
    MetricReward,
    Penalties,
    RolloutOutcome,
    completion_text,
    rows_from_kwargs,
)
from harness.types import Sample
from imageedit_r1.agents import AgentSystem, episode_seed
from imageedit_r1.data import ConversionError, reference_subedits
from imageedit_r1.environment import EpisodeBudget
from imageedit_r1.plan import decomposition_f1

PSNR_BOUNDS = (10.0, 50.0)
REWARD_VARIANTS = ("harness", "f1")


class RolloutExecutor:
    """Executes completions on samples; ``__call__`` is the ``outcome_for`` of harness rewards."""

    def __init__(
        self, samples: Mapping[str, Sample], toolbox_factory: Callable[[], Toolbox], cache_size: int = 4096
    ):
        self.samples = dict(samples)
        self.agents = AgentSystem(toolbox_factory, budget=EpisodeBudget(), verify=False)
        self._cache: dict[tuple[str, str], RolloutOutcome] = {}
        self.cache_size = cache_size

    def __call__(self, completion: str, row: Mapping[str, Any]) -> RolloutOutcome:
        sample_id = str(row["sample_id"])
        key = (sample_id, completion)
        if key in self._cache:
            return self._cache[key]
        sample = self.samples[sample_id]
        outcome = self.execute(sample, completion)
        if len(self._cache) >= self.cache_size:
            self._cache.clear()
        self._cache[key] = outcome
        return outcome

    def execute(self, sample: Sample, completion: str) -> RolloutOutcome:
        try:
            env, _ = self.agents.observe(sample.source, sample.instruction, episode_seed(sample.id))
            regions = env.regions()
            plan, episode = self.agents.execute(env, completion)
        except Exception as exc:  # an environment bug is an infrastructure failure: neutral
            return RolloutOutcome(sample, infra_error=f"{type(exc).__name__}: {exc}")
        try:
            reference = reference_subedits(sample, regions)
        except (ConversionError, KeyError, TypeError):
            reference = None
        extra = {"subedits": plan.subedits, "reference": reference, "end_reason": episode.end_reason}
        edited = episode.image if plan.subedits else None
        tool_failures = episode.tool_errors
        return RolloutOutcome(
            sample,
            edited=edited,
            policy_error="" if plan.ok else plan.error,
            infra_error="",
            well_formed=plan.ok,
            steps=episode.steps,
            invalid_calls=episode.invalid_calls + tool_failures,
            extra=extra,
        )


def _f1_term(outcomes: Sequence[RolloutOutcome]) -> list[float | None]:
    values: list[float | None] = []
    for outcome in outcomes:
        reference = outcome.extra.get("reference")
        if reference is None:
            values.append(None)
            continue
        values.append(decomposition_f1(list(outcome.extra.get("subedits") or ()), list(reference)))
    return values


def suite_reward(suite: str, variant: str, outcome_for: Callable[..., RolloutOutcome]) -> CompositeReward:
    if variant == "f1":
        return CompositeReward([("f1", 0.9, _f1_term)], outcome_for, penalties=Penalties(), name="reward_f1")
    if variant != "harness":
        raise ValueError(f"unknown reward variant {variant!r}; choose one of {', '.join(REWARD_VARIANTS)}")
    if suite == "photo-ops":
        terms = [("psnr", 0.9, MetricReward("psnr", outcome_for, bounds=PSNR_BOUNDS))]
    else:
        terms = [
            ("synth_exact", 0.6, MetricReward("synth_exact", outcome_for)),
            ("synth_partial", 0.2, MetricReward("synth_partial", outcome_for)),
            ("preserve", 0.1, MetricReward("preserve_psnr", outcome_for, bounds=PSNR_BOUNDS)),
        ]
    return CompositeReward(terms, outcome_for, penalties=Penalties(), name=f"reward_{suite}")


_WORKER_SAMPLES: dict[str, Sample] = {}
_WORKER_STATE: dict[str, Any] = {}


def _worker_reward(suite: str, variant: str) -> tuple[RolloutExecutor, CompositeReward]:
    key = f"{suite}|{variant}"
    if key not in _WORKER_STATE:
        factory = _WORKER_STATE.get("toolbox_factory")
        if factory is None:
            from imageedit_r1.toolbox import default_toolbox as factory
        executor = _WORKER_STATE.setdefault("executor", RolloutExecutor(_WORKER_SAMPLES, factory))
        _WORKER_STATE[key] = suite_reward(suite, variant, executor)
    return _WORKER_STATE["executor"], _WORKER_STATE[key]


def score_rollouts(jobs: Sequence[tuple[str, str, str, str]]) -> list[ScoredRollout]:
    """Execute and score (sample_id, suite, completion, variant) jobs on ``_WORKER_SAMPLES``."""
    scored = []
    for sample_id, suite, completion, variant in jobs:
        executor, reward = _worker_reward(suite, variant)
        outcome = executor(completion, {"sample_id": sample_id})
        values, columns = reward.score_outcomes([outcome])
        scored.append(
            ScoredRollout(
                values[0], {k: v[0] for k, v in columns.items()}, outcome.well_formed, outcome.invalid_calls
            )
        )
    return scored


@dataclass
class ScoredRollout:
    reward: float | None
    terms: dict[str, float | None]
    well_formed: bool
    invalid_calls: int


class MultiSuiteReward:
    """One trl reward function over rows of several suites (dispatch on the ``suite`` column).

    With ``workers > 1`` rollouts are executed and scored in forked worker processes (tools and
    checkers are CPU work); identical (sample, completion) pairs are scored once.
    """

    def __init__(
        self,
        samples: Mapping[str, Sample],
        toolbox_factory: Callable[[], Toolbox],
        variant: str = "harness",
        workers: int = 0,
    ) -> None:
        if variant not in REWARD_VARIANTS:
            raise ValueError(
                f"unknown reward variant {variant!r}; choose one of {', '.join(REWARD_VARIANTS)}"
            )
        self.variant = variant
        self.__name__ = f"reward_{variant}"
        _WORKER_SAMPLES.clear()
        _WORKER_SAMPLES.update(samples)
        _WORKER_STATE.clear()
        _WORKER_STATE["toolbox_factory"] = toolbox_factory
        self._cache: dict[tuple[str, str], ScoredRollout] = {}
        self.pool = None
        if workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
            self.workers = workers

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None

    def score(self, jobs: list[tuple[str, str, str, str]]) -> list[ScoredRollout]:
        todo = [job for job in dict.fromkeys(jobs) if (job[0], job[2]) not in self._cache]
        if self.pool is not None and len(todo) > 1:
            size = max(1, len(todo) // (self.workers * 2))
            chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
            results = [r for part in self.pool.map(score_rollouts, chunks) for r in part]
        else:
            results = score_rollouts(todo)
        if len(self._cache) > 20000:
            self._cache.clear()
        for job, result in zip(todo, results, strict=True):
            self._cache[(job[0], job[2])] = result
        return [self._cache[(job[0], job[2])] for job in jobs]

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> list[float | None]:
        rows = rows_from_kwargs(len(completions), kwargs)
        jobs = [
            (str(row["sample_id"]), str(row.get("suite", "synth-edit")), completion_text(c), self.variant)
            for c, row in zip(completions, rows, strict=True)
        ]
        scored = self.score(jobs)
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            for suite in sorted({job[1] for job in jobs}):
                mine = [s for s, job in zip(scored, jobs, strict=True) if job[1] == suite]
                for label in mine[0].terms:
                    valid = [s.terms[label] for s in mine if s.terms.get(label) is not None]
                    if valid:
                        log_metric(f"{suite}/{label}", sum(valid) / len(valid))
            log_metric("well_formed", sum(s.well_formed for s in scored) / max(len(scored), 1))
            log_metric("invalid_calls", sum(s.invalid_calls for s in scored) / max(len(scored), 1))
        return [s.reward for s in scored]
