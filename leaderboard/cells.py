"""Leaderboard rows: one per (suite, version, split, editor, editor fp, metric, aggregation, group).

A row's headline ``value`` is the strict mean (a failed sample counts as the metric's worst value),
with a seeded bootstrap 95% CI over the same per-sample values; the valid-only mean and coverage
sit beside it. Records tagged ``smoke`` (random weights) never enter; ``not_applicable`` records
are excluded from ``n``.
"""

from __future__ import annotations

import math
import statistics as pystats
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.records import RunRecord
from harness.statistics import bootstrap_ci
from leaderboard.rundir import RunData

PROVENANCE_RESCORED = "re-scored"
PROVENANCE_SELF = "self-reported"
PROVENANCE_MISMATCH = "mismatch"

CellKey = tuple[str, str, str, str, str]  # (suite, split, editor, editor_fp, metric)


@dataclass
class BoardRow:
    suite: str
    suite_version: str
    split: str
    editor: str
    editor_fp: str
    metric: str
    aggregation: str  # "micro" or "official"
    group: str  # "all", "level=L2", "category=recolor", "official"
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    n_ok: int
    coverage: float | None
    strict_mean: float | None
    valid_mean: float | None
    higher_is_better: bool = True
    reference: bool = False
    judge_model: str = ""
    cost_usd: float = 0.0
    median_latency_s: float | None = None
    run_id: str = ""
    manifest_hash: str = ""
    provenance: str = PROVENANCE_SELF
    rank: int | None = None
    tied_with: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, ...]:
        return (
            self.suite, self.suite_version, self.split, self.editor, self.editor_fp,
            self.metric, self.aggregation, self.group,
        )  # fmt: skip

    @property
    def cell(self) -> CellKey:
        return (self.suite, self.split, self.editor, self.editor_fp, self.metric)


@dataclass
class CellValues:
    """Per-sample strict values of one cell, for paired tests between editors."""

    values: dict[str, float]  # sample_id -> strict value
    higher_is_better: bool


@dataclass
class BoardTable:
    rows: list[BoardRow]
    cell_values: dict[tuple[str, ...], CellValues]  # row.key -> per-sample values (micro rows)
    smoke_excluded: int = 0


def cell_key(record: RunRecord) -> CellKey:
    return (record.suite, record.split, record.editor, record.editor_fp, record.metric)


def is_smoke(record: RunRecord, smoke_edits: set[tuple[str, str, str, str]]) -> bool:
    return record.smoke or (record.suite, record.split, record.sample_id, record.editor) in smoke_edits


def strict_value(record: RunRecord) -> float:
    return float(record.value) if record.status == "ok" and record.value is not None else float(record.worst)


def judge_model_of(manifest: Mapping[str, Any], metric: str) -> str:
    """The judge model snapshot recorded in the manifest's fingerprint of ``metric``, if any."""
    fingerprints = manifest.get("fingerprints", {})
    if not isinstance(fingerprints, Mapping):
        return ""
    tables = [fingerprints.get("metrics", {}), fingerprints.get("judges", {}), fingerprints]
    for table in tables:
        if isinstance(table, Mapping) and isinstance(table.get(metric), Mapping):
            found = _find_model(table[metric])
            if found:
                return found
    return ""


def _find_model(value: Any, depth: int = 0) -> str:
    if depth > 4 or not isinstance(value, Mapping):
        return ""
    for key in ("model_snapshot", "snapshot", "model"):
        if isinstance(value.get(key), str) and value[key]:
            return str(value[key])
    for child in value.values():
        found = _find_model(child, depth + 1)
        if found:
            return found
    return ""


def compute_rows(
    runs: Sequence[RunData],
    *,
    provenance: Callable[[RunData, CellKey], str] | None = None,
    official: Callable[[str], Callable[..., float] | None] | None = None,
    seed: int = 0,
) -> BoardTable:
    """Rows for every cell of every run; later runs replace earlier rows with the same key."""
    by_key: dict[tuple[str, ...], BoardRow] = {}
    values_by_key: dict[tuple[str, ...], CellValues] = {}
    smoke_excluded = 0
    for run in runs:
        smoke_edits = {e.key for e in run.edits if e.smoke}
        cells: dict[CellKey, list[RunRecord]] = defaultdict(list)
        for record in run.records:
            if is_smoke(record, smoke_edits):
                smoke_excluded += 1
                continue
            if record.score_status == "not_applicable" or record.status == "not_applicable":
                continue
            cells[cell_key(record)].append(record)
        for key, records in cells.items():
            status = provenance(run, key) if provenance else PROVENANCE_SELF
            for row, values in _cell_rows(run, records, status, official, seed):
                by_key[row.key] = row
                if values is not None:
                    values_by_key[row.key] = values
    rows = sorted(by_key.values(), key=_row_order)
    return BoardTable(rows, {k: v for k, v in values_by_key.items() if k in by_key}, smoke_excluded)


