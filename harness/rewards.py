"""Harness metrics as RL reward functions (train/eval parity).

A reward function has trl's signature ``reward(prompts, completions, **kwargs) -> list[float | None]``.
Turning a completion into an edited image is the caller's business (an agent executes a plan); it
hands the adapter an ``outcome_for(completion, row)`` callable returning a ``RolloutOutcome``. The
adapter then scores the edited images with ``Metric.score`` (the very code path the leaderboard
uses) and maps each ``ScoreRecord`` to a reward:

- ``ok``                      -> the value, normalised to [0, 1] over ``value_range`` (or ``bounds``);
- a policy error (unparseable plan, bad arguments, no image) -> 0.0, the worst normalised value;
- an infrastructure failure (a tool crashed, the metric errored) -> ``None``: neutral, excluded
  from the group statistics by trl (NaN), never turned into a score;
- ``not_applicable``          -> ``None``.

``CompositeReward`` combines several such terms with a format reward and clipped step / error
penalties, so a correct long plan always outscores a wrong short one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.types import Image, Sample, ScoreInput, ScoreRecord

RewardFunc = Callable[..., list[float | None]]
TRL_CONTEXT_KEYS = ("trainer_state", "log_extra", "log_metric", "environments", "completion_ids")


@dataclass
class RolloutOutcome:
    """What executing one completion produced.

    ``edited`` is None when the policy produced nothing executable (then ``policy_error`` says
    why). ``infra_error`` marks a failure that is not the policy's fault (a tool raised, a model
    was missing): the reward is neutral. ``steps`` and ``invalid_calls`` feed the penalties;
    ``well_formed`` the format reward; ``extra`` carries anything else a reward term reads (e.g.
    the parsed sub-edits for a decomposition F1).
    """

    sample: Sample
    edited: Image | None = None
    policy_error: str = ""
    infra_error: str = ""
    well_formed: bool = False
    steps: int = 0
    invalid_calls: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


OutcomeFor = Callable[[str, Mapping[str, Any]], RolloutOutcome]


def completion_text(completion: Any) -> str:
    """trl passes plain strings for standard prompts and message lists for conversational ones."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], Mapping):
        return str(completion[-1].get("content", ""))
    return str(completion)


