"""Run-directory bookkeeping shared by the runner, merge and verification: what is already
done, cache payload conversions, and turning records into the leaderboard files."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import aggregate as agg
from harness import manifest as mf
from harness.fingerprint import stable_hash
from harness.images import image_hash
from harness.records import EditRecord, RunRecord, SampleRecord, TraceRecord, read_jsonl
from harness.types import EditResult, Sample, ScoreRecord

if TYPE_CHECKING:
    from harness.planning import ResolvedPlan
    from harness.runner import RunSummary


@dataclass
class DoneWork:
    """What an earlier session of this run directory already finished."""

    samples: set[tuple[str, str, str]] = field(default_factory=set)
    edits: dict[tuple[str, str, str, str], EditRecord] = field(default_factory=dict)
    records: set[tuple[str, str, str, str, str]] = field(default_factory=set)


def finish_run(out: Path, *, seed: int = 0, plan: ResolvedPlan | None = None) -> RunSummary:
    from harness.runner import RunCounters, RunSummary

    """Aggregate ``records.jsonl`` into ``leaderboard.csv`` and ``leaderboard.md``."""
    records = list(read_jsonl(out / "records.jsonl", RunRecord))
    if plan is None:
        manifest = mf.read_manifest(out / "manifest.json") or {}
        official: Any = official_from_registry
        primary = manifest.get("primary_metrics", {})
    else:
        official, primary = plan.official_aggregation, plan.primary_metrics
    cells, smoke = agg.aggregate(records, seed=seed, official=official)
    agg.write_csv(cells, out / "leaderboard.csv")
    agg.write_markdown(cells, out / "leaderboard.md", primary, smoke)
    return RunSummary(
        out=out, counters=RunCounters(), cells=cells, smoke_excluded=smoke, primary_metrics=dict(primary)
    )


def official_from_registry(suite_name: str) -> Any:
    from harness import registry

    try:
        factory, _ = registry.suites.factory(suite_name)
    except Exception:
        return None
    target = getattr(factory, "official_aggregation", None)
    return registry._resolve(target) if isinstance(target, str) else target


def record_session(out: Path, summary: RunSummary) -> None:
    path = out / "manifest.json"
    manifest = mf.read_manifest(path) or {}
    manifest.setdefault("sessions", []).append(
        {
            "finished_unix": time.time(),
            "wall_seconds": round(summary.wall_seconds, 3),
            "counters": asdict(summary.counters),
        }
    )
    manifest["wall_seconds_total"] = round(sum(s["wall_seconds"] for s in manifest["sessions"]), 3)
    manifest["cost_usd_total"] = round(sum(s["counters"]["cost_usd"] for s in manifest["sessions"]), 6)
    manifest["unavailable"] = summary.unavailable
    mf.write_manifest(path, manifest)


def load_done(out: Path) -> DoneWork:
    done = DoneWork()
    for record in read_jsonl(out / "samples.jsonl", SampleRecord):
        done.samples.add(record.key)
    for edit in read_jsonl(out / "edits.jsonl", EditRecord):
        done.edits[edit.key] = edit
    for record in read_jsonl(out / "records.jsonl", RunRecord):
        done.records.add(record.key)
    return done


def validated_result(result: Any) -> EditResult:
    if not isinstance(result, EditResult):
        return EditResult(status="error", error=f"editor returned {type(result).__name__}, not EditResult")
    if result.status == "ok":
        image = result.image
        if getattr(image, "ndim", 0) != 3 or image.shape[2] != 3 or str(image.dtype) != "uint8":
            shape = getattr(image, "shape", None)
            return EditResult(status="error", error=f"editor returned an image of shape {shape}, not HxWx3 uint8",
                              usage=result.usage, trace=result.trace)  # fmt: skip
    return result


def sample_input_hashes(sample: Sample) -> dict[str, str]:
    return {
        "source": image_hash(sample.source),
        "target": image_hash(sample.target) if sample.target is not None else "",
        "mask": image_hash(sample.mask) if sample.mask is not None else "",
        "text": stable_hash([sample.instruction, list(sample.turns), dict(sample.captions)]),
        "metadata": stable_hash(jsonable(dict(sample.metadata))),
    }


def edit_payload(record: EditRecord) -> dict[str, Any]:
    data = asdict(record)
    for key in ("suite", "split", "sample_id", "editor", "editor_fp", "cached", "reference"):
        data.pop(key, None)
    return data


def edit_record_from_cache(
    suite: str, split: str, sample_id: str, editor: str, editor_fp: str, status: str, image_hash_: str,
    payload: dict[str, Any], reference: bool,
) -> EditRecord:  # fmt: skip
    trace = [TraceRecord(**step) for step in payload.get("trace", [])]
    fields = {k: v for k, v in payload.items() if k not in ("trace", "status", "edited_hash")}
    return EditRecord(suite=suite, split=split, sample_id=sample_id, editor=editor, editor_fp=editor_fp,
                      status=status, edited_hash=image_hash_, trace=trace, reference=reference, cached=True,
                      **fields)  # fmt: skip


def score_payload(record: ScoreRecord) -> dict[str, Any]:
    return {"error": record.error, "components": dict(record.components), "smoke": record.smoke,
            "meta": jsonable(dict(record.meta))}  # fmt: skip


def score_from_cache(metric: str, sample_id: str, cached: Any) -> ScoreRecord:
    payload = cached.payload
    return ScoreRecord(metric, sample_id, cached.value, status=cached.status, error=payload.get("error", ""),
                       components=payload.get("components", {}), smoke=payload.get("smoke", False),
                       meta=payload.get("meta", {}))  # fmt: skip


def jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def batched(items: Any, size: int, *, ramp: bool = False) -> Iterator[list[Any]]:
    """Lists of ``size`` items. With ``ramp`` the first batches are 1, 2, 4, ... items, so work
    starts as soon as the first sample exists instead of after a whole batch is generated."""
    batch: list[Any] = []
    target = 1 if ramp else size
    for item in items:
        batch.append(item)
        if len(batch) >= target:
            yield batch
            batch = []
            target = min(size, target * 2)
    if batch:
        yield batch
