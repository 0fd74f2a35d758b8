"""The mock's OpenAI Images API: ``POST /v1/images/edits`` (multipart, or JSON with image_url)."""

from __future__ import annotations

import io
import time

import numpy as np
from PIL import Image as PILImage

from baselines.api.mock.faults import mock_edit
from baselines.api.mock.providers.common import (
    ErrorTable,
    b64,
    bearer,
    decode_input,
    fault_reply,
    not_found,
    start,
    truncated_b64,
)
from baselines.api.mock.server import Exchange, Reply, json_reply
from harness.images import encode_png


def _error(message: str, kind: str, code: str | None, **extra: object) -> dict[str, object]:
    return {"error": {"message": message, "type": kind, "param": None, "code": code, **extra}}


OPENAI_ERRORS: ErrorTable = {
    "429": lambda r, k: (
        429,
        _error("Rate limit reached for images per minute.", "requests", "rate_limit_exceeded"),
        {"retry-after": f"{r.retry_after:g}"},
    ),
    "quota": lambda r, k: (
        429,
        _error("You exceeded your current quota.", "insufficient_quota", "insufficient_quota"),
        {},
    ),
    "500": lambda r, k: (
        500,
        _error("The server had an error while processing your request.", "server_error", None),
        {},
    ),
    "503": lambda r, k: (
        503,
        _error("The server is overloaded.", "service_unavailable_error", "server_is_overloaded"),
        {},
    ),
    "refusal": lambda r, k: (
        400,
        _error(
            "Your request was rejected by the safety system. safety_violations=[violence].",
            "image_generation_user_error",
            "moderation_blocked",
            moderation_details={"moderation_stage": "input", "categories": ["violence"]},
        ),
        {},
    ),
    "invalid": lambda r, k: (
        400,
        _error("Invalid value for 'size'.", "invalid_request_error", "invalid_value"),
        {},
    ),
    "auth": lambda r, k: (
        401,
        _error(f"Incorrect API key provided: {k}.", "invalid_request_error", "invalid_api_key"),
        {},
    ),
}


def openai(ex: Exchange) -> Reply:
    if (ex.method, ex.path) != ("POST", "/v1/images/edits"):
        return not_found(ex)
    key = bearer(ex)
    early = start(ex, "POST /v1/images/edits", key)
    if early:
        return early
    form = ex.form()
    if form:
        prompt = form.get("prompt", b"").decode()
        model = form.get("model", b"").decode()
        raw: bytes | str | None = form.get("image[]") or form.get("image")
        mask_png = form.get("mask")
    else:  # the JSON variant: images[].image_url data URLs, no mask upload
        body = ex.json()
        prompt, model, raw, mask_png = (
            body.get("prompt", ""),
            body.get("model", ""),
            body["images"][0]["image_url"],
            None,
        )
    state = ex.server.state
    rule = state.fault_for("openai", model, prompt)
    fault = fault_reply(ex, rule, key, OPENAI_ERRORS)
    if fault:
        return fault
    source, source_bytes = decode_input(raw)
    mask = None
    if mask_png:
        with PILImage.open(io.BytesIO(mask_png)) as img:
            mask = np.asarray(img.convert("RGBA"))[:, :, 3] == 0  # transparent = edit here
    edited = encode_png(mock_edit(source, mask))
    state.served_edit("openai", model, prompt, source_bytes)
    data = truncated_b64(edited) if rule and rule.name == "truncated_b64" else b64(edited)
    height, width = source.shape[:2]
    payload = {
        "created": int(time.time()),
        "data": [{"b64_json": data, "revised_prompt": None, "url": None}],
        "output_format": "png",
        "quality": "medium",
        "size": f"{width}x{height}",
        "usage": {
            "input_tokens": 50,
            "input_tokens_details": {"image_tokens": 40, "text_tokens": 10},
            "output_tokens": 1056,
            "total_tokens": 1106,
        },
    }
    return json_reply(200, payload, {"x-request-id": state.new_id("req")}, state.latency_s)
