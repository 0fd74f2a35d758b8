"""The one HTTP layer under every API editor: limits, retries, time caps, request ids.

One ``CallContext`` covers one edit (all its turns, polls and downloads): it owns the edit's
deadline (``RetryPolicy.total_timeout_s``), counts HTTP calls, keeps the provider request ids
and the retry history. ``CallContext.request`` sends one logical request and retries it only
when the provider's classifier raised a ``retryable`` failure, waiting what the provider asked
(Retry-After, retry-after-ms, Gemini's retryDelay) or else an exponential backoff with jitter.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from baselines.api.errors import (
    ApiFailure,
    PermanentFailure,
    TimeoutFailure,
    TransientFailure,
)
from baselines.api.secrets import redact

log = logging.getLogger("baselines.api")
T = TypeVar("T")

REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-goog-request-id", "x-tt-logid", "x-amzn-requestid")


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often one edit may try. Waits honour the provider's Retry-After."""

    max_attempts: int = 5  # per logical request, the first try included
    initial_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    max_retry_after_s: float = 120.0  # a longer Retry-After gives up instead of waiting
    request_timeout_s: float = 180.0
    connect_timeout_s: float = 10.0
    total_timeout_s: float = 900.0  # the whole edit: every turn, retry, poll and download
    poll_interval_s: float = 1.5

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential backoff with jitter for ``attempt`` (1 = after the first failure)."""
        base = min(self.initial_backoff_s * 2 ** (attempt - 1), self.max_backoff_s)
        return base * rng.uniform(0.5, 1.0)


@dataclass(frozen=True)
class ProviderLimits:
    """Per-provider caps: edits in flight at once and request starts per minute (None: no cap)."""

    max_concurrency: int = 8
    requests_per_minute: float | None = None


class RateLimiter:
    """Strict spacing of request starts (``60 / rpm`` seconds apart); safe across event loops."""

    def __init__(self, requests_per_minute: float | None) -> None:
        self.interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self._next = 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


def parse_retry_after(headers: httpx.Headers) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date), else None."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


def parse_duration(text: Any) -> float | None:
    """Google's ``"30s"`` / ``"1.5s"`` durations to seconds."""
    if isinstance(text, str) and text.endswith("s"):
        try:
            return float(text[:-1])
        except ValueError:
            return None
    return None


@dataclass
class CallContext:
    """One edit's share of the client: deadline, counters, request ids, retry history."""

    client: httpx.AsyncClient
    policy: RetryPolicy
    limiter: RateLimiter
    provider: str
    secrets: tuple[str, ...] = field(default=(), repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)
    started: float = field(default_factory=time.monotonic)
    calls: int = 0
    request_ids: list[str] = field(default_factory=list)
    retries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def deadline(self) -> float:
        return self.started + self.policy.total_timeout_s

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def clean(self, text: str) -> str:
        return redact(text, self.secrets)

    async def request(
        self,
        method: str,
        url: str,
        classify: Callable[[httpx.Response], T],
        *,
        what: str,
        **kwargs: Any,
    ) -> T:
        """Send ``method url`` until ``classify`` returns a value or raises a final failure."""
        attempt = 0
        while True:
            attempt += 1
            await self.limiter.wait()
            remaining = self.remaining()
            if remaining <= 0:
                raise TimeoutFailure(f"{what}: total time cap of {self.policy.total_timeout_s:g} s reached")
            failure = await self._attempt(method, url, classify, what, remaining, kwargs)
            if not isinstance(failure, ApiFailure):
                return failure
            failure.message = self.clean(failure.message)
            wait = self._wait_before_retry(failure, attempt)
            if wait is None:
                raise failure
            self.retries.append(
                {
                    "what": what,
                    "attempt": attempt,
                    "http_status": failure.http_status,
                    "wait_s": round(wait, 3),
                }
            )
            log.info("%s %s: %s; retry %d in %.2f s", self.provider, what, failure.message, attempt, wait)
            await asyncio.sleep(wait)

    async def _attempt(
        self,
        method: str,
        url: str,
        classify: Callable[[httpx.Response], T],
        what: str,
        remaining: float,
        kwargs: dict[str, Any],
    ) -> T | ApiFailure:
        read = min(self.policy.request_timeout_s, remaining)
        timeout = httpx.Timeout(read, connect=min(self.policy.connect_timeout_s, read))
        self.calls += 1
        try:
            response = await self.client.request(method, url, timeout=timeout, **kwargs)
        except httpx.TimeoutException:
            return TimeoutFailure(f"{what}: no response within {read:.1f} s")
        except httpx.TransportError as exc:
            return TransientFailure(f"{what}: connection failed ({type(exc).__name__})")
        for header in REQUEST_ID_HEADERS:
            if header in response.headers:
                self.request_ids.append(self.clean(response.headers[header])[:200])
                break
        try:
            return classify(response)
        except ApiFailure as failure:
            return failure

    def _wait_before_retry(self, failure: ApiFailure, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when the failure is final."""
        if not failure.retryable:
            return None
        if attempt >= self.policy.max_attempts:
            failure.message += f" (gave up after {attempt} attempts)"
            return None
        if failure.retry_after is not None:
            if failure.retry_after > self.policy.max_retry_after_s:
                failure.message += f" (Retry-After {failure.retry_after:g} s exceeds the {self.policy.max_retry_after_s:g} s cap)"
                return None
            wait = failure.retry_after + self.rng.uniform(0.0, min(0.25, 0.1 * failure.retry_after))
        else:
            wait = self.policy.backoff(attempt, self.rng)
        if wait >= self.remaining():
            failure.message += f" (a retry in {wait:.1f} s would pass the total time cap)"
            return None
        return wait


def http_failure(
    response: httpx.Response, what: str, message: str, *, code: str = "", retry_after: float | None = None
) -> ApiFailure:
    """The default classification of an HTTP error status (providers refine refusals and quotas)."""
    status = response.status_code
    text = f"{what}: HTTP {status}" + (f" {code}" if code else "") + (f": {message[:300]}" if message else "")
    if retry_after is None:
        retry_after = parse_retry_after(response.headers)
    if status in (408, 409, 425, 429) or status >= 500:
        return TransientFailure(text, code=code, retry_after=retry_after, http_status=status)
    return PermanentFailure(text, code=code, http_status=status)


def run_sync(make_coro: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even when this thread already has a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coro())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make_coro())).result()
