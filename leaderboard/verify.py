"""Verify a submission: schema, hashes, and every deterministic metric re-computed from its images.

Ground truth never comes from the bundle: samples are re-created from the (deterministic) suite
named in the records and matched by id, and their source/target hashes are checked against
``samples.jsonl``. Each cell (suite, split, editor, metric) ends ``re-scored`` (every record
re-computed within the declared tolerance), ``mismatch`` (some value differs: the sample ids are
listed) or ``self-reported`` (with the reason nothing could be re-computed).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.images import ImageDecodeError
from harness.records import EditRecord, RunRecord, SampleRecord, from_dict
from harness.types import Sample, ScoreInput
from leaderboard.bundle import BundleError
from leaderboard.cells import PROVENANCE_MISMATCH, PROVENANCE_RESCORED, PROVENANCE_SELF, CellKey, cell_key
from leaderboard.ground_truth import GroundTruth
from leaderboard.judge_replay import JudgeReplay
from leaderboard.rundir import RunData, load_run


@dataclass(frozen=True)
class Tolerance:
    """A re-computed value matches when |reported - recomputed| <= abs_tol + rel_tol * |recomputed|."""

    abs_tol: float = 1e-4
    rel_tol: float = 1e-4

    def matches(self, reported: float, recomputed: float) -> bool:
        return abs(reported - recomputed) <= self.abs_tol + self.rel_tol * abs(recomputed)


@dataclass
class CellVerdict:
    suite: str
    split: str
    editor: str
    editor_fp: str
    metric: str
    provenance: str
    n_records: int = 0
    n_rescored: int = 0
    mismatched: list[str] = field(default_factory=list)  # sample ids
    reason: str = ""

    @property
    def key(self) -> CellKey:
        return (self.suite, self.split, self.editor, self.editor_fp, self.metric)


@dataclass
class VerificationReport:
    run_id: str
    tolerance: Tolerance
    cells: list[CellVerdict]

    @property
    def ok(self) -> bool:
        return not any(c.provenance == PROVENANCE_MISMATCH for c in self.cells)

    def provenance(self, key: CellKey) -> str:
        for cell in self.cells:
            if cell.key == key:
                return cell.provenance
        return PROVENANCE_SELF

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "tolerance": asdict(self.tolerance),
            "cells": [asdict(c) for c in self.cells],
        }

    def lines(self) -> list[str]:
        out = []
        for c in self.cells:
            head = f"{c.provenance:13s} {c.suite}/{c.split} {c.editor} {c.metric}: {c.n_rescored}/{c.n_records} re-scored"
            if c.mismatched:
                shown = ", ".join(c.mismatched[:20]) + (" …" if len(c.mismatched) > 20 else "")
                head += f"; values differ for {len(c.mismatched)} samples: {shown}"
            if c.reason:
                head += f" ({c.reason})"
            out.append(head)
        return out


def check_schema(root: Path) -> None:
    """Every line of every record file parses into its dataclass; raise BundleError naming the line."""
    for name, cls in (
        ("samples.jsonl", SampleRecord),
        ("edits.jsonl", EditRecord),
        ("records.jsonl", RunRecord),
    ):
        path = root / name
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    if not isinstance(data, dict):
                        raise ValueError("not an object")
                    from_dict(cls, data)
                except (ValueError, TypeError) as exc:
                    raise BundleError(
                        f"bundle rejected: {name} line {number} is not a valid {cls.__name__} ({exc})"
                    ) from exc


def verify_run_dir(
    root: str | Path,
    *,
    tolerance: Tolerance = Tolerance(),
    rejudge: bool = False,
    cache_dir: str | None = None,
    keep_samples: list[Sample] | None = None,
) -> VerificationReport:
    """Verify an extracted bundle (a run directory) and write ``verification.json`` beside it.

    ``keep_samples``, when given, receives the re-created samples (the board stores their images).
    """
    root = Path(root)
    check_schema(root)
    run = load_run(root)
    ground_truth = GroundTruth(run)
    report = verify_run(
        run, tolerance=tolerance, rejudge=rejudge, cache_dir=cache_dir, ground_truth=ground_truth
    )
    if keep_samples is not None:
        keep_samples.extend(ground_truth.loaded())
    (root / "verification.json").write_text(
        json.dumps(report.to_json(), indent=1, sort_keys=True), encoding="utf-8"
    )
    return report


def verify_run(
    run: RunData,
    *,
    tolerance: Tolerance = Tolerance(),
    rejudge: bool = False,
    cache_dir: str | None = None,
    ground_truth: GroundTruth | None = None,
) -> VerificationReport:
    cells: dict[CellKey, list[RunRecord]] = defaultdict(list)
    for record in run.records:
        cells[cell_key(record)].append(record)
    edits = run.edit_index()
    ground_truth = ground_truth if ground_truth is not None else GroundTruth(run)
    replay = JudgeReplay(cache_dir=cache_dir, rejudge=rejudge)
    metrics = MetricPool()
    verdicts = []
    for key, records in sorted(cells.items()):
        verdicts.append(_verify_cell(key, records, run, edits, ground_truth, replay, tolerance, metrics))
    return VerificationReport(run.run_id, tolerance, verdicts)


SCORE_BATCH = 32  # samples scored per metric call, as the runner batches them


def _verify_cell(
    key: CellKey,
    records: Sequence[RunRecord],
    run: RunData,
    edits: dict[tuple[str, str, str, str], EditRecord],
    ground_truth: GroundTruth,
    replay: JudgeReplay,
    tolerance: Tolerance,
    metrics: MetricPool,
) -> CellVerdict:
    suite, split, editor, editor_fp, metric_name = key
    verdict = CellVerdict(
        suite, split, editor, editor_fp, metric_name, PROVENANCE_SELF, n_records=len(records)
    )
    metric, reason = metrics.get(metric_name, records[0].metric_fp)
    if metric is None:
        verdict.reason = reason
        return verdict
    reasons: list[str] = []
    pending: list[RunRecord] = []
    for record in records:
        if record.edit_status != "ok":
            if record.status == "ok" or record.value is not None:
                verdict.mismatched.append(record.sample_id)  # a failed edit cannot carry a score
            else:
                verdict.n_rescored += 1  # nothing to score; the failure itself is what is reported
            continue
        pending.append(record)
    for start in range(0, len(pending), SCORE_BATCH):
        batch = _load_batch(pending[start : start + SCORE_BATCH], run, edits, ground_truth, verdict, reasons)
        if batch:
            _rescore(metric, batch, replay, tolerance, verdict, reasons)
    verdict.mismatched = sorted(set(verdict.mismatched))
    if verdict.mismatched:
        verdict.provenance = PROVENANCE_MISMATCH
    elif verdict.n_rescored == verdict.n_records:
        verdict.provenance = PROVENANCE_RESCORED
    if reasons:
        verdict.reason = f"{verdict.n_records - verdict.n_rescored} not re-scored: {sorted(set(reasons))[0]}"
    return verdict


def _load_batch(
    records: Sequence[RunRecord],
    run: RunData,
    edits: dict[tuple[str, str, str, str], EditRecord],
    ground_truth: GroundTruth,
    verdict: CellVerdict,
    reasons: list[str],
) -> list[tuple[RunRecord, ScoreInput, str]]:
    batch = []
    for record in records:
        edit = edits.get((record.suite, record.split, record.sample_id, record.editor))
        if edit is None or not edit.edited_hash or not run.images.has(edit.edited_hash):
            verdict.mismatched.append(record.sample_id)
            reasons.append("edited image missing")
            continue
        sample, problem = ground_truth.get(record.suite, record.split, record.sample_id)
        if sample is None:
            reasons.append(problem)
            continue
        try:
            edited = run.images.get(edit.edited_hash)
        except (OSError, ImageDecodeError) as exc:
            reasons.append(f"cannot read image: {exc}")
            continue
        batch.append((record, ScoreInput(sample, edited), edit.edited_hash))
    return batch


def _rescore(
    metric: Any,
    batch: list[tuple[RunRecord, ScoreInput, str]],
    replay: JudgeReplay,
    tolerance: Tolerance,
    verdict: CellVerdict,
    reasons: list[str],
) -> None:
    if not getattr(metric, "deterministic", True):
        rescored, why = replay.score(metric, batch)
        if why:
            reasons.append(why)
    else:
        rescored = list(metric.score([inp for _, inp, _ in batch]))
    for (record, _, _), fresh in zip(batch, rescored, strict=True):
        if fresh is None:
            continue
        if _same_outcome(record, fresh.status, fresh.value, tolerance):
            verdict.n_rescored += 1
        else:
            verdict.mismatched.append(record.sample_id)


class MetricPool:
    """Each metric created once per verification (learned metrics load weights on creation)."""

    def __init__(self) -> None:
        self._made: dict[str, tuple[Any, str]] = {}

    def get(self, name: str, declared_fp: str) -> tuple[Any, str]:
        if name not in self._made:
            self._made[name] = _create_metric(name)
        metric, reason = self._made[name]
        if metric is None:
            return None, reason
        from harness.protocols import fingerprint_id

        local_fp = fingerprint_id(metric)
        if declared_fp and declared_fp not in (local_fp, _full_fp(metric)):
            return None, f"metric {name} fingerprint {declared_fp} differs from this install's {local_fp}"
        return metric, ""


def _create_metric(name: str) -> tuple[Any, str]:
    from harness import registry

    try:
        return registry.metrics.create(name), ""
    except Exception as exc:
        return None, f"cannot create metric {name}: {str(exc).splitlines()[0][:200]}"


def _full_fp(metric: Any) -> str:
    from harness.fingerprint import stable_hash

    return stable_hash(metric.fingerprint())


def _same_outcome(record: RunRecord, status: str, value: float | None, tolerance: Tolerance) -> bool:
    if record.score_status != status and not (
        record.score_status == "ok" and record.status == "ok" and status == "ok"
    ):
        return False
    if status != "ok":
        return record.value is None
    return (
        record.value is not None
        and value is not None
        and tolerance.matches(float(record.value), float(value))
    )


def verify_bundle(
    bundle: str | Path,
    *,
    tolerance: Tolerance = Tolerance(),
    rejudge: bool = False,
    cache_dir: str | None = None,
) -> VerificationReport:
    """Check and unpack ``bundle`` into a temporary folder, then verify it."""
    import tempfile

    from leaderboard.bundle import extract_bundle

    with tempfile.TemporaryDirectory(prefix="ieval-verify-") as tmp:
        root = extract_bundle(bundle, Path(tmp) / "run")
        return verify_run_dir(root, tolerance=tolerance, rejudge=rejudge, cache_dir=cache_dir)
