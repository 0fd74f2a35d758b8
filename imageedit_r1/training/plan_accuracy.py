"""Plan accuracy without executing anything: greedy plans vs the ground-truth plans, per level.

A cheap diagnostic (no rendering, no tools): exact plan match and decomposition F1 on examples
built from scene graphs, e.g. the synth-edit test split's held-out phrasings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from imageedit_r1.data import PlanExample
from imageedit_r1.plan import decomposition_f1, parse_plan


def plan_accuracy(
    policy: Any, examples: Sequence[PlanExample], batch_size: int = 256
) -> dict[str, dict[str, float]]:
    completions = policy.generate([e.prompt for e in examples], max_new_tokens=160, batch_size=batch_size)
    grouped: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for example, completion in zip(examples, completions, strict=True):
        plan = parse_plan(completion)
        exact = float(plan.ok and list(plan.subedits) == list(example.reference))
        f1 = decomposition_f1(list(plan.subedits), list(example.reference))
        for level in (example.level, "all"):
            grouped[level]["exact_plan"].append(exact)
            grouped[level]["f1"].append(f1)
            grouped[level]["well_formed"].append(float(plan.ok))
    return {
        level: {name: sum(v) / len(v) for name, v in metrics.items()} | {"n": len(metrics["f1"])}
        for level, metrics in sorted(grouped.items())
    }
