"""The mock's Volcengine Ark API: ``POST /api/v3/images/generations`` (OpenAI-Images-like)."""

from __future__ import annotations

import time
from typing import Any

from baselines.api.mock.faults import mock_edit
from baselines.api.mock.providers.common import (
    ErrorTable,
    b64,
    bearer,
    decode_input,
    delivery,
    fault_reply,
    not_found,
    start,
    store,
    truncated_b64,
)
from baselines.api.mock.server import Exchange, Reply, json_reply
from harness.images import encode_png


def _error(code: str, message: str, kind: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": f"{message} Request id: mock", "param": "", "type": kind}}


ARK_ERRORS: ErrorTable = {
    "429": lambda r, k: (
        429,
        _error(
            "RateLimitExceeded.EndpointIPMExceeded", "Image per minute limit exceeded.", "TooManyRequests"
        ),
        {},
    ),
    "quota": lambda r, k: (
        403,
        _error("AccountOverdueError", "Your account has an overdue balance.", "Forbidden"),
        {},
    ),
    "500": lambda r, k: (500, _error("InternalServiceError", "Internal error.", "InternalServerError"), {}),
    "503": lambda r, k: (503, _error("ServiceUnavailable", "Service unavailable.", "ServiceUnavailable"), {}),
    "refusal": lambda r, k: (
        400,
        _error(
            "InputImageSensitiveContentDetected",
            "The input image may contain sensitive content.",
            "BadRequest",
        ),
        {},
    ),
    "invalid": lambda r, k: (
        400,
        _error("InvalidParameter", "The parameter `size` is invalid.", "BadRequest"),
        {},
    ),
    "auth": lambda r, k: (
        401,
        _error("AuthenticationError", f"The API key {k} is invalid.", "Unauthorized"),
        {},
    ),
}


def ark(ex: Exchange) -> Reply:
    if ex.path.startswith("/delivery/"):
        return delivery(ex)
    if (ex.method, ex.path) != ("POST", "/api/v3/images/generations"):
        return not_found(ex)
    key = bearer(ex)
    early = start(ex, "POST /api/v3/images/generations", key)
    if early:
        return early
    state = ex.server.state
    body = ex.json()
    model, prompt = str(body.get("model", "")), str(body.get("prompt", ""))
    rule = state.fault_for("ark", model, prompt)
    fault = fault_reply(ex, rule, key, ARK_ERRORS)
    if fault:
        return fault
    image = body.get("image")
    source, source_bytes = decode_input(image[0] if isinstance(image, list) else image)
    edited = encode_png(mock_edit(source))
    state.served_edit("ark", model, prompt, source_bytes)
    size = f"{source.shape[1]}x{source.shape[0]}"
    if body.get("response_format") == "b64_json":
        data = truncated_b64(edited) if rule and rule.name == "truncated_b64" else b64(edited)
        item = {"b64_json": data, "size": size}
    else:
        item = {"url": store(ex, edited, rule), "size": size}
    payload = {
        "model": model,
        "created": int(time.time()),
        "data": [item],
        "usage": {"generated_images": 1, "output_tokens": 4096, "total_tokens": 4096},
    }
    return json_reply(200, payload, {"x-request-id": state.new_id("req")}, state.latency_s)
