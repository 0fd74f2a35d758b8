"""Per-sample judge formulas, as each benchmark's scorer defines them (docs BENCHMARKS.md).

Benchmark-level aggregation (macro over categories, pooled accuracy) lives with the suites; these
functions turn one sample's sub-scores into its value and components.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def viescore(success: float, overediting: float, naturalness: float, artifacts: float) -> dict[str, float]:
    """GEdit / VIEScore: SC = min(success, over-editing), PQ = min(naturalness, artifacts), O = sqrt(SC*PQ)."""
    sc = min(success, overediting)
    pq = min(naturalness, artifacts)
    return {"SC": sc, "PQ": pq, "O": math.sqrt(sc * pq)}


def imgedit_mean(scores: Sequence[float]) -> float:
    """ImgEdit: the mean of the three 1-5 criteria of the sample's edit type."""
    if len(scores) != 3:
        raise ValueError(f"ImgEdit rubric has three criteria, got {len(scores)}")
    return sum(scores) / 3.0


def complex_edit(
    instruction_following: float, identity_preservation: float, quality: float
) -> dict[str, float]:
    """Complex-Edit: IF, IP, PQ on 0-10 and O = their mean."""
    overall = (instruction_following + identity_preservation + quality) / 3.0
    return {"IF": instruction_following, "IP": identity_preservation, "PQ": quality, "O": overall}


def kris(consistency: float, quality: float, following: float, knowledge: float) -> dict[str, float]:
    """KRIS-Bench: four 1-5 dimensions; knowledge plausibility is forced to 1 when instruction
    following is 2 or less; each dimension normalised (s - 1) * 25 to 0-100; the sample's value is the
    mean of the four normalised dimensions."""
    if following <= 2:
        knowledge = 1.0
    raw = {"VC": consistency, "VQ": quality, "IF": following, "KP": knowledge}
    normalised = {name: (value - 1.0) * 25.0 for name, value in raw.items()}
    return {**{f"{k}_raw": v for k, v in raw.items()}, **normalised, "O": sum(normalised.values()) / 4.0}


RISE_DIMENSIONS = ("reasoning", "consistency", "plausibility")


def rise_accuracy(scores: Mapping[str, float], applicable: Sequence[str] = RISE_DIMENSIONS) -> float:
    """RISEBench: 1.0 when every applicable dimension has full marks (5), else 0.0."""
    missing = [d for d in applicable if d not in scores]
    if missing:
        raise ValueError(f"RISE scores lack {', '.join(missing)}")
    return 1.0 if all(scores[d] == 5 for d in applicable) else 0.0
