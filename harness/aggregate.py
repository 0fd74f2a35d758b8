"""Per-sample records -> leaderboard cells: n, coverage, valid and strict means, bootstrap CIs.

Groups: ``all``, ``level=<L>``, ``category=<c>`` and, where the suite declares one, ``official``.
Smoke records (random weights) and ``not_applicable`` records never enter a cell.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from harness.protocols import ScoredItem
from harness.records import RunRecord
from harness.statistics import bootstrap_ci

LEADERBOARD_COLUMNS = (
    "suite", "editor", "metric", "group", "n", "coverage", "mean", "strict_mean", "ci_low", "ci_high",
    "higher_is_better", "reference", "refused", "failed",
)  # fmt: skip


@dataclass
class Cell:
    suite: str
    editor: str
    metric: str
    group: str
    n: int
    coverage: float
    mean: float
    strict_mean: float
    ci_low: float
    ci_high: float
    higher_is_better: bool
    reference: bool
    refused: int = 0  # samples the editor (or judge) refused
    failed: int = 0  # samples that did not end ok, refusals included


OfficialLookup = Callable[[str], Callable[[Sequence[ScoredItem]], float] | None]


def aggregate(
    records: Iterable[RunRecord], *, seed: int = 0, official: OfficialLookup | None = None
) -> tuple[list[Cell], int]:
    """Cells for every (suite, editor, metric, group); also returns how many smoke records were left out."""
    by_key: dict[tuple[str, str, str], list[RunRecord]] = defaultdict(list)
    smoke = 0
    for record in records:
        if record.smoke:
            smoke += 1
            continue
        if record.status == "not_applicable":
            continue
        by_key[(record.suite, record.editor, record.metric)].append(record)
    cells: list[Cell] = []
    for (suite, editor, metric), rows in sorted(by_key.items()):
        rows.sort(key=lambda r: (r.split, r.sample_id))
        groups: dict[str, list[RunRecord]] = {"all": rows}
        for row in rows:
            if row.level:
                groups.setdefault(f"level={row.level}", []).append(row)
            if row.category:
                groups.setdefault(f"category={row.category}", []).append(row)
        for group in sorted(groups, key=_group_order):
            cells.append(_cell(suite, editor, metric, group, groups[group], seed))
        official_fn = official(suite) if official else None
        if official_fn is not None:
            items = [ScoredItem(r.sample_id, r.category, r.level, r.value) for r in rows if r.status == "ok"]
            value = float(official_fn(items)) if items else math.nan
            base = cells[-len(groups)]  # the "all" cell of this key
            nan = math.nan
            cells.append(
                replace(base, group="official", mean=value, strict_mean=nan, ci_low=nan, ci_high=nan)
            )
    return cells, smoke


def _group_order(group: str) -> tuple[int, str]:
    order = {"all": 0, "level": 1, "category": 2}
    return (order.get(group.split("=")[0], 3), group)


def _cell(suite: str, editor: str, metric: str, group: str, rows: list[RunRecord], seed: int) -> Cell:
    first = rows[0]
    ok = [r.value for r in rows if r.status == "ok" and r.value is not None]
    strict = [r.value if (r.status == "ok" and r.value is not None) else r.worst for r in rows]
    mean = float(sum(ok) / len(ok)) if ok else math.nan
    low, high = bootstrap_ci(ok, seed=seed)
    return Cell(
        suite=suite,
        editor=editor,
        metric=metric,
        group=group,
        n=len(rows),
        coverage=len(ok) / len(rows),
        mean=mean,
        strict_mean=float(sum(strict) / len(strict)),
        ci_low=low,
        ci_high=high,
        higher_is_better=first.higher_is_better,
        reference=first.reference,
        refused=sum(1 for r in rows if r.status == "refused"),
        failed=len(rows) - len(ok),
    )


def write_csv(cells: Sequence[Cell], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=LEADERBOARD_COLUMNS)
        writer.writeheader()
        for cell in cells:
            row = asdict(cell)
            for key in ("coverage", "mean", "strict_mean", "ci_low", "ci_high"):
                row[key] = _fmt(row[key])
            writer.writerow(row)


def _fmt(value: float) -> str:
    return "" if value is None or math.isnan(value) else f"{value:.6f}"


def rank_editors(cells: Sequence[Cell], suite: str, metric: str) -> list[Cell]:
    """The ``all`` cells of one suite and metric, ranked editors first (best first), references last."""
    rows = [c for c in cells if c.suite == suite and c.metric == metric and c.group == "all"]

    def key(c: Cell) -> tuple[int, float]:
        score = c.strict_mean if not math.isnan(c.strict_mean) else -math.inf
        return (1 if c.reference else 0, -score if c.higher_is_better else score)

    return sorted(rows, key=key)


def choose_ranking_metric(metrics: Iterable[str], scored: Iterable[str], declared: str | None) -> str:
    """The metric one suite ranks by: the declared primary metric when it has a value (is in
    ``scored``), else the first metric by name that has one, else the first metric. A metric asked
    for but not applicable to the suite has no cell or row, or only ones without a value."""
    names = sorted(set(metrics))
    scored_names = set(scored)
    with_values = [m for m in names if m in scored_names]
    if declared in with_values:
        return declared
    return (with_values or names)[0]


def ranking_metric(suite_cells: Sequence[Cell], declared: str | None) -> str:
    """``choose_ranking_metric`` over one suite's aggregated cells."""
    scored = {c.metric for c in suite_cells if not math.isnan(c.mean)}
    return choose_ranking_metric((c.metric for c in suite_cells), scored, declared)


