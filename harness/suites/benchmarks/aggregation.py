"""Official aggregations: per-sample values of one metric -> the benchmark's headline number.

Each function takes ``ScoredItem``s (sample_id, category, level, value) and follows the official
scorer's order of averaging (micro vs macro matters; see docs and the data cards).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence

from harness.protocols import ScoredItem


def group_means(items: Sequence[ScoredItem], key: Callable[[ScoredItem], str]) -> dict[str, float]:
    groups: dict[str, list[float]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item.value)
    return {name: sum(values) / len(values) for name, values in sorted(groups.items())}


def _macro(means: dict[str, float], what: str) -> float:
    if not means:
        raise ValueError(f"{what}: no scored items")
    return sum(means.values()) / len(means)


def gedit_overall(items: Sequence[ScoredItem]) -> float:
    """GEdit-Bench: mean per task group, then the unweighted mean over the groups present
    (calculate_statistics.py; a full run has all 11)."""
    return _macro(group_means(items, lambda item: item.category), "GEdit-Bench")


def imgedit_overall(items: Sequence[ScoredItem]) -> float:
    """ImgEdit basic: mean per edit type, "overall" = unweighted mean over the types."""
    return _macro(group_means(items, lambda item: item.category), "ImgEdit")


def complex_edit_overall(items: Sequence[ScoredItem]) -> float:
    """Complex-Edit: mean per complexity level C1..C8, then the mean over the levels present.
    The paper reports the per-level means; with every image at every level this equals the pooled mean."""
    return _macro(group_means(items, lambda item: item.level), "Complex-Edit")


def complex_edit_o(
    instruction_following: float, identity_preservation: float, perceptual_quality: float
) -> float:
    """Complex-Edit's overall per sample: O = (IF + IP + PQ) / 3, each already averaged over its 20 passes."""
    return (instruction_following + identity_preservation + perceptual_quality) / 3.0


def kris_normalise(score: float, sample_id: str = "") -> float:
    """A KRIS-Bench judge score on 1..5 mapped to 0..100 as (s - 1) * 25; out-of-range values are rejected
    (the third-party summarizers do not check)."""
    if not 1.0 <= score <= 5.0 or math.isnan(score):
        raise ValueError(f"KRIS-Bench score {score!r} of sample {sample_id or '?'} is outside 1..5")
    return (score - 1.0) * 25.0


def kris_overall(items: Sequence[ScoredItem]) -> float:
    """KRIS-Bench: per-sample scores already on 0..100 (``kris_judge`` maps each 1-5 dimension with
    ``kris_normalise`` and averages them), pooled (micro) mean over the items, as the third-party
    summarizers do; a value outside 0..100 is an error naming the sample."""
    if not items:
        raise ValueError("KRIS-Bench: no scored items")
    for item in items:
        if not 0.0 <= item.value <= 100.0 or math.isnan(item.value):
            raise ValueError(f"KRIS-Bench score {item.value!r} of sample {item.sample_id} is outside 0..100")
    return sum(item.value for item in items) / len(items)


def rise_accuracy(items: Sequence[ScoredItem]) -> float:
    """RISEBench accuracy in percent: the share of items whose value is full marks (1.0: every applicable
    dimension scored 5), pooled over items, not a macro over the four categories (gpt_eval.py)."""
    if not items:
        raise ValueError("RISEBench: no scored items")
    return 100.0 * sum(1 for item in items if item.value >= 1.0 - 1e-9) / len(items)


def rise_full_marks(scores: dict[str, float | None]) -> float:
    """1.0 when every applicable RISEBench dimension (score not None) is 5, else 0.0."""
    applicable = [value for value in scores.values() if value is not None]
    if not applicable:
        raise ValueError("RISEBench: no applicable dimension")
    return 1.0 if all(value == 5 for value in applicable) else 0.0
