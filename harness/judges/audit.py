"""How often a judge agrees with the exact checkers: score a run's edited images with a judge and
compare with the weight-free reference on suites that have exact ground truth.

Reads a run directory (docs/ARCHITECTURE.md): ``samples.jsonl`` for instructions and source/target
hashes, ``edits.jsonl`` for edited-image hashes, ``records.jsonl`` for the exact metric's values, and
``images/`` for the pixels. Success is declared per suite (``synth_exact`` = 1 on synth-edit, PSNR
against the exact target >= 30 dB on photo-ops) and for the judge (value >= a threshold, by default
the middle of its range). Judge failures stay failures: they count against coverage, not agreement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.images import ImageStore
from harness.records import EditRecord, RunRecord, SampleRecord, read_jsonl
from harness.types import Sample, ScoreInput, ScoreRecord


@dataclass(frozen=True)
class ExactReference:
    metric: str
    threshold: float  # success when value >= threshold


EXACT_REFERENCES: dict[str, ExactReference] = {
    "synth-edit": ExactReference("synth_exact", 1.0),
    "photo-ops": ExactReference("psnr", 30.0),
}


class AuditInputError(ValueError):
    """The run directory cannot be audited (missing files, no exact values)."""


@dataclass
class AuditItem:
    suite: str
    sample_id: str
    editor: str
    level: str
    category: str
    exact_value: float
    exact_success: bool
    judge_status: str = ""
    judge_value: float | None = None
    judge_success: bool | None = None


@dataclass
class LevelConfusion:
    tp: int = 0  # judge success, exact success
    fp: int = 0  # judge success, exact failure
    fn: int = 0  # judge failure, exact success
    tn: int = 0

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    @property
    def accuracy(self) -> float | None:
        return (self.tp + self.tn) / self.n if self.n else None


@dataclass
class AuditReport:
    judge: str
    judge_threshold: float
    items: list[AuditItem]
    by_level: dict[str, LevelConfusion] = field(default_factory=dict)
    overall: LevelConfusion = field(default_factory=LevelConfusion)
    spearman: float | None = None
    statuses: dict[str, int] = field(default_factory=dict)

    @property
    def coverage(self) -> float:
        return self.statuses.get("ok", 0) / len(self.items) if self.items else 0.0

    def table(self) -> str:
        lines = [
            f"judge {self.judge} vs exact checkers: {len(self.items)} edits, coverage {self.coverage:.1%} "
            f"({', '.join(f'{k} {v}' for k, v in sorted(self.statuses.items()))})",
            f"{'level':<8}{'n':>5}{'acc':>8}{'TP':>5}{'FP':>5}{'FN':>5}{'TN':>5}",
        ]
        rows = sorted(self.by_level.items()) + [("all", self.overall)]
        for level, c in rows:
            acc = f"{c.accuracy:.3f}" if c.accuracy is not None else "-"
            lines.append(f"{level or '-':<8}{c.n:>5}{acc:>8}{c.tp:>5}{c.fp:>5}{c.fn:>5}{c.tn:>5}")
        rho = f"{self.spearman:.3f}" if self.spearman is not None else "-"
        lines.append(f"Spearman rho (judge value vs exact value, ok items): {rho}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "judge_threshold": self.judge_threshold,
            "n": len(self.items),
            "coverage": self.coverage,
            "statuses": self.statuses,
            "accuracy": self.overall.accuracy,
            "spearman": self.spearman,
            "by_level": {k: {**vars(v), "accuracy": v.accuracy} for k, v in sorted(self.by_level.items())},
        }


def load_run_inputs(
    run_dir: Path,
    suites: Sequence[str] = tuple(EXACT_REFERENCES),
    editors: Sequence[str] = (),
    references: dict[str, ExactReference] | None = None,
    limit: int | None = None,
) -> tuple[list[AuditItem], list[ScoreInput]]:
    """Pairs (item, ScoreInput) for every ok edit that has an ok exact value in the run directory."""
    references = references or EXACT_REFERENCES
    for name in ("samples.jsonl", "edits.jsonl", "records.jsonl"):
        if not (run_dir / name).is_file():
            raise AuditInputError(f"{run_dir} is not a run directory: {name} is missing")
    store = ImageStore(run_dir / "images")
    samples = {r.key: r for r in read_jsonl(run_dir / "samples.jsonl", SampleRecord)}
    edits = {r.key: r for r in read_jsonl(run_dir / "edits.jsonl", EditRecord)}
    items: list[AuditItem] = []
    inputs: list[ScoreInput] = []
    for record in read_jsonl(run_dir / "records.jsonl", RunRecord):
        reference = references.get(record.suite)
        if reference is None or record.metric != reference.metric or record.status != "ok":
            continue
        if editors and record.editor not in editors or suites and record.suite not in suites:
            continue
        if record.value is None:
            continue
        edit = edits.get((record.suite, record.split, record.sample_id, record.editor))
        sample = samples.get((record.suite, record.split, record.sample_id))
        if edit is None or sample is None or not edit.edited_hash or not store.has(edit.edited_hash):
            continue
        target = (
            store.get(sample.target_hash) if sample.target_hash and store.has(sample.target_hash) else None
        )
        inputs.append(
            ScoreInput(
                Sample(
                    id=f"{record.suite}/{record.sample_id}/{record.editor}",
                    source=store.get(sample.source_hash),
                    instruction=sample.instruction,
                    turns=tuple(sample.turns),
                    target=target,
                    category=sample.category,
                    level=sample.level,
                    language=sample.language,
                ),
                store.get(edit.edited_hash),
            )
        )
        items.append(
            AuditItem(
                record.suite,
                record.sample_id,
                record.editor,
                record.level,
                record.category,
                record.value,
                record.value >= reference.threshold,
            )
        )
        if limit is not None and len(items) >= limit:
            break
    if not items:
        raise AuditInputError(
            f"{run_dir} has no ok edits with exact values ({', '.join(r.metric for r in references.values())}) "
            "to audit against"
        )
    return items, inputs


def collect_from_suites(
    suites: Sequence[str],
    editors: Sequence[str],
    split: str = "test",
    limit: int | None = None,
    references: dict[str, ExactReference] | None = None,
) -> tuple[list[AuditItem], list[ScoreInput]]:
    """Run ``editors`` on the first ``limit`` samples of each suite (through the registry) and score them
    with the suite's exact reference: the same pairs ``load_run_inputs`` reads from a run directory."""
    from harness import registry
    from harness.types import EditRequest, InvalidSample

    references = references or EXACT_REFERENCES
    items: list[AuditItem] = []
    inputs: list[ScoreInput] = []
    for suite_name in suites:
        reference = references.get(suite_name)
        if reference is None:
            known = ", ".join(references)
            raise AuditInputError(f"{suite_name} has no exact checker to audit against; use one of {known}")
        suite = registry.suites.create(suite_name)
        exact = registry.metrics.create(reference.metric)
        samples = [s for s in suite.samples(split, limit) if not isinstance(s, InvalidSample)]
        for editor_name in editors:
            editor = registry.editors.create(editor_name)
            needs_truth = getattr(editor.capabilities, "needs_ground_truth", False)
            requests = [
                EditRequest(
                    s.id, s.source, s.instruction, s.turns, s.mask, ground_truth=s if needs_truth else None
                )
                for s in samples
            ]
            results = editor.edit(requests)
            pairs = [
                ScoreInput(s, r.image) for s, r in zip(samples, results, strict=True) if r.status == "ok"
            ]
            for inp, record in zip(pairs, exact.score(pairs), strict=True):
                if record.status != "ok" or record.value is None:
                    continue
                s = inp.sample
                audit_sample = Sample(
                    id=f"{suite_name}/{s.id}/{editor_name}",
                    source=s.source,
                    instruction=s.instruction,
                    turns=s.turns,
                    target=s.target,
                    category=s.category,
                    level=s.level,
                    language=s.language,
                )
                inputs.append(ScoreInput(audit_sample, inp.edited))
                items.append(
                    AuditItem(
                        suite_name,
                        s.id,
                        editor_name,
                        s.level,
                        s.category,
                        record.value,
                        record.value >= reference.threshold,
                    )
                )
    if not items:
        raise AuditInputError("no ok edits with exact values to audit")
    return items, inputs


