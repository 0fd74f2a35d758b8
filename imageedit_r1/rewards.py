"""ImageEdit-R1's training rewards, built on ``harness.rewards`` (train/eval parity).

``RolloutExecutor`` turns (completion, dataset row) into a ``RolloutOutcome`` by executing the plan
in the editing environment on the row's sample; outcomes are cached per (sample, completion), and
the tool seed is fixed by the sample id, so all rollouts of one GRPO group see the same tools.

Reward variants (``make_reward``):
- ``harness``: on synth-edit ``0.6 synth_exact + 0.2 synth_partial + 0.1 preserve_psnr``; on
  photo-ops ``0.9 psnr``-vs-target (normalised over 10..50 dB); plus ``0.1`` format, minus clipped
  step / invalid-call penalties (cap 0.1 < the success weight);
- ``f1``: the paper's reward: F1 of action / subject / goal against the ground-truth program
  (weight 0.9) plus the same format reward and penalties;
- ``exact``: only the exact result counts: synth-edit ``0.9 synth_exact``, photo-ops ``0.9 psnr`` as
  in ``harness``, plus the format reward, with no step penalty (invalid calls still cost): no partial
  credit and no reason to prefer a shorter plan that misses a member of a set.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
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
from imageedit_r1.environment import EditingEnvironment, EpisodeBudget
from imageedit_r1.plan import decomposition_f1

PSNR_BOUNDS = (10.0, 50.0)
REWARD_VARIANTS = ("harness", "f1", "exact")


class RolloutExecutor:
    """Executes completions on samples; ``__call__`` is the ``outcome_for`` of harness rewards."""

    def __init__(
        self, samples: Mapping[str, Sample], toolbox_factory: Callable[[], Toolbox], cache_size: int = 4096
    ):
        self.samples = dict(samples)
        self.agents = AgentSystem(toolbox_factory, budget=EpisodeBudget(), verify=False)
        self._cache: dict[tuple[str, str], RolloutOutcome] = {}
        self._grounded: dict[str, Any] = {}
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

    def grounded(self, sample: Sample) -> EditingEnvironment:
        """A fresh environment on ``sample``; grounding runs once per sample and is then copied."""
        if sample.id not in self._grounded:
            if len(self._grounded) >= self.cache_size:
                self._grounded.clear()
            env, _ = self.agents.observe(sample.source, sample.instruction, episode_seed(sample.id))
            self._grounded[sample.id] = env.workspace
        env = EditingEnvironment(self.agents.toolbox_factory(), self.agents.budget)
        env.restore(self._grounded[sample.id], sample.instruction)
        return env

    def execute(self, sample: Sample, completion: str) -> RolloutOutcome:
        try:
            env = self.grounded(sample)
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
    if variant not in REWARD_VARIANTS:
        raise ValueError(f"unknown reward variant {variant!r}; choose one of {', '.join(REWARD_VARIANTS)}")
    if suite == "photo-ops":
        terms = [("psnr", 0.9, MetricReward("psnr", outcome_for, bounds=PSNR_BOUNDS))]
    elif variant == "exact":
        terms = [("synth_exact", 0.9, MetricReward("synth_exact", outcome_for))]
    else:
        terms = [
            ("synth_exact", 0.6, MetricReward("synth_exact", outcome_for)),
            ("synth_partial", 0.2, MetricReward("synth_partial", outcome_for)),
            ("preserve", 0.1, MetricReward("preserve_psnr", outcome_for, bounds=PSNR_BOUNDS)),
        ]
    penalties = Penalties(per_step=0.0) if variant == "exact" else Penalties()
    return CompositeReward(terms, outcome_for, penalties=penalties, name=f"reward_{suite}")


class MultiSuiteReward:
    """One trl reward function over rows of several suites (dispatch on the ``suite`` column).

    Rollouts are executed and scored by a ``RolloutPool`` (forked workers when it has several:
    tools and checkers are CPU work); identical (sample, completion) pairs are scored once.
    """

    def __init__(self, pool: Any, variant: str = "harness") -> None:
        if variant not in REWARD_VARIANTS:
            raise ValueError(
                f"unknown reward variant {variant!r}; choose one of {', '.join(REWARD_VARIANTS)}"
            )
        self.pool = pool
        self.variant = variant
        self.__name__ = f"reward_{variant}"
        self._cache: dict[tuple[str, str], Any] = {}
        self.seconds = 0.0  # wall time spent in calls so far (executing and scoring rollouts)

    def score(self, jobs: list[tuple[str, str, str, str]]) -> list[Any]:
        from imageedit_r1.rollouts import score_rollouts

        todo = [job for job in dict.fromkeys(jobs) if (job[0], job[2]) not in self._cache]
        results = self.pool.map(score_rollouts, todo)
        if len(self._cache) > 20000:
            self._cache.clear()
        for job, result in zip(todo, results, strict=True):
            self._cache[(job[0], job[2])] = result
        return [self._cache[(job[0], job[2])] for job in jobs]

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> list[float | None]:
        began = time.perf_counter()
        rows = rows_from_kwargs(len(completions), kwargs)
        jobs = [
            (str(row["sample_id"]), str(row.get("suite", "synth-edit")), completion_text(c), self.variant)
            for c, row in zip(completions, rows, strict=True)
        ]
        scored = self.score(jobs)
        self.seconds += time.perf_counter() - began
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
