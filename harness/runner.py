"""The runner: plan suites x editors x samples, edit in batches, score, record, aggregate.

Every image is stored once in the run's content-addressed store; every (sample, editor, metric)
is appended to ``records.jsonl`` as soon as it is known. Re-running the same command on the same
``--out`` skips what is already recorded (after a crash or ``kill -9`` too) and reuses cached
edits and scores from the embedded cache, so no finished work is redone.

Edits and scores go through an executor (``harness.backends``); with one that runs calls in the
background (Ray), the next batch's edits are in flight while the runner stores and scores the
previous batch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from harness import aggregate as agg
from harness import manifest as mf
from harness.backends import Pending, make_executor
from harness.cache import Cache, edit_key, score_key
from harness.fingerprint import stable_hash
from harness.images import ImageStore, image_hash
from harness.planning import ResolvedPlan, resolve_plan
from harness.protocols import fingerprint_id
from harness.records import EditRecord, JsonlLog, RunRecord, SampleRecord, TraceRecord
from harness.run_support import (
    batched,
    edit_payload,
    edit_record_from_cache,
    finish_run,
    jsonable,
    load_done,
    record_session,
    sample_input_hashes,
    score_from_cache,
    score_payload,
    validated_result,
)
from harness.sample_cache import SAMPLE_SET_VERSION, SampleCache, prefetched
from harness.sample_process import generated_in_process
from harness.types import EditRequest, EditResult, InvalidSample, Sample, ScoreInput, ScoreRecord

SAMPLE_BATCH = 32


@dataclass
class _MetricWork:
    """One metric's scores of one editor's edits in a batch: reused ones and a submitted call."""

    name: str
    todo: list[Sample]  # samples without a record for this (editor, metric)
    outcome: dict[str, tuple[ScoreRecord, bool]]  # sample id -> (score, reused from the cache)
    computing: list[tuple[Sample, str]]  # (sample, score cache key), in the order of ``call``
    call: Pending[ScoreRecord] | None


@dataclass
class _EditorWork:
    """One editor's part of a batch: known edits, submitted edit calls, then its metrics."""

    name: str
    samples: list[Sample]  # samples with at least one missing record for this editor
    edits: dict[str, tuple[EditRecord, Any]]  # sample id -> (edit record, edited image or None)
    calls: list[tuple[list[tuple[Sample, EditRequest, str]], Pending[EditResult]]]
    metrics: list[_MetricWork] = field(default_factory=list)


@dataclass
class _Batch:
    """A batch of samples on its way through submit edits -> submit scores -> write records."""

    suite_name: str
    split: str
    version: str
    size: int
    editors: list[_EditorWork] = field(default_factory=list)


class RunError(RuntimeError):
    """A problem with the run as asked (bad --out, nothing to run): one line for the user."""


@dataclass
class RunConfig:
    suites: Sequence[str] = ("all",)
    editors: Sequence[str] = ("identity", "oracle")
    metrics: Sequence[str] | None = None
    split: str | None = None
    limit: int | None = None
    seed: int = 0
    out: Path = Path("ieval-runs/default")
    shard: tuple[int, int] | None = None  # (k, n), 1-based k
    use_cache: bool = True
    cache_dir: Path | None = None
    batch_size: int = SAMPLE_BATCH
    backend: str = "local"
    ray_address: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["out"] = str(self.out)
        data["cache_dir"] = str(self.cache_dir) if self.cache_dir else None
        return data


@dataclass
class RunCounters:
    edits_computed: int = 0
    edits_reused: int = 0
    scores_computed: int = 0
    scores_reused: int = 0
    records_written: int = 0
    records_skipped: int = 0
    invalid_samples: int = 0
    # time the runner waited for edit / score results: the editors' and metrics' own time on the
    # local backend; on Ray, only what the pipeline did not hide
    editor_seconds: float = 0.0
    metric_seconds: float = 0.0
    cost_usd: float = 0.0


@dataclass
class RunSummary:
    out: Path
    counters: RunCounters
    cells: list[agg.Cell]
    unavailable: dict[str, str] = field(default_factory=dict)
    wall_seconds: float = 0.0
    smoke_excluded: int = 0
    primary_metrics: dict[str, str] = field(default_factory=dict)  # suite -> metric it ranks by


