"""``ApiEditor``: a batch of edit requests run concurrently against one provider.

The runner calls ``edit(requests)`` synchronously; it runs the whole batch on an event loop,
at most ``ProviderLimits.max_concurrency`` edits in flight. Multi-turn samples run turn by turn,
each output feeding the next turn. Every outcome is an ``EditResult``: ``ok``, ``refused`` (with
the provider's reason code), ``error`` or ``timeout``, with calls, cost, tokens and provider
request ids recorded, and the API key redacted from every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import ssl
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from baselines.api.codec import decode_image_bytes
from baselines.api.errors import ApiFailure, PermanentFailure
from baselines.api.pricing import PRICES_AS_OF, per_image_price
from baselines.api.secrets import Secret
from baselines.api.transport import (
    CallContext,
    ProviderLimits,
    RateLimiter,
    RetryPolicy,
    http_failure,
    run_sync,
)
from harness.protocols import BaseEditor, EditorCapabilities
from harness.types import EditRequest, EditResult, Image, Mask, TraceStep, Usage

DEFAULT_BATCH_SIZE = 32
LANE_SIZE = 8  # connections per HTTP client
MAX_LANES = 8


@dataclass
class TurnOutput:
    """One provider call's image and what it cost; ``cost_usd`` None means the list price."""

    image: Image
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def public_url(url: str) -> str:
    """``url`` without credentials, query or fragment: safe for fingerprints and records."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context for every client: loading the CA bundle costs ~0.3 s per client otherwise."""
    import httpx

    return httpx.create_ssl_context()