def rows_from_kwargs(n: int, kwargs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per-completion dataset columns from trl's column-wise reward kwargs."""
    columns = {k: v for k, v in kwargs.items() if k not in TRL_CONTEXT_KEYS and isinstance(v, (list, tuple))}
    return [{key: values[i] for key, values in columns.items() if len(values) == n} for i in range(n)]


def normalise(value: float, bounds: tuple[float, float], higher_is_better: bool = True) -> float:
    low, high = bounds
    if not math.isfinite(value):
        value = high if value > 0 else low
    unit = (min(max(value, low), high) - low) / (high - low) if high > low else 0.0
    return unit if higher_is_better else 1.0 - unit


def resolve_metric(metric: Any) -> Any:
    """A metric object, or one created from its registry name."""
    if isinstance(metric, str):
        from harness.registry import metrics

        return metrics.create(metric)
    return metric


class MetricReward:
    """One harness metric as a reward in [0, 1] (None = neutral)."""

    def __init__(
        self,
        metric: Any,
        outcome_for: OutcomeFor,
        *,
        bounds: tuple[float, float] | None = None,
        name: str | None = None,
    ) -> None:
        self.metric = resolve_metric(metric)
        self.outcome_for = outcome_for
        self.bounds = tuple(bounds) if bounds is not None else tuple(self.metric.value_range)
        self.__name__ = name or f"reward_{self.metric.name}"

    def score_outcomes(self, outcomes: Sequence[RolloutOutcome]) -> list[float | None]:
        rewards: list[float | None] = [None] * len(outcomes)
        batch: list[ScoreInput] = []
        where: list[int] = []
        for index, outcome in enumerate(outcomes):
            if outcome.infra_error:
                continue
            if outcome.edited is None:
                rewards[index] = 0.0
                continue
            batch.append(ScoreInput(outcome.sample, outcome.edited))
            where.append(index)
        if batch:
            for index, record in zip(where, self.metric.score(batch), strict=True):
                rewards[index] = self.reward_of(record)
        return rewards

    def reward_of(self, record: ScoreRecord) -> float | None:
        if record.status == "ok" and record.value is not None:
            return normalise(float(record.value), self.bounds, self.metric.higher_is_better)
        if record.status == "no_edit":
            return 0.0
        return None  # error / not_applicable / parse_failed / refused: never a number

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> list[float | None]:
        rows = rows_from_kwargs(len(completions), kwargs)
        outcomes = [
            self.outcome_for(completion_text(c), row) for c, row in zip(completions, rows, strict=True)
        ]
        return self.score_outcomes(outcomes)


@dataclass(frozen=True)
class Penalties:
    """Step and error penalties, clipped at ``cap`` (keep ``cap`` below the success weight)."""

    per_step: float = 0.01
    per_invalid_call: float = 0.05
    cap: float = 0.1

    def of(self, outcome: RolloutOutcome) -> float:
        raw = self.per_step * outcome.steps + self.per_invalid_call * outcome.invalid_calls
        return min(raw, self.cap)


OutcomeTerm = Callable[[Sequence[RolloutOutcome]], list[float | None]]


class CompositeReward:
    """``sum_i w_i * term_i`` (terms in [0, 1]) + ``format_weight * well_formed`` - penalties.

    A term returning None for an item (neutral) makes the whole reward None when that term is the
    success term (``terms[0]``); other neutral terms are left out and the weights renormalised.
    An infrastructure failure is None overall. Components are logged through trl's ``log_metric``
    when it is passed.
    """

    def __init__(
        self,
        terms: Sequence[tuple[str, float, MetricReward | OutcomeTerm]],
        outcome_for: OutcomeFor,
        *,
        format_weight: float = 0.1,
        penalties: Penalties = Penalties(),
        name: str = "reward",
    ) -> None:
        if not terms:
            raise ValueError("a composite reward needs at least one term")
        if penalties.cap >= terms[0][1]:
            raise ValueError("the penalty cap must stay below the success weight")
        self.terms = list(terms)
        self.outcome_for = outcome_for
        self.format_weight = format_weight
        self.penalties = penalties
        self.__name__ = name

    def score_outcomes(
        self, outcomes: Sequence[RolloutOutcome]
    ) -> tuple[list[float | None], dict[str, list]]:
        columns: dict[str, list[float | None]] = {}
        for label, _, term in self.terms:
            scorer = term.score_outcomes if isinstance(term, MetricReward) else term
            columns[label] = list(scorer(outcomes))
        rewards: list[float | None] = []
        for index, outcome in enumerate(outcomes):
            if outcome.infra_error or columns[self.terms[0][0]][index] is None:
                rewards.append(None)
                continue
            total, weight = 0.0, 0.0
            for label, w, _ in self.terms:
                value = columns[label][index]
                if value is not None:
                    total += w * value
                    weight += w
            scale = sum(w for _, w, _ in self.terms)
            main = total * (scale / weight) if weight else 0.0
            fmt = self.format_weight * (1.0 if outcome.well_formed else 0.0)
            rewards.append(main + fmt - self.penalties.of(outcome))
        return rewards, columns

    def __call__(
        self, prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
    ) -> list[float | None]:
        rows = rows_from_kwargs(len(completions), kwargs)
        outcomes = [
            self.outcome_for(completion_text(c), row) for c, row in zip(completions, rows, strict=True)
        ]
        rewards, columns = self.score_outcomes(outcomes)
        log_metric = kwargs.get("log_metric")
        if callable(log_metric):
            for label, values in columns.items():
                valid = [v for v in values if v is not None]
                if valid:
                    log_metric(f"term/{label}", sum(valid) / len(valid))
            log_metric("term/well_formed", sum(o.well_formed for o in outcomes) / len(outcomes))
            log_metric("term/invalid_calls", sum(o.invalid_calls for o in outcomes) / len(outcomes))
        return rewards
