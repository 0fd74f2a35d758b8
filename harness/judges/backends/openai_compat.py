"""Any OpenAI-compatible ``/chat/completions`` endpoint (OpenAI, vLLM, SGLang) as a judge backend.

Images travel as ``data:`` URIs of the declared encoding; structured output is requested with
``response_format`` (``json_schema`` or ``json_object``) where configured. Failures are classified,
never turned into text: refusals and content filters (HTTP 400 moderation codes, ``message.refusal``,
``finish_reason == "content_filter"``) are ``refused`` with the provider's code; 408/409/429/5xx and
network errors are retried with exponential backoff and full jitter, honouring ``Retry-After`` /
``retry-after-ms``; quota errors and other 4xx are ``error`` at once.
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from harness.judges.backends.base import JudgeReply, JudgeRequest, data_uri, prepare_image
from harness.judges.config import JudgeConfig

RETRY_STATUS = {408, 409, 429}
REFUSAL_CODES = {
    "moderation_blocked",
    "content_policy_violation",
    "content_filter",
    "safety",
    "data_inspection_failed",
}
NOT_RETRYABLE_CODES = {"insufficient_quota", "credit_balance_exhausted", "billing_hard_limit_reached"}
REFUSAL_TEXTS = ("I'm sorry, but I can't assist with that request.",)


class OpenAICompatibleBackend:
    provider = "openai-compatible"

    def __init__(self, config: JudgeConfig, sleep: Callable[[float], None] = time.sleep) -> None:
        import httpx

        self.config = config
        self.sleep = sleep
        self.url = config.base_url.rstrip("/") + "/chat/completions"
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(config.api_key_env, "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(config.timeout_s, connect=10.0))

    # -- request body ---------------------------------------------------------------------------
    def body(self, request: JudgeRequest) -> dict[str, Any]:
        cfg = self.config
        messages = []
        for turn in request.turns:
            if turn.role == "assistant":
                messages.append({"role": "assistant", "content": turn.text})
                continue
            parts: list[dict[str, Any]] = [{"type": "text", "text": turn.text}]
            for image in turn.images:
                url = data_uri(prepare_image(image, cfg.max_image_side), cfg.image_encoding, cfg.jpeg_quality)
                parts.append({"type": "image_url", "image_url": {"url": url}})
            messages.append({"role": "user", "content": parts})
        body: dict[str, Any] = {
            "model": cfg.model,
            "messages": messages,
            "temperature": cfg.temperature,
            "seed": cfg.seed + request.pass_index,
            "max_tokens": cfg.max_tokens,
        }
        if cfg.structured_output == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "strict": True, "schema": request.json_schema},
            }
        elif cfg.structured_output == "json_object":
            body["response_format"] = {"type": "json_object"}
        return body

    # -- calls ------------------------------------------------------------------------------------
    def complete(self, requests: list[JudgeRequest]) -> list[JudgeReply]:
        if len(requests) <= 1:
            return [self.complete_one(r) for r in requests]
        with ThreadPoolExecutor(max_workers=max(1, self.config.concurrency)) as pool:
            return list(pool.map(self.complete_one, requests))

    def complete_one(self, request: JudgeRequest) -> JudgeReply:
        import httpx

        body = self.body(request)
        waits: list[float] = []
        last_error = ""
        attempts = 0
        for attempt in range(self.config.max_retries + 1):
            attempts = attempt + 1
            try:
                response = self._client.post(self.url, json=body)
            except httpx.HTTPError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                wait = self.backoff(attempt, None)
            else:
                reply = self.classify(response)
                if reply is not None:
                    reply.attempts, reply.waits_s = attempts, waits
                    return reply
                last_error = f"HTTP {response.status_code}: {_error_message(response)}"
                wait = self.backoff(attempt, response.headers)
            if attempt == self.config.max_retries:
                break
            waits.append(wait)
            self.sleep(wait)
        return JudgeReply(
            "error", error=f"{last_error} (after {attempts} attempts)", attempts=attempts, waits_s=waits
        )

    def classify(self, response: Any) -> JudgeReply | None:
        """A final reply, or None when the response is transient and should be retried."""
        status = response.status_code
        if status == 200:
            return self.parse_success(response)
        code, message = _error_code(response), _error_message(response)
        if code in NOT_RETRYABLE_CODES:
            return JudgeReply("error", error=f"HTTP {status} {code}: {message}")
        if status in RETRY_STATUS or status >= 500:
            return None
        if (
            code in REFUSAL_CODES
            or "safety" in message.lower()
            or "content management policy" in message.lower()
        ):
            return JudgeReply("refused", refusal_code=code or f"http_{status}", error=message)
        return JudgeReply("error", error=f"HTTP {status} {code}: {message}".replace("  ", " "))

    def parse_success(self, response: Any) -> JudgeReply:
        try:
            data = response.json()
            choice = data["choices"][0]
            message = choice.get("message") or {}
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            return JudgeReply("error", error=f"malformed response body ({type(exc).__name__})")
        usage = data.get("usage") or {}
        reply = JudgeReply(
            "ok",
            text=message.get("content") or "",
            model=str(data.get("model", "")),
            input_tokens=int(usage.get("prompt_tokens", 0) or 0),
            output_tokens=int(usage.get("completion_tokens", 0) or 0),
            system_fingerprint=str(data.get("system_fingerprint") or ""),
        )
        if message.get("refusal"):
            reply.status, reply.refusal_code, reply.error = "refused", "refusal", str(message["refusal"])
        elif choice.get("finish_reason") == "content_filter":
            reply.status, reply.refusal_code, reply.error = (
                "refused",
                "content_filter",
                "reply withheld by content filter",
            )
        elif reply.text.strip() in REFUSAL_TEXTS:
            reply.status, reply.refusal_code, reply.error = "refused", "refusal_text", reply.text.strip()
        return reply

    def backoff(self, attempt: int, headers: Any) -> float:
        """Seconds to wait: the server's Retry-After when given, else capped exponential full jitter."""
        told = _retry_after(headers) if headers is not None else None
        if told is not None:
            return min(told, self.config.backoff_max_s)
        ceiling = min(self.config.backoff_max_s, self.config.backoff_base_s * (2**attempt))
        return random.uniform(0.0, ceiling)

    def close(self) -> None:
        self._client.close()


def _retry_after(headers: Any) -> float | None:
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(0.0, float(raw_ms) / 1000.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(raw)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def _error_body(response: Any) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _error_code(response: Any) -> str:
    return str(_error_body(response).get("code") or "")


def _error_message(response: Any) -> str:
    message = _error_body(response).get("message")
    if message:
        return str(message)[:300]
    return (response.text or "")[:200].replace("\n", " ")
