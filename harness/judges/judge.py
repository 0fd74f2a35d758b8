"""A VLM judge as a metric: prompts from versioned templates, replies parsed against a schema.

For each sample, pass and prompt the judge builds one request, looks it up in the call cache, checks
the budget, sends the misses to the backend in one batch, and parses the replies. A reply that does not
parse is re-asked (bounded by ``max_reask``) with the reason; what still fails is ``parse_failed``.
Refusals stay ``refused`` with the provider's code; transport failures and an exhausted budget are
``error``. None of these ever becomes a value. Each pass's sub-scores, the model snapshot the provider
returned, token usage, cost and cache hits are recorded in ``ScoreRecord.meta``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from harness.images import resize_to
from harness.judges import config as judge_config
from harness.judges.backends.base import ChatTurn, JudgeBackend, JudgeReply, JudgeRequest
from harness.judges.call_cache import JudgeCallCache, open_cache
from harness.judges.ledger import BudgetExhausted, LedgerEntry, price_usd, run_ledger
from harness.judges.parsing import PARSER_VERSION, ReplyParseError, ReplySchema, parse_reply, reask_text
from harness.judges.templates import PromptTemplate, load_template
from harness.protocols import BaseMetric
from harness.types import ScoreInput, ScoreRecord

FAILURE_ORDER = ("refused", "error", "parse_failed")


@dataclass(frozen=True)
class PromptSpec:
    key: str
    template: str
    schema: ReplySchema
    images: Literal["source+edited", "edited", "source+edited+target"] = "source+edited"
    version: str = "1"


@dataclass
class Job:
    index: int  # position of the sample in the batch
    pass_index: int
    spec: PromptSpec
    turns: tuple[ChatTurn, ...]
    status: str = "pending"
    scores: dict[str, float] = field(default_factory=dict)
    error: str = ""
    models: list[str] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    calls: int = 0
    cached_calls: int = 0
    reasks: int = 0
    waits_s: list[float] = field(default_factory=list)


def make_backend(settings: judge_config.JudgeConfig) -> JudgeBackend:
    if settings.backend == "openai":
        from harness.judges.backends.openai_compat import OpenAICompatibleBackend

        return OpenAICompatibleBackend(settings)
    from harness.judges.backends.transformers_vlm import TransformersVLMBackend

    return TransformersVLMBackend(settings)


class VLMJudge(BaseMetric):
    prompts: ClassVar[tuple[PromptSpec, ...]] = ()
    deterministic = False
    requires = frozenset({"source", "edited", "instruction"})

    def __init__(
        self,
        arg: str | None = None,
        *,
        settings: judge_config.JudgeConfig | None = None,
        backend: JudgeBackend | None = None,
    ) -> None:
        self.settings = settings or judge_config.current()
        self._backend = backend
        self.templates: dict[str, PromptTemplate] = {
            spec.key: load_template(spec.template, spec.version, self.settings.template_dir)
            for spec in self.prompts
        }

    # -- what subclasses define ------------------------------------------------------------------
    def placeholders(self, spec: PromptSpec, inp: ScoreInput) -> dict[str, str]:
        return {}

    def prompt_specs(self, inp: ScoreInput) -> tuple[PromptSpec, ...]:
        return self.prompts

    def combine(self, scores: dict[str, dict[str, float]], inp: ScoreInput) -> tuple[float, dict[str, float]]:
        """One pass's sub-scores (by prompt key) -> (value, components)."""
        raise NotImplementedError

    # -- identity and availability ---------------------------------------------------------------
    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        import os

        settings = judge_config.current()
        if settings.backend == "transformers":
            if not settings.local_model:
                return "local judge backend needs a model: set local_model to a model id or directory"
            from harness.metrics.learned import weights

            try:
                source = weights.resolve_hf_model(settings.local_model, weights.current())
            except weights.MissingWeightsError as exc:
                return str(exc)
            if source.smoke:
                return (
                    f"local judge {settings.local_model} has no weights (a random judge would score nothing)"
                )
            return None
        if "api.openai.com" in settings.base_url and not os.environ.get(settings.api_key_env):
            return (
                f"judge needs an endpoint: set {settings.api_key_env} for OpenAI, or point base_url at an "
                "OpenAI-compatible server (vLLM / SGLang)"
            )
        return None

    def config(self) -> dict[str, Any]:
        return {
            "decoding": self.settings.decoding(),
            "passes": self.settings.passes,
            "max_reask": self.settings.max_reask,
            "templates": {k: t.fingerprint() for k, t in self.templates.items()},
            "schemas": {spec.key: spec.schema.fingerprint() for spec in self.prompts},
            "edited_resized_to_source": True,
        }

    def backend(self) -> JudgeBackend:
        if self._backend is None:
            self._backend = make_backend(self.settings)
        return self._backend

    # -- scoring ------------------------------------------------------------------------------------
    def score(self, batch: Sequence[ScoreInput]) -> list[ScoreRecord]:
        records: list[ScoreRecord | None] = [None] * len(batch)
        jobs: list[Job] = []
        for index, inp in enumerate(batch):
            missing = self.applicable(inp.sample)
            if missing:
                records[index] = ScoreRecord(
                    self.name, inp.sample.id, None, status="not_applicable", error=missing
                )
                continue
            try:
                for pass_index in range(self.settings.passes):
                    for spec in self.prompt_specs(inp):
                        jobs.append(Job(index, pass_index, spec, (self.first_turn(spec, inp),)))
            except Exception as exc:
                records[index] = ScoreRecord(self.name, inp.sample.id, None, status="error", error=f"{exc}")
        self.run_jobs(jobs, batch)
        for index, inp in enumerate(batch):
            if records[index] is None:
                records[index] = self.sample_record(inp, [j for j in jobs if j.index == index])
        return [r for r in records if r is not None]

    def first_turn(self, spec: PromptSpec, inp: ScoreInput) -> ChatTurn:
        values = {"instruction": inp.sample.instruction, "schema": spec.schema.describe()}
        values.update(self.placeholders(spec, inp))
        source = inp.sample.source
        edited = resize_to(inp.edited, source.shape[:2])
        images: tuple[Any, ...] = {
            "source+edited": (source, edited),
            "edited": (edited,),
            "source+edited+target": (source, edited, inp.sample.target),
        }[spec.images]
        return ChatTurn(
            "user", self.templates[spec.key].render(**values), tuple(im for im in images if im is not None)
        )

    def run_jobs(self, jobs: list[Job], batch: Sequence[ScoreInput]) -> None:
        cache = open_cache(self.settings.resolved_cache_dir())
        pending = list(jobs)
        for round_index in range(self.settings.max_reask + 1):
            if not pending:
                return
            replies = self.call_all(pending, batch, cache)
            retry: list[Job] = []
            for job, reply in zip(pending, replies, strict=True):
                job.models.append(reply.model)
                if reply.status != "ok":
                    job.status, job.error = reply.status, reply.error or reply.refusal_code
                    if reply.status == "refused":
                        job.error = f"{reply.refusal_code}: {reply.error}".strip(": ")
                    continue
                try:
                    job.scores = parse_reply(reply.text, job.spec.schema)
                    job.status = "ok"
                except ReplyParseError as exc:
                    job.status, job.error = "parse_failed", f"unparseable judge reply: {exc}"
                    if round_index < self.settings.max_reask:
                        job.reasks += 1
                        job.turns = job.turns + (
                            ChatTurn("assistant", reply.text),
                            ChatTurn("user", reask_text(str(exc), job.spec.schema)),
                        )
                        retry.append(job)
            pending = retry

    def call_all(
        self, jobs: list[Job], batch: Sequence[ScoreInput], cache: JudgeCallCache
    ) -> list[JudgeReply]:
        settings = self.settings
        backend = self.backend()
        ledger = run_ledger()
        replies: list[JudgeReply | None] = [None] * len(jobs)
        to_send: list[tuple[int, str, JudgeRequest]] = []
        for position, job in enumerate(jobs):
            request = JudgeRequest(
                job.turns, job.spec.schema.name, job.spec.schema.json_schema(), job.pass_index
            )
            key = JudgeCallCache.key(
                {
                    "provider": backend.provider,
                    "endpoint": settings.base_url if settings.backend == "openai" else "local",
                    "decoding": settings.decoding(),
                    "messages": request.content(settings.image_encoding),
                    "schema": job.spec.schema.fingerprint(),
                    "pass": job.pass_index,
                    "parser": PARSER_VERSION,
                }
            )
            hit = cache.get(key)
            sample_id = batch[job.index].sample.id
            if hit is not None:
                replies[position] = JudgeReply.from_dict(hit)
                job.cached_calls += 1
                ledger.record(self._entry(job, sample_id, replies[position], 0.0, cached=True))
                continue
            to_send.append((position, key, request))
        # With a budget, calls go out in chunks of ``concurrency`` and each chunk is checked against the
        # spend so far: the overshoot is at most one chunk. Without one, the backend gets everything.
        chunk = max(1, settings.concurrency) if ledger.max_usd is not None else max(1, len(to_send))
        for start in range(0, len(to_send), chunk):
            reserved = []
            for position, key, request in to_send[start : start + chunk]:
                try:
                    ledger.try_reserve()
                except BudgetExhausted as exc:
                    replies[position] = JudgeReply("error", error=str(exc))
                    continue
                reserved.append((position, key, request))
            if not reserved:
                continue
            try:
                fresh = backend.complete([request for _, _, request in reserved])
            finally:
                for _ in reserved:
                    ledger.release()
            for (position, key, _request), reply in zip(reserved, fresh, strict=True):
                job = jobs[position]
                usd = price_usd(
                    settings.prices, reply.model or settings.model, reply.input_tokens, reply.output_tokens
                )
                job.calls += 1
                job.input_tokens += reply.input_tokens
                job.output_tokens += reply.output_tokens
                job.usd += usd
                job.waits_s += reply.waits_s
                ledger.record(self._entry(job, batch[job.index].sample.id, reply, usd, cached=False))
                if reply.cacheable():
                    cache.put(key, reply.to_dict())
                replies[position] = reply
        return [r if r is not None else JudgeReply("error", error="no reply") for r in replies]

    def _entry(self, job: Job, sample_id: str, reply: JudgeReply, usd: float, cached: bool) -> LedgerEntry:
        return LedgerEntry(
            self.name,
            sample_id,
            job.spec.key,
            job.pass_index,
            reply.model or self.settings.model,
            reply.input_tokens if not cached else 0,
            reply.output_tokens if not cached else 0,
            usd,
            cached,
            reply.status,
        )

    def sample_record(self, inp: ScoreInput, jobs: list[Job]) -> ScoreRecord:
        meta: dict[str, Any] = {
            "judge_models": sorted({m for j in jobs for m in j.models if m}),
            "temperature": self.settings.temperature,
            "seed": self.settings.seed,
            "passes": [],
            "calls": sum(j.calls for j in jobs),
            "cached_calls": sum(j.cached_calls for j in jobs),
            "reasks": sum(j.reasks for j in jobs),
            "input_tokens": sum(j.input_tokens for j in jobs),
            "output_tokens": sum(j.output_tokens for j in jobs),
            "cost_usd": round(sum(j.usd for j in jobs), 8),
            "retry_waits_s": [w for j in jobs for w in j.waits_s],
            "templates": {k: t.sha256[:16] for k, t in self.templates.items()},
        }
        for status in FAILURE_ORDER:
            failed = [j for j in jobs if j.status == status]
            if failed:
                return ScoreRecord(
                    self.name, inp.sample.id, None, status=status, error=failed[0].error, meta=meta
                )
        values, components_sum = [], {}
        for pass_index in range(self.settings.passes):
            scores = {j.spec.key: j.scores for j in jobs if j.pass_index == pass_index}
            value, components = self.combine(scores, inp)
            meta["passes"].append({"pass": pass_index, "scores": scores, "value": value})
            values.append(value)
            for name, number in components.items():
                components_sum[name] = components_sum.get(name, 0.0) + number
        count = len(values)
        components = {name: total / count for name, total in components_sum.items()}
        return ScoreRecord(self.name, inp.sample.id, sum(values) / count, components=components, meta=meta)
