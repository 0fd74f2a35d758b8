"""Rank editors honestly: an editor's rank is 1 + the number of editors significantly better.

Two editors whose paired bootstrap over shared samples is not significant (p >= 0.05) can share
a rank, and each row lists the editors it is not significantly different from. Reference rows
(oracle, identity) are never ranked.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from harness.statistics import paired_bootstrap
from leaderboard.cells import BoardRow, BoardTable, CellValues

ALPHA = 0.05
MIN_SHARED = 2


@dataclass(frozen=True)
class PairVerdict:
    better: str | None  # label of the significantly better editor, None when not significant
    n_shared: int
    p_value: float


def editor_label(row: BoardRow, duplicated: set[str]) -> str:
    """The editor's name, with a short fingerprint when one board holds two versions of it."""
    return f"{row.editor}@{row.editor_fp[:6]}" if row.editor in duplicated else row.editor


def compare_cells(a: CellValues, b: CellValues, label_a: str, label_b: str, *, seed: int = 0) -> PairVerdict:
    shared = sorted(set(a.values) & set(b.values))
    if len(shared) < MIN_SHARED:
        return PairVerdict(None, len(shared), 1.0)
    result = paired_bootstrap([a.values[s] for s in shared], [b.values[s] for s in shared], seed=seed)
    if result.p_value >= ALPHA:
        return PairVerdict(None, len(shared), result.p_value)
    a_higher = result.mean_difference > 0
    a_better = a_higher if a.higher_is_better else not a_higher
    return PairVerdict(label_a if a_better else label_b, len(shared), result.p_value)


def rank_table(table: BoardTable, *, seed: int = 0, groups_ranked: tuple[str, ...] = ("all",)) -> None:
    """Fill ``rank`` and ``tied_with`` of the micro, non-reference rows of ``groups_ranked`` in place.

    Only the headline group is ranked by default: every pair of editors costs one paired
    bootstrap per ranked group, and the breakdowns are shown as values, not ranks.
    """
    groups: dict[tuple[str, ...], list[BoardRow]] = defaultdict(list)
    for row in table.rows:
        row.rank, row.tied_with = None, []
        if row.reference or row.aggregation != "micro" or row.key not in table.cell_values:
            continue
        if row.group not in groups_ranked:
            continue
        groups[(row.suite, row.suite_version, row.split, row.metric, row.group)].append(row)
    for rows in groups.values():
        _rank_group(rows, table.cell_values, seed)


def _rank_group(rows: list[BoardRow], values: dict[tuple[str, ...], CellValues], seed: int) -> None:
    names = [r.editor for r in rows]
    duplicated = {n for n in names if names.count(n) > 1}
    labels = [editor_label(r, duplicated) for r in rows]
    beaten_by = [0] * len(rows)
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            verdict = compare_cells(values[rows[i].key], values[rows[j].key], labels[i], labels[j], seed=seed)
            if verdict.better is None:
                rows[i].tied_with.append(labels[j])
                rows[j].tied_with.append(labels[i])
            elif verdict.better == labels[i]:
                beaten_by[j] += 1
            else:
                beaten_by[i] += 1
    for row, count in zip(rows, beaten_by, strict=True):
        row.rank = 1 + count
        row.tied_with.sort()
