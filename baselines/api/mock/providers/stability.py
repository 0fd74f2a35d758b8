"""The mock's Stability v2beta edit API (multipart; JSON or raw image replies)."""

from __future__ import annotations

import io
from typing import Any

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

PREFIX = "/v2beta/stable-image/edit/"


def _error(name: str, message: str) -> dict[str, Any]:
    return {"id": "0123456789abcdef", "name": name, "errors": [message]}


MODERATED = (
    "Your request was flagged by our content moderation system, as a result your request was denied "
    "and you were not charged."
)
STABILITY_ERRORS: ErrorTable = {
    "429": lambda r, k: (
        429,
        _error(
            "rate_limit_exceeded",
            "You have exceeded the rate limit of 150 requests within a 10 second period.",
        ),
        {"retry-after": f"{r.retry_after:g}"},
    ),
    "quota": lambda r, k: (
        402,
        _error("payment_required", "You lack sufficient credits to make this request."),
        {},
    ),
    "500": lambda r, k: (500, _error("internal_error", "An unexpected server error has occurred."), {}),
    "503": lambda r, k: (503, _error("service_unavailable", "The service is temporarily unavailable."), {}),
    "moderation": lambda r, k: (403, _error("content_moderation", MODERATED), {}),
    "invalid": lambda r, k: (400, _error("bad_request", "prompt: is required"), {}),
    "auth": lambda r, k: (401, _error("unauthorized", f"authorization: invalid key {k}"), {}),
}


def stability(ex: Exchange) -> Reply:
    if ex.method != "POST" or not ex.path.startswith(PREFIX):
        return not_found(ex)
    operation = ex.path[len(PREFIX) :]
    key = bearer(ex)
    early = start(ex, f"POST {operation}", key)
    if early:
        return early
    form = ex.form()
    if not form:
        return json_reply(400, _error("bad_request", "content-type: must be multipart/form-data"))
    state = ex.server.state
    prompt = form.get("prompt", b"").decode()
    rule = state.fault_for("stability", operation, prompt)
    fault = fault_reply(ex, rule, key, STABILITY_ERRORS)
    if fault:
        return fault
    source, source_bytes = decode_input(form.get("image"))
    mask = None
    if operation == "inpaint" and form.get("mask"):
        with PILImage.open(io.BytesIO(form["mask"])) as img:
            mask = np.asarray(img.convert("L")) > 127  # white = edit here
    edited = encode_png(mock_edit(source, mask))
    state.served_edit("stability", operation, prompt, source_bytes)
    finish = "CONTENT_FILTERED" if rule and rule.name == "refusal" else "SUCCESS"
    seed = int(form.get("seed", b"0") or 0)
    request_id = {"x-request-id": state.new_id("req")}
    if ex.headers.get("accept", "").startswith("image/"):
        headers = {"finish-reason": finish, "seed": str(seed), **request_id}
        return Reply(200, edited, "image/png", headers, state.latency_s)
    data = truncated_b64(edited) if rule and rule.name == "truncated_b64" else b64(edited)
    return json_reply(
        200, {"image": data, "finish_reason": finish, "seed": seed}, request_id, state.latency_s
    )