def write_markdown(
    cells: Sequence[Cell], path: Path, primary_metrics: dict[str, str], smoke_excluded: int = 0
) -> None:
    lines = ["# Leaderboard", ""]
    lines.append(
        "Each cell: mean over samples the editor handled [bootstrap 95% CI]; `strict` counts failures as "
        "the metric's worst value; `cov` is the share of samples that ended ok. Reference rows (†) are "
        "bounds, not ranked."
    )
    if smoke_excluded:
        lines.append(f"\n{smoke_excluded} records computed with random weights (smoke) are excluded.")
    for suite in sorted({c.suite for c in cells}):
        suite_cells = [c for c in cells if c.suite == suite]
        metrics = sorted({c.metric for c in suite_cells})
        primary = ranking_metric(suite_cells, primary_metrics.get(suite))
        lines += ["", f"## {suite}", "", f"Ranked by strict `{primary}`.", ""]
        lines.append("| editor | cov | refused | " + " | ".join(metrics) + " |")
        lines.append("|---|---|---|" + "---|" * len(metrics))
        for ranked in rank_editors(suite_cells, suite, primary):
            row = [
                ranked.editor + (" †" if ranked.reference else ""),
                f"{ranked.coverage:.3f}",
                str(ranked.refused),
            ]
            for metric in metrics:
                cell = _find(suite_cells, ranked.editor, metric, "all")
                row.append(_describe(cell))
            lines.append("| " + " | ".join(row) + " |")
        levels = sorted({c.group for c in suite_cells if c.group.startswith("level=")})
        if levels:
            lines += ["", f"### {suite}: `{primary}` by level", ""]
            lines.append("| editor | " + " | ".join(g.split("=")[1] for g in levels) + " |")
            lines.append("|---|" + "---|" * len(levels))
            for ranked in rank_editors(suite_cells, suite, primary):
                row = [ranked.editor + (" †" if ranked.reference else "")]
                row += [_describe(_find(suite_cells, ranked.editor, primary, g)) for g in levels]
                lines.append("| " + " | ".join(row) + " |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _find(cells: Sequence[Cell], editor: str, metric: str, group: str) -> Cell | None:
    for cell in cells:
        if cell.editor == editor and cell.metric == metric and cell.group == group:
            return cell
    return None


def _describe(cell: Cell | None) -> str:
    if cell is None or math.isnan(cell.mean):
        return "—"
    text = f"{cell.mean:.3f} [{cell.ci_low:.3f}, {cell.ci_high:.3f}]"
    if cell.coverage < 1.0:
        text += f" strict {cell.strict_mean:.3f}"
    return text