def _row_order(row: BoardRow) -> tuple[Any, ...]:
    group_rank = 0 if row.group == "all" else 1 if row.group == "official" else 2
    return (row.suite, row.split, row.metric, group_rank, row.group, row.reference, row.editor)


def _cell_rows(
    run: RunData,
    records: list[RunRecord],
    provenance: str,
    official: Callable[[str], Callable[..., float] | None] | None,
    seed: int,
) -> Iterable[tuple[BoardRow, CellValues | None]]:
    first = records[0]
    groups: dict[str, list[RunRecord]] = {"all": records}
    for record in records:
        if record.level:
            groups.setdefault(f"level={record.level}", []).append(record)
        if record.category:
            groups.setdefault(f"category={record.category}", []).append(record)
    common = {
        "suite": first.suite,
        "suite_version": first.suite_version,
        "split": first.split,
        "editor": first.editor,
        "editor_fp": first.editor_fp,
        "metric": first.metric,
        "higher_is_better": first.higher_is_better,
        "reference": any(r.reference for r in records),
        "judge_model": judge_model_of(run.manifest, first.metric),
        "run_id": run.run_id,
        "manifest_hash": run.manifest_hash,
        "provenance": provenance,
    }
    for group, members in groups.items():
        yield _summarise(members, common, "micro", group, seed)
    aggregate = official(first.suite) if official else None
    if aggregate is not None:
        row = _official_row(records, common, aggregate)
        if row is not None:
            yield row, None


def _summarise(
    records: list[RunRecord], common: dict[str, Any], aggregation: str, group: str, seed: int
) -> tuple[BoardRow, CellValues]:
    strict = {r.sample_id: strict_value(r) for r in records}
    ok_values = [float(r.value) for r in records if r.status == "ok" and r.value is not None]
    n = len(strict)
    n_ok = len(ok_values)
    strict_mean = sum(strict.values()) / n if n else None
    low, high = bootstrap_ci(list(strict.values()), seed=seed) if n else (math.nan, math.nan)
    latencies = [r.latency_s for r in records]
    row = BoardRow(
        aggregation=aggregation,
        group=group,
        value=strict_mean,
        ci_low=None if math.isnan(low) else low,
        ci_high=None if math.isnan(high) else high,
        n=n,
        n_ok=n_ok,
        coverage=n_ok / n if n else None,
        strict_mean=strict_mean,
        valid_mean=sum(ok_values) / n_ok if n_ok else None,
        cost_usd=float(sum(r.cost_usd for r in records)),
        median_latency_s=float(pystats.median(latencies)) if latencies else None,
        **common,
    )
    return row, CellValues(strict, bool(common["higher_is_better"]))


def _official_row(
    records: list[RunRecord], common: dict[str, Any], aggregate: Callable[..., float]
) -> BoardRow | None:
    from harness.protocols import ScoredItem

    # as the benchmarks' own scripts do (and harness.aggregate): the official number is over the
    # samples that were scored; coverage beside it says how many that was
    items = [
        ScoredItem(r.sample_id, r.category, r.level, float(r.value))
        for r in records
        if r.status == "ok" and r.value is not None
    ]
    if not items:
        return None
    try:
        value = float(aggregate(items))
    except Exception:  # an aggregation that cannot handle this cell leaves the row out
        return None
    n_ok = sum(1 for r in records if r.status == "ok")
    row, _ = _summarise(records, common, "official", "official", 0)
    row.value, row.ci_low, row.ci_high = value, None, None
    row.n_ok = n_ok
    return row


def official_aggregation_for(suite: str) -> Callable[..., float] | None:
    """The suite's declared ``official_aggregation`` (callable or lazy ``"module:attr"``), if any."""
    from harness import registry

    try:
        factory, _ = registry.suites.factory(suite)
    except (LookupError, ImportError):
        return None
    declared = getattr(factory, "official_aggregation", None)
    if isinstance(declared, str):
        try:
            declared = registry._resolve(declared)
        except (ImportError, AttributeError):
            return None
    return declared if callable(declared) else None