def run_evaluation(config: RunConfig, console: Console | None = None) -> RunSummary:
    console = console or Console(stderr=True)
    start = time.perf_counter()
    plan = resolve_plan(config)
    for name, reason in plan.unavailable.items():
        console.print(f"[yellow]skipped[/] {name}: {reason}")
    if not plan.suites:
        raise RunError("no suite is available to run (see the reasons above)")
    if not plan.editors:
        raise RunError("no editor is available to run (see the reasons above)")
    out = _prepare_out(config.out)
    run = _Run(config, plan, out, console)
    try:
        run.execute()
    finally:
        run.close()
    summary = finish_run(out, seed=config.seed, plan=plan)
    summary.counters = run.counters
    summary.unavailable = plan.unavailable
    summary.wall_seconds = time.perf_counter() - start
    record_session(out, summary)
    return summary


def _prepare_out(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise RunError(f"cannot write to --out {out}: {exc.strerror or exc}") from exc
    return out


class _Run:
    def __init__(self, config: RunConfig, plan: ResolvedPlan, out: Path, console: Console) -> None:
        self.config = config
        self.plan = plan
        self.out = out
        self.console = console
        self.counters = RunCounters()
        self.images = ImageStore(out / "images")
        self.cache = Cache(config.cache_dir) if config.use_cache else None
        self.done = load_done(out)
        options = {"address": config.ray_address} if config.backend == "ray" else {}
        self.executor = make_executor(config.backend, plan, **options)
        self._write_manifest()
        self.sample_log = JsonlLog(out / "samples.jsonl")
        self.edit_log = JsonlLog(out / "edits.jsonl")
        self.record_log = JsonlLog(out / "records.jsonl")
        if self.record_log.repaired_bytes or self.edit_log.repaired_bytes:
            console.print("[yellow]repaired a torn last record left by an interrupted run[/]")
        self.editor_fps = {name: fingerprint_id(editor) for name, editor in plan.editors.items()}
        self.metric_fps = {name: fingerprint_id(metric) for name, metric in plan.metrics.items()}

    def close(self) -> None:
        for log in (self.sample_log, self.edit_log, self.record_log):
            log.close()
        if self.cache is not None:
            self.cache.close()
        self.executor.close()

    def _write_manifest(self) -> None:
        path = self.out / "manifest.json"
        existing = mf.read_manifest(path)
        fingerprints = {
            "suites": {n: s.fingerprint() for n, s in self.plan.suites.items()},
            "editors": {n: e.fingerprint() for n, e in self.plan.editors.items()},
            "metrics": {n: m.fingerprint() for n, m in self.plan.metrics.items()},
        }
        manifest = mf.build_manifest(self.config.to_json(), fingerprints)
        manifest["primary_metrics"] = self.plan.primary_metrics
        if existing is not None:
            if existing.get("fingerprints") != jsonable(fingerprints):
                self.console.print(
                    "[yellow]warning:[/] components changed since this run directory was started; "
                    "finished records are kept and only missing ones are computed"
                )
            manifest["sessions"] = existing.get("sessions", [])
            manifest["created_unix"] = existing.get("created_unix", manifest["created_unix"])
        mf.write_manifest(path, manifest)

    # -- the loop -------------------------------------------------------------------------------
    def execute(self) -> None:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        ) as progress:
            for suite_name, suite in self.plan.suites.items():
                split = self.plan.splits[suite_name]
                task = progress.add_task(
                    f"{suite_name} [{split}]", total=self.plan.sample_counts.get(suite_name)
                )
                batches = batched(self._samples(suite_name, suite, split), self.config.batch_size, ramp=True)
                for recorded in self._pipeline(suite_name, split, batches):
                    progress.advance(task, recorded)

    def _pipeline(
        self, suite_name: str, split: str, batches: Iterator[list[Sample | InvalidSample]]
    ) -> Iterator[int]:
        """Take each batch through three steps: submit its edits; store its edits and submit its
        scores; write its records. Yields each batch's size once its records are written.

        With an executor whose calls run while the runner works (``overlaps``: Ray), the steps of
        three batches interleave: batch i+1's edits are submitted before batch i's edits are stored
        and its scores submitted, and batch i-1's records are written after that, so the actors
        always have queued work while the runner fetches samples, stores images and writes records.
        Otherwise each batch finishes before the next is read, as a plain loop would.
        """
        editing: _Batch | None = None  # edits submitted
        scoring: _Batch | None = None  # scores submitted
        for samples in batches:
            batch = self._submit_edits(suite_name, split, samples)
            if not self.executor.overlaps:
                self._submit_scores(batch)
                yield self._write_records(batch)
                continue
            if editing is not None:
                self._submit_scores(editing)
            if scoring is not None:
                yield self._write_records(scoring)
            scoring, editing = editing, batch
        if editing is not None:
            self._submit_scores(editing)
        for batch in (scoring, editing):
            if batch is not None:
                yield self._write_records(batch)

    def _sample_stream(self, suite_name: str, suite: Any, split: str) -> Iterator[Sample | InvalidSample]:
        """The suite's samples: from the sample cache when stored; a generated suite (one that sets
        ``cache_samples``) renders in a separate process; any other streams in a background thread."""
        limit = self.config.limit
        generated = getattr(suite, "cache_samples", False)
        samples = SampleCache(self.cache) if self.cache is not None and self.config.shard is None else None
        key = stable_hash(
            {"suite": suite.fingerprint(), "split": split, "limit": limit, "version": SAMPLE_SET_VERSION}
        )
        if generated and samples is not None:
            stored = samples.load(key, link_into=self.images)
            if stored is not None:
                return stored
        if generated:
            stream: Iterator[Sample | InvalidSample] = generated_in_process(
                suite_name, self.plan.suite_options[suite_name], split, limit, self.images.root,
                depth=2 * self.config.batch_size, suite=suite,
            )  # fmt: skip
        else:
            stream = prefetched(iter(suite.samples(split, limit=limit)), depth=2 * self.config.batch_size)
        if generated and samples is not None:
            stream = samples.recording(key, stream, run_store=self.images)
        return stream

    def _samples(self, suite_name: str, suite: Any, split: str) -> Iterator[Sample | InvalidSample]:
        shard = self.config.shard
        stream = self._sample_stream(suite_name, suite, split)
        index = 0
        while True:
            try:
                sample = next(stream)
            except StopIteration:
                return
            except Exception as exc:  # a broken loader ends its suite, not the run
                reason = f"suite stopped while loading sample {index}: {type(exc).__name__}: {exc}"
                self.console.print(f"[red]{suite_name}[/]: {reason}")
                yield InvalidSample(f"{suite_name}/loader-error-{index}", reason)
                return
            if shard is None or index % shard[1] == shard[0] - 1:
                yield sample
            index += 1

    def _submit_edits(self, suite_name: str, split: str, samples: list[Sample | InvalidSample]) -> _Batch:
        """Record the batch's samples, reuse finished and cached edits, submit the rest."""
        suite = self.plan.suites[suite_name]
        batch = _Batch(suite_name, split, suite.version, len(samples))
        valid = [s for s in samples if isinstance(s, Sample)]
        for sample in samples:
            self._record_sample(suite_name, split, sample)
            if isinstance(sample, InvalidSample):
                self._record_invalid(suite_name, suite.version, split, sample)
        if not valid:
            return batch
        metric_names = self.plan.suite_metrics[suite_name]
        for editor_name, editor in self.plan.editors.items():
            todo = [
                s for s in valid
                if any((suite_name, split, s.id, editor_name, m) not in self.done.records for m in metric_names)
            ]  # fmt: skip
            self.counters.records_skipped += (len(valid) - len(todo)) * len(metric_names)
            if todo:
                batch.editors.append(self._start_edits(suite_name, split, editor_name, editor, todo))
        return batch

    def _submit_scores(self, batch: _Batch) -> None:
        """Store the batch's edits as they come back, then submit its scores."""
        for work in batch.editors:
            self._finish_edits(batch.suite_name, batch.split, work)
            work.metrics = self._start_scores(batch, work)

    def _write_records(self, batch: _Batch) -> int:
        """Gather the batch's scores and write one record per (sample, editor, metric)."""
        for work in batch.editors:
            for scoring in work.metrics:
                self._finish_scores(batch, work, scoring)
        return batch.size

    # -- samples --------------------------------------------------------------------------------
    def _record_sample(self, suite_name: str, split: str, sample: Sample | InvalidSample) -> None:
        key = (suite_name, split, sample.id)
        if key in self.done.samples:
            return
        self.done.samples.add(key)
        if isinstance(sample, InvalidSample):
            self.counters.invalid_samples += 1
            record = SampleRecord(suite_name, split, sample.id, "", sample.category, sample.level,
                                  status="invalid", error=sample.reason)  # fmt: skip
        else:
            record = SampleRecord(
                suite=suite_name,
                split=split,
                sample_id=sample.id,
                instruction=sample.instruction,
                category=sample.category,
                level=sample.level,
                language=sample.language,
                turns=list(sample.turns),
                source_hash=self.images.put(sample.source),
                target_hash=self.images.put(sample.target) if sample.target is not None else "",
                mask_hash=self.images.put(sample.mask.astype("uint8") * 255)
                if sample.mask is not None
                else "",
            )
        self.sample_log.append(record)

    def _record_invalid(self, suite_name: str, version: str, split: str, sample: InvalidSample) -> None:
        for editor_name in self.plan.editors:
            for metric_name in self.plan.suite_metrics[suite_name]:
                if (suite_name, split, sample.id, editor_name, metric_name) in self.done.records:
                    continue
                metric = self.plan.metrics[metric_name]
                self._append_record(
                    RunRecord(
                        suite=suite_name, suite_version=version, split=split, sample_id=sample.id,
                        category=sample.category, level=sample.level, editor=editor_name,
                        editor_fp=self.editor_fps[editor_name], metric=metric_name,
                        metric_fp=self.metric_fps[metric_name], higher_is_better=metric.higher_is_better,
                        worst=metric.worst, status="error", edit_status="error", score_status="error",
                        error=f"invalid sample: {sample.reason}",
                        reference=self.plan.editors[editor_name].capabilities.reference,
                    )
                )  # fmt: skip

    # -- edits ----------------------------------------------------------------------------------
    def _start_edits(
        self, suite_name: str, split: str, editor_name: str, editor: Any, samples: list[Sample]
    ) -> _EditorWork:
        """Reuse edits from the run dir and the cache; submit the others in the editor's batch size."""
        results: dict[str, tuple[EditRecord, Any]] = {}
        pending: list[tuple[Sample, EditRequest, str]] = []
        caps = editor.capabilities
        for sample in samples:
            previous = self.done.edits.get((suite_name, split, sample.id, editor_name))
            if previous is not None and (previous.status != "ok" or self.images.has(previous.edited_hash)):
                image = self.images.get(previous.edited_hash) if previous.status == "ok" else None
                results[sample.id] = (previous, image)
                self.counters.edits_reused += 1
                continue
            request = EditRequest(
                sample_id=sample.id,
                source=sample.source,
                instruction=sample.instruction,
                turns=sample.turns,
                mask=sample.mask,
                seed=self.config.seed,
                ground_truth=sample if caps.needs_ground_truth else None,
            )
            key = self._edit_cache_key(editor_name, request)
            cached = (
                self.cache.get_edit(key) if (self.cache and getattr(editor, "cache_edits", True)) else None
            )
            if cached is not None:
                record = edit_record_from_cache(suite_name, split, sample.id, editor_name,
                                                 self.editor_fps[editor_name], cached.status,
                                                 cached.image_hash, cached.payload, caps.reference)  # fmt: skip
                image = None
                if cached.status == "ok":
                    self.images.copy_from(self.cache.blobs, cached.image_hash)
                    image = self.images.get(cached.image_hash)
                self._append_edit(record)
                results[sample.id] = (record, image)
                self.counters.edits_reused += 1
                continue
            pending.append((sample, request, key))
        calls = [
            (chunk, self.executor.submit_edit(editor_name, [request for _, request, _ in chunk]))
            for chunk in batched(pending, max(1, caps.batch_size))
        ]
        return _EditorWork(editor_name, samples, results, calls)

    def _finish_edits(self, suite_name: str, split: str, work: _EditorWork) -> None:
        """Wait for the submitted edits; store each image, record and cache entry."""
        editor = self.plan.editors[work.name]
        reference = editor.capabilities.reference
        for chunk, call in work.calls:
            outputs = self._edit_results(work.name, [request for _, request, _ in chunk], call)
            for (sample, _, key), result in zip(chunk, outputs, strict=True):
                record = self._store_edit(suite_name, split, sample.id, work.name, result, reference)
                if self.cache is not None and getattr(editor, "cache_edits", True):
                    if result.status == "ok":
                        self.cache.blobs.copy_from(self.images, record.edited_hash)
                    self.cache.put_edit(
                        key,
                        result.status,
                        record.edited_hash,
                        edit_payload(record),
                        failures_are_final=getattr(editor, "failures_are_final", False),
                    )
                work.edits[sample.id] = (record, result.image if result.status == "ok" else None)
                self.counters.edits_computed += 1
        work.calls = []

    def _edit_cache_key(self, editor_name: str, request: EditRequest) -> str:
        return edit_key(
            self.editor_fps[editor_name],
            image_hash(request.source),
            image_hash(request.mask) if request.mask is not None else "",
            request.instruction,
            request.turns,
            request.seed,
            dict(request.params),
        )

    def _edit_results(
        self, editor_name: str, requests: list[EditRequest], call: Pending[EditResult]
    ) -> list[EditResult]:
        """The results of a submitted edit call; when the call fails, each request alone."""
        start = time.perf_counter()
        try:
            outputs = call.result()
            if len(outputs) != len(requests):
                raise RuntimeError(f"editor returned {len(outputs)} results for {len(requests)} requests")
        except Exception:
            outputs = []
            for request in requests:  # isolate the item that raises
                try:
                    outputs.extend(self.executor.edit(editor_name, [request]))
                except Exception as exc:
                    outputs.append(EditResult(status="error", error=f"{type(exc).__name__}: {exc}"))
        self.counters.editor_seconds += time.perf_counter() - start
        return [validated_result(result) for result in outputs]

    def _store_edit(
        self,
        suite_name: str,
        split: str,
        sample_id: str,
        editor_name: str,
        result: EditResult,
        reference: bool,
    ) -> EditRecord:
        trace = []
        for step in result.trace:
            step_hash = step.image_hash
            if step.image is not None:
                step_hash = self.images.put(step.image)
            trace.append(TraceRecord(step.tool, jsonable(dict(step.arguments)), step.status,
                                     step.seconds, step.message, step_hash))  # fmt: skip
        record = EditRecord(
            suite=suite_name, split=split, sample_id=sample_id, editor=editor_name,
            editor_fp=self.editor_fps[editor_name], status=result.status,
            edited_hash=self.images.put(result.image) if result.status == "ok" else "",
            error=result.error, refusal_code=result.refusal_code, seconds=result.usage.seconds,
            calls=result.usage.calls, cost_usd=result.usage.cost_usd,
            input_tokens=result.usage.input_tokens, output_tokens=result.usage.output_tokens,
            trace=trace, provider=jsonable(dict(result.provider)), smoke=result.smoke, reference=reference,
        )  # fmt: skip
        self.counters.cost_usd += result.usage.cost_usd
        self._append_edit(record)
        return record

    def _append_edit(self, record: EditRecord) -> None:
        self.edit_log.append(record)
        self.done.edits[record.key] = record

    # -- scores ---------------------------------------------------------------------------------
    def _start_scores(self, batch: _Batch, work: _EditorWork) -> list[_MetricWork]:
        """Per metric: reuse cached scores of the editor's edits and submit the others."""
        edits = work.edits
        sample_inputs = {s.id: sample_input_hashes(s) for s in work.samples} if self.cache is not None else {}
        started = []
        for metric_name in self.plan.suite_metrics[batch.suite_name]:
            metric = self.plan.metrics[metric_name]
            todo = [
                s
                for s in work.samples
                if (batch.suite_name, batch.split, s.id, work.name, metric_name) not in self.done.records
            ]
            to_compute: list[tuple[Sample, str]] = []
            outcome: dict[str, tuple[ScoreRecord, bool]] = {}
            for sample in todo:
                edit, _ = edits[sample.id]
                if edit.status != "ok":
                    continue
                key = (
                    score_key(self.metric_fps[metric_name], sample_inputs[sample.id], edit.edited_hash)
                    if self.cache is not None
                    else ""
                )
                cached = self.cache.get_score(key) if (self.cache and metric.deterministic) else None
                if cached is not None:
                    outcome[sample.id] = (score_from_cache(metric_name, sample.id, cached), True)
                    self.counters.scores_reused += 1
                else:
                    to_compute.append((sample, key))
            call = (
                self.executor.submit_score(
                    metric_name, [ScoreInput(s, edits[s.id][1]) for s, _ in to_compute]
                )
                if to_compute
                else None
            )
            started.append(_MetricWork(metric_name, todo, outcome, to_compute, call))
        return started

    def _finish_scores(self, batch: _Batch, work: _EditorWork, scoring: _MetricWork) -> None:
        """Wait for one metric's submitted scores, cache them and write the metric's records."""
        if scoring.call is not None:
            start = time.perf_counter()
            scored = scoring.call.result()
            self.counters.metric_seconds += time.perf_counter() - start
            rows = []
            for (sample, key), record in zip(scoring.computing, scored, strict=True):
                scoring.outcome[sample.id] = (record, False)
                self.counters.scores_computed += 1
                # judges (not deterministic) are stored too, for `ieval verify` to replay, but never read back here
                if record.status in ("ok", "not_applicable"):
                    rows.append((key, record.status, record.value, score_payload(record)))
            if self.cache is not None:
                self.cache.put_scores(rows)
        for sample in scoring.todo:
            edit, _ = work.edits[sample.id]
            self._append_record(self._run_record(batch.suite_name, batch.version, batch.split, sample, work.name,
                                                 scoring.name, edit, scoring.outcome.get(sample.id)))  # fmt: skip

    def _run_record(
        self,
        suite_name: str,
        version: str,
        split: str,
        sample: Sample,
        editor_name: str,
        metric_name: str,
        edit: EditRecord,
        scored: tuple[ScoreRecord, bool] | None,
    ) -> RunRecord:
        metric = self.plan.metrics[metric_name]
        record = RunRecord(
            suite=suite_name, suite_version=version, split=split, sample_id=sample.id,
            category=sample.category, level=sample.level, editor=editor_name,
            editor_fp=self.editor_fps[editor_name], metric=metric_name, metric_fp=self.metric_fps[metric_name],
            higher_is_better=metric.higher_is_better, worst=metric.worst, status=edit.status,
            edit_status=edit.status, score_status="no_edit", error=edit.error, smoke=edit.smoke,
            reference=edit.reference, cached=edit.cached, latency_s=edit.seconds, cost_usd=edit.cost_usd,
        )  # fmt: skip
        missing = metric.applicable(sample) if scored is None and edit.status != "ok" else None
        if missing:  # a failed edit counts against the metrics that apply to its sample, not the others
            record.status = record.score_status = "not_applicable"
            record.error = f"{missing}; edit failed: {edit.error}"
        if scored is not None:
            score, cached = scored
            record.status = score.status
            record.score_status = score.status
            record.value = score.value if score.value is None or math.isfinite(score.value) else None
            if score.value is not None and record.value is None:
                record.status = record.score_status = "error"
                record.error = f"{metric_name} returned a non-finite value"
            else:
                record.error = score.error
            record.components = dict(score.components)
            record.smoke = record.smoke or score.smoke
            record.cached = record.cached and cached
        return record

    def _append_record(self, record: RunRecord) -> None:
        self.record_log.append(record)
        self.done.records.add(record.key)
        self.counters.records_written += 1


__all__ = ["RunConfig", "RunError", "RunSummary", "finish_run", "run_evaluation", "sample_input_hashes"]
