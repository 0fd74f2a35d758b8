"""The mock's DashScope API: synchronous multimodal-generation returning a result URL."""

from __future__ import annotations

from typing import Any

from baselines.api.mock.faults import mock_edit
from baselines.api.mock.providers.common import (
    ErrorTable,
    bearer,
    decode_input,
    delivery,
    fault_reply,
    not_found,
    start,
    store,
)
from baselines.api.mock.server import Exchange, Reply, json_reply
from harness.images import encode_png

ENDPOINT = "/api/v1/services/aigc/multimodal-generation/generation"


def _error(code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "request_id": "mock-request"}


DASHSCOPE_ERRORS: ErrorTable = {
    "429": lambda r, k: (
        429,
        _error("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
        {},
    ),
    "quota": lambda r, k: (
        400,
        _error("Arrearage", "Access denied, please make sure your account is in good standing."),
        {},
    ),
    "500": lambda r, k: (500, _error("InternalError", "An internal error has occurred."), {}),
    "503": lambda r, k: (503, _error("ServiceUnavailable", "Service is unavailable."), {}),
    "refusal": lambda r, k: (
        400,
        _error("DataInspectionFailed", "Input data may contain inappropriate content."),
        {},
    ),
    "invalid": lambda r, k: (400, _error("InvalidParameter", "The size parameter is invalid."), {}),
    "auth": lambda r, k: (401, _error("InvalidApiKey", f"Invalid API-key provided: {k}"), {}),
}


def dashscope(ex: Exchange) -> Reply:
    if ex.path.startswith("/delivery/"):
        return delivery(ex)
    if (ex.method, ex.path) != ("POST", ENDPOINT):
        return not_found(ex)
    key = bearer(ex)
    early = start(ex, "POST multimodal-generation", key)
    if early:
        return early
    state = ex.server.state
    body = ex.json()
    model = str(body.get("model", ""))
    content = body["input"]["messages"][0]["content"]
    prompt = " ".join(item["text"] for item in content if "text" in item)
    rule = state.fault_for("dashscope", model, prompt)
    fault = fault_reply(ex, rule, key, DASHSCOPE_ERRORS)
    if fault:
        return fault
    source, source_bytes = decode_input(next(item["image"] for item in content if "image" in item))
    url = store(ex, encode_png(mock_edit(source)), rule)
    state.served_edit("dashscope", model, prompt, source_bytes)
    message = {"role": "assistant", "content": [{"image": url}]}
    payload = {
        "output": {"choices": [{"finish_reason": "stop", "message": message}]},
        "usage": {"width": int(source.shape[1]), "height": int(source.shape[0]), "image_count": 1},
        "request_id": state.new_id("req"),
    }
    return json_reply(200, payload, delay_s=state.latency_s)
