"""The mock's Gemini API: ``generateContent``; safety outcomes come back as HTTP 200."""

from __future__ import annotations

from typing import Any

from baselines.api.mock.faults import mock_edit
from baselines.api.mock.providers.common import (
    ErrorTable,
    b64,
    decode_input,
    fault_reply,
    not_found,
    start,
    truncated_b64,
)
from baselines.api.mock.server import Exchange, Reply, json_reply
from harness.images import encode_png

RPC = "type.googleapis.com/google.rpc."


def _error(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status, "details": details or []}}


DAILY_QUOTA = {
    "@type": RPC + "QuotaFailure",
    "violations": [
        {
            "quotaMetric": "generativelanguage.googleapis.com/generate_requests_per_model_per_day",
            "quotaId": "GenerateRequestsPerDayPerProjectPerModel",
        }
    ],
}

GEMINI_ERRORS: ErrorTable = {
    "429": lambda r, k: (
        429,
        _error(
            429,
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted.",
            [{"@type": RPC + "RetryInfo", "retryDelay": f"{r.retry_after:g}s"}],
        ),
        {},
    ),
    "quota": lambda r, k: (
        429,
        _error(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota.", [DAILY_QUOTA]),
        {},
    ),
    "500": lambda r, k: (500, _error(500, "INTERNAL", "An internal error has occurred."), {}),
    "503": lambda r, k: (503, _error(503, "UNAVAILABLE", "The model is overloaded."), {}),
    "invalid": lambda r, k: (
        400,
        _error(400, "INVALID_ARGUMENT", "Invalid value at 'contents[0].parts[1]'."),
        {},
    ),
    "auth": lambda r, k: (
        400,
        _error(400, "INVALID_ARGUMENT", f"API key not valid: {k}. Please pass a valid API key."),
        {},
    ),
}
USAGE = {"promptTokenCount": 268, "candidatesTokenCount": 1290, "totalTokenCount": 1558}


def gemini(ex: Exchange) -> Reply:
    if ex.method != "POST" or not ex.path.endswith(":generateContent"):
        return not_found(ex)
    key = ex.headers.get("x-goog-api-key", "") or ex.query.get("key", "")
    early = start(ex, "POST generateContent", key)
    if early:
        return early
    model = ex.path.rsplit("/", 1)[-1].partition(":")[0]
    parts = ex.json()["contents"][-1]["parts"]
    prompt = " ".join(p["text"] for p in parts if "text" in p)
    state = ex.server.state
    rule = state.fault_for("gemini", model, prompt)
    fault = fault_reply(ex, rule, key, GEMINI_ERRORS)
    if fault:
        return fault
    name = rule.name if rule else ""
    if name == "blocked":
        body: dict[str, Any] = {
            "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "usageMetadata": USAGE,
        }
        return json_reply(200, body, delay_s=state.latency_s)
    if name in ("refusal", "text_only"):
        finish = "IMAGE_SAFETY" if name == "refusal" else "STOP"
        said = [] if name == "refusal" else [{"text": "I can describe the image instead."}]
        candidate = {"content": {"role": "model", "parts": said}, "finishReason": finish, "index": 0}
        return json_reply(200, {"candidates": [candidate], "usageMetadata": USAGE}, delay_s=state.latency_s)
    inline = next(
        p.get("inlineData") or p.get("inline_data") for p in parts if "inlineData" in p or "inline_data" in p
    )
    source, source_bytes = decode_input(inline["data"])
    edited = encode_png(mock_edit(source))
    state.served_edit("gemini", model, prompt, source_bytes)
    data = truncated_b64(edited) if name == "truncated_b64" else b64(edited)
    image_part = {"inlineData": {"mimeType": "image/png", "data": data}}
    payload = {
        "candidates": [
            {
                "content": {"role": "model", "parts": [{"text": "Here is the edited image."}, image_part]},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": USAGE,
        "modelVersion": model,
        "responseId": state.new_id("resp"),
    }
    return json_reply(200, payload, delay_s=state.latency_s)