def audit(
    judge: Any,
    items: list[AuditItem],
    inputs: list[ScoreInput],
    judge_threshold: float | None = None,
    batch_size: int = 32,
) -> AuditReport:
    """Score ``inputs`` with ``judge`` and tabulate agreement with the exact successes in ``items``."""
    low, high = judge.value_range
    threshold = (low + high) / 2.0 if judge_threshold is None else judge_threshold
    records: list[ScoreRecord] = []
    for start in range(0, len(inputs), batch_size):
        records += judge.score(inputs[start : start + batch_size])
    report = AuditReport(judge.name, threshold, items)
    for item, record in zip(items, records, strict=True):
        item.judge_status, item.judge_value = record.status, record.value
        report.statuses[record.status] = report.statuses.get(record.status, 0) + 1
        if record.status != "ok" or record.value is None:
            continue
        item.judge_success = record.value >= threshold
        for confusion in (report.by_level.setdefault(item.level, LevelConfusion()), report.overall):
            if item.judge_success and item.exact_success:
                confusion.tp += 1
            elif item.judge_success:
                confusion.fp += 1
            elif item.exact_success:
                confusion.fn += 1
            else:
                confusion.tn += 1
    scored = [(i.judge_value, i.exact_value) for i in items if i.judge_value is not None]
    if len(scored) >= 3:
        from scipy.stats import spearmanr

        rho = spearmanr([a for a, _ in scored], [b for _, b in scored]).statistic
        report.spearman = None if rho != rho else float(rho)  # NaN when either side is constant
    return report