class ApiEditor(BaseEditor):
    """Base of every closed-API editor. Subclasses set the class attributes and ``edit_turn``."""

    provider: ClassVar[str] = ""
    key_env: ClassVar[str] = ""
    default_base_url: ClassVar[str] = ""
    endpoint: ClassVar[str] = ""
    endpoint_version: ClassVar[str] = ""
    model: str = ""
    default_params: ClassVar[dict[str, Any]] = {}
    default_limits: ClassVar[ProviderLimits] = ProviderLimits()
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities(
        multi_turn=True, batch_size=DEFAULT_BATCH_SIZE
    )

    def __init__(
        self,
        arg: str | None = None,
        *,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int | None = None,
        requests_per_minute: float | None = None,
        **params: Any,
    ) -> None:
        unknown = sorted(set(params) - set(self.default_params))
        if unknown:
            raise ValueError(
                f"{self.editor_name(arg)}: unknown option(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(self.default_params)) or 'none'}"
            )
        self.name = self.editor_name(arg)
        self.params: dict[str, Any] = {**self.default_params, **params}
        env_url = os.environ.get(f"IEVAL_{self.provider.upper()}_BASE_URL")
        self.base_url = (base_url or env_url or self.default_base_url).rstrip("/")
        self.retry = retry or RetryPolicy()
        self.limits = ProviderLimits(
            max_concurrency=max_concurrency or self.default_limits.max_concurrency,
            requests_per_minute=requests_per_minute or self.default_limits.requests_per_minute,
        )
        self._limiter = RateLimiter(self.limits.requests_per_minute)
        self._key = Secret(os.environ.get(self.key_env, ""))

    # -- identity and availability ---------------------------------------------------------

    @classmethod
    def editor_name(cls, arg: str | None) -> str:
        return f"{cls.provider}/{cls.model}"

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        try:
            import httpx  # noqa: F401
        except ImportError:
            return "missing package httpx: pip install 'ieval[api]'"
        if not os.environ.get(cls.key_env):
            return f"{cls.key_env} is not set"
        return None

    def config(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "endpoint": self.endpoint,
            "endpoint_version": self.endpoint_version,
            "base_url": public_url(self.base_url),
            "params": dict(sorted(self.params.items())),
        }

    # -- cost ----------------------------------------------------------------------------

    def list_price_usd(self) -> float:
        """List price of one output image (0.0 when unknown; see docs/API_EDITORS.md)."""
        return per_image_price(self.name) or 0.0

    def estimate_cost_usd(self, request: EditRequest) -> float:
        """Expected cost of ``request`` before running it: one billed image per turn."""
        return max(1, len(request.turns)) * self.list_price_usd()

    # -- the provider call ---------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.base_url + path

    def generation_params(self, request: EditRequest) -> dict[str, Any]:
        """Editor params, overridden by request params of the same names."""
        return {**self.params, **{k: v for k, v in request.params.items() if k in self.params}}

    async def edit_turn(
        self, ctx: CallContext, image: Image, instruction: str, mask: Mask | None, request: EditRequest
    ) -> TurnOutput:
        raise NotImplementedError

    async def download_image(self, ctx: CallContext, url: str, what: str) -> Image:
        """Fetch a result URL (never with the API key); an expired URL is a final error."""

        def classify(response: Any) -> Image:
            if response.status_code == 200:
                return decode_image_bytes(response.content, f"{self.provider} {what}")
            if response.status_code in (401, 403, 404, 410):
                raise PermanentFailure(
                    f"{self.provider} {what}: result URL expired or not found (HTTP {response.status_code})",
                    http_status=response.status_code,
                )
            raise http_failure(response, f"{self.provider} {what}", "")

        return await ctx.request("GET", url, classify, what=what, follow_redirects=True)

    # -- the batch -----------------------------------------------------------------------

    def edit(self, requests: Sequence[EditRequest]) -> list[EditResult]:
        if not requests:
            return []
        return run_sync(lambda: self._edit_batch(list(requests)))

    async def _edit_batch(self, requests: list[EditRequest]) -> list[EditResult]:
        import httpx

        # A slot is a token naming one of a few clients ("lanes"). httpx's pool scans every
        # connection on each request event, so 4 pools of 8 cost far less CPU than one of 32.
        slots_n = self.limits.max_concurrency
        lanes_n = max(1, min(slots_n // LANE_SIZE, MAX_LANES))
        slots: asyncio.Queue[int] = asyncio.Queue()
        for slot in range(slots_n):
            slots.put_nowait(slot % lanes_n)
        per_lane = -(-slots_n // lanes_n)
        pool = httpx.Limits(max_connections=per_lane, max_keepalive_connections=per_lane)
        async with contextlib.AsyncExitStack() as stack:
            lanes = [
                await stack.enter_async_context(httpx.AsyncClient(limits=pool, verify=shared_ssl_context()))
                for _ in range(lanes_n)
            ]
            return list(await asyncio.gather(*(self._edit_one(lanes, slots, r) for r in requests)))

    async def _edit_one(
        self, lanes: list[Any], slots: asyncio.Queue[int], request: EditRequest
    ) -> EditResult:
        lane = await slots.get()
        try:
            return await self._edit_in_slot(lanes[lane], request)
        finally:
            slots.put_nowait(lane)

    async def _edit_in_slot(self, client: Any, request: EditRequest) -> EditResult:
        ctx = CallContext(client, self.retry, self._limiter, self.provider, secrets=(self._key.reveal(),))
        start = time.perf_counter()
        usage = Usage()
        trace: list[TraceStep] = []
        turn_meta: list[dict[str, Any]] = []
        try:
            if not self._key:
                raise PermanentFailure(f"{self.key_env} is not set")
            image = await self._run_turns(ctx, request, usage, trace, turn_meta)
            result = EditResult(status="ok", image=image)
        except ApiFailure as failure:
            result = EditResult(
                status=failure.status,
                error=ctx.clean(failure.message),
                refusal_code=failure.code if failure.status == "refused" else "",
            )
            if failure.code and failure.status != "refused":
                turn_meta.append({"error_code": ctx.clean(failure.code)})
        except Exception as exc:  # an unexpected body shape: recorded, never raised
            result = EditResult(status="error", error=ctx.clean(f"{type(exc).__name__}: {exc}")[:500])
        usage.calls = ctx.calls
        usage.seconds = time.perf_counter() - start
        result.usage = usage
        result.trace = trace
        result.provider = {
            "provider": self.provider,
            "model": self.model,
            "endpoint_version": self.endpoint_version,
            "request_ids": ctx.request_ids,
            "retries": ctx.retries,
            "prices_as_of": PRICES_AS_OF,
            "turns": turn_meta,
        }
        return result

    async def _run_turns(
        self,
        ctx: CallContext,
        request: EditRequest,
        usage: Usage,
        trace: list[TraceStep],
        turn_meta: list[dict[str, Any]],
    ) -> Image:
        instructions = list(request.turns) or [request.instruction]
        image = request.source
        for index, instruction in enumerate(instructions):
            turn_start = time.perf_counter()
            try:
                out = await self.edit_turn(ctx, image, instruction, request.mask, request)
            except ApiFailure as failure:
                if len(instructions) > 1:
                    failure.message = f"turn {index + 1}/{len(instructions)}: {failure.message}"
                raise
            usage.input_tokens += out.input_tokens
            usage.output_tokens += out.output_tokens
            usage.cost_usd += self.list_price_usd() if out.cost_usd is None else out.cost_usd
            turn_meta.append(out.meta)
            image = out.image
            if len(instructions) > 1:
                trace.append(
                    TraceStep(
                        tool=self.name,
                        arguments={"turn": index + 1, "instruction": instruction},
                        seconds=time.perf_counter() - turn_start,
                        image=out.image,
                    )
                )
        return image
