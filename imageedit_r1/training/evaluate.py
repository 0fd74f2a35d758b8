"""Quick held-out evaluation of editors (checkpoints and baselines) on the embedded suites.

Edits with the registered editors and scores with the registered metrics (the leaderboard's code
paths), without a run directory: used between training stages and for the numbers in
docs/RESULTS.md. Failed edits count as 0 (the strict mean), as on the leaderboard.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from harness.types import EditRequest, Sample, ScoreInput

SUITE_METRICS: dict[str, tuple[str, ...]] = {
    "synth-edit": ("synth_exact", "synth_partial"),
    "photo-ops": ("psnr",),
}
PSNR_SUCCESS_DB = 40.0


def evaluate_editor(
    editor: Any, samples: Sequence[Sample], suite: str, batch_size: int = 64
) -> dict[str, Any]:
    """Per-level means of the suite's metrics for ``editor`` (strict: failures score the worst)."""
    from harness.registry import metrics as metric_registry

    metric_objs = [metric_registry.create(m) for m in SUITE_METRICS[suite]]
    per_level: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    statuses: dict[str, int] = defaultdict(int)
    began = time.perf_counter()
    for start in range(0, len(samples), batch_size):
        chunk = list(samples[start : start + batch_size])
        requests = [EditRequest(s.id, s.source, s.instruction, seed=0) for s in chunk]
        if getattr(editor.capabilities, "needs_ground_truth", False):
            requests = [EditRequest(s.id, s.source, s.instruction, seed=0, ground_truth=s) for s in chunk]
        results = editor.edit(requests)
        for sample, result in zip(chunk, results, strict=True):
            statuses[result.status] += 1
            for metric in metric_objs:
                value = metric.worst
                if result.status == "ok" and result.image is not None:
                    record = metric.score([ScoreInput(sample, result.image)])[0]
                    value = (
                        record.value if record.status == "ok" and record.value is not None else metric.worst
                    )
                if metric.name == "psnr":
                    per_level[sample.level]["psnr_success"].append(float(value >= PSNR_SUCCESS_DB))
                per_level[sample.level][metric.name].append(float(value))
    table = {
        level: {name: sum(values) / len(values) for name, values in sorted(by_metric.items())}
        for level, by_metric in sorted(per_level.items())
    }
    table["n"] = {
        level: len(next(iter(by_metric.values()))) for level, by_metric in sorted(per_level.items())
    }
    return {"levels": table, "statuses": dict(statuses), "seconds": time.perf_counter() - began}


def format_table(results: dict[str, dict[str, Any]], metric: str) -> str:
    """Markdown rows: editor x level for one metric."""
    levels = sorted({lvl for r in results.values() for lvl in r["levels"] if lvl != "n"})
    lines = ["| editor | " + " | ".join(levels) + " |", "|---" * (len(levels) + 1) + "|"]
    for name, result in results.items():
        cells = []
        for level in levels:
            value = result["levels"].get(level, {}).get(metric)
            cells.append("" if value is None else f"{value:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
