"""Compare two runs cell by cell: per-metric differences over shared samples with paired tests."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from harness.statistics import paired_bootstrap, paired_permutation_test
from leaderboard.cells import is_smoke, strict_value
from leaderboard.rundir import RunData

CompareKey = tuple[str, str, str, str]  # (suite, split, metric, editor)


@dataclass(frozen=True)
class MetricDifference:
    suite: str
    split: str
    metric: str
    editor_a: str
    editor_b: str
    n_shared: int
    mean_a: float
    mean_b: float
    difference: float  # mean of (B - A) over shared samples, strict values
    ci_low: float
    ci_high: float
    p_bootstrap: float
    p_permutation: float
    higher_is_better: bool

    @property
    def verdict(self) -> str:
        if self.n_shared < 2 or max(self.p_bootstrap, self.p_permutation) >= 0.05:
            return "no significant difference"
        b_higher = self.difference > 0
        return "B better" if b_higher == self.higher_is_better else "A better"


def strict_cells(run: RunData) -> tuple[dict[CompareKey, dict[str, float]], dict[str, bool]]:
    """Per-sample strict values per (suite, split, metric, editor), smoke and n/a left out."""
    smoke_edits = {e.key for e in run.edits if e.smoke}
    cells: dict[CompareKey, dict[str, float]] = defaultdict(dict)
    direction: dict[str, bool] = {}
    for record in run.records:
        if is_smoke(record, smoke_edits) or record.score_status == "not_applicable":
            continue
        cells[(record.suite, record.split, record.metric, record.editor)][record.sample_id] = strict_value(
            record
        )
        direction[record.metric] = record.higher_is_better
    return cells, direction


def editor_pairs(
    run_a: RunData, run_b: RunData, editor_a: str | None = None, editor_b: str | None = None
) -> list[tuple[str, str]]:
    """Which editors to compare: the named pair, else editors present in both, else the only ones."""
    if editor_a or editor_b:
        return [(editor_a or editor_b or "", editor_b or editor_a or "")]
    names_a = {r.editor for r in run_a.records if not r.reference}
    names_b = {r.editor for r in run_b.records if not r.reference}
    common = sorted(names_a & names_b)
    if common:
        return [(name, name) for name in common]
    if len(names_a) == 1 and len(names_b) == 1:
        return [(next(iter(names_a)), next(iter(names_b)))]
    return []


def compare_runs(
    run_a: RunData, run_b: RunData, *, editor_a: str | None = None, editor_b: str | None = None, seed: int = 0
) -> list[MetricDifference]:
    cells_a, direction = strict_cells(run_a)
    cells_b, direction_b = strict_cells(run_b)
    direction.update(direction_b)
    out = []
    for name_a, name_b in editor_pairs(run_a, run_b, editor_a, editor_b):
        for suite, split, metric, editor in sorted(cells_a):
            if editor != name_a or (suite, split, metric, name_b) not in cells_b:
                continue
            values_a = cells_a[(suite, split, metric, name_a)]
            values_b = cells_b[(suite, split, metric, name_b)]
            shared = sorted(set(values_a) & set(values_b))
            a = [values_a[s] for s in shared]
            b = [values_b[s] for s in shared]
            boot = paired_bootstrap(b, a, seed=seed)
            out.append(
                MetricDifference(
                    suite,
                    split,
                    metric,
                    name_a,
                    name_b,
                    len(shared),
                    sum(a) / len(a) if a else float("nan"),
                    sum(b) / len(b) if b else float("nan"),
                    boot.mean_difference,
                    boot.ci_low,
                    boot.ci_high,
                    boot.p_value,
                    paired_permutation_test(b, a, seed=seed),
                    direction.get(metric, True),
                )  # fmt: skip
            )
    return out


def format_differences(rows: list[MetricDifference]) -> list[str]:
    """Aligned plain-text lines, one per compared cell (greppable, no wrapping)."""
    header = ("suite", "metric", "editor A", "editor B", "n", "mean A", "mean B", "B - A [95% CI]", "p boot",
              "p perm", "verdict")  # fmt: skip
    table = [header]
    for r in rows:
        table.append(
            (
                f"{r.suite}/{r.split}",
                r.metric,
                r.editor_a,
                r.editor_b,
                str(r.n_shared),
                f"{r.mean_a:.4f}",
                f"{r.mean_b:.4f}",
                f"{r.difference:+.4f} [{r.ci_low:+.4f}, {r.ci_high:+.4f}]",
                f"{r.p_bootstrap:.3f}",
                f"{r.p_permutation:.3f}",
                r.verdict,
            )  # fmt: skip
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    ]
