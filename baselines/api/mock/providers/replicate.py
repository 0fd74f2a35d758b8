"""The mock's Replicate API: create a prediction (honouring ``Prefer: wait``), poll it, download."""

from __future__ import annotations

import time
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

NSFW = "NSFW content detected. Try running it again, or try a different prompt."


def _problem(title: str, detail: str, status: int) -> dict[str, Any]:
    return {"title": title, "detail": detail, "status": status}


REPLICATE_ERRORS: ErrorTable = {
    "429": lambda r, k: (
        429,
        _problem(
            "Request was throttled",
            f"Request was throttled. Expected available in {r.retry_after:g} second.",
            429,
        ),
        {},
    ),
    "quota": lambda r, k: (
        402,
        _problem("Insufficient credit", "You have insufficient credit to run this model.", 402),
        {},
    ),
    "500": lambda r, k: (500, _problem("Internal Server Error", "Internal server error", 500), {}),
    "503": lambda r, k: (503, _problem("Service Unavailable", "Service unavailable", 503), {}),
    "invalid": lambda r, k: (
        422,
        _problem("Input validation failed", "- input.output_format: must be one of png, jpg", 422),
        {},
    ),
    "auth": lambda r, k: (401, _problem("Unauthenticated", f"Invalid token {k}", 401), {}),
}


def _prediction(ex: Exchange, task: dict[str, Any]) -> dict[str, Any]:
    done = task["polls_left"] <= 0
    failed = done and task["fault"] == "refusal"
    status = ("failed" if failed else "succeeded") if done else "processing"
    get_url = f"{ex.server.url}/replicate/v1/predictions/{task['id']}"
    return {
        "id": task["id"],
        "model": task["model"],
        "status": status,
        "output": [task["sample"]] if status == "succeeded" else None,
        "error": NSFW if failed else None,
        "created_at": task["created_at"],
        "urls": {"get": get_url, "cancel": get_url + "/cancel"},
        "metrics": {"predict_time": 0.5} if done else {},
    }


def _poll(ex: Exchange, key: str) -> Reply:
    early = start(ex, "GET /v1/predictions/{id}", key)
    if early:
        return early
    task = ex.server.state.tasks.get(ex.path.rsplit("/", 1)[-1])
    if task is None or task["fault"] == "expired":
        return json_reply(404, {"detail": "Not found.", "status": 404})
    task["polls_left"] -= 1
    return json_reply(200, _prediction(ex, task))


def replicate(ex: Exchange) -> Reply:
    if ex.path.startswith("/delivery/"):
        return delivery(ex)
    key = bearer(ex)
    if ex.method == "GET" and ex.path.startswith("/v1/predictions/"):
        return _poll(ex, key)
    if ex.method != "POST" or not (ex.path.startswith("/v1/models/") and ex.path.endswith("/predictions")):
        return not_found(ex)
    early = start(ex, "POST /v1/models/{model}/predictions", key)
    if early:
        return early
    state = ex.server.state
    model = ex.path[len("/v1/models/") : -len("/predictions")]
    model_input = ex.json()["input"]
    prompt = str(model_input.get("prompt", ""))
    rule = state.fault_for("replicate", model, prompt)
    fault = fault_reply(ex, rule, key, REPLICATE_ERRORS)
    if fault:
        return fault
    source, source_bytes = decode_input(
        next((v for k, v in model_input.items() if k in ("input_image", "image")), None)
    )
    waits = ex.headers.get("prefer", "").startswith("wait")
    polls = rule.polls if rule and rule.polls is not None else (0 if waits else 1)
    if rule and rule.name == "expired":
        polls = max(polls, 1)
    truncate = rule if rule and rule.name == "truncated_b64" else None
    task = {
        "id": state.new_id("pred"),
        "model": model,
        "sample": store(ex, encode_png(mock_edit(source)), truncate),
        "fault": rule.name if rule else "",
        "polls_left": polls,
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    state.tasks[task["id"]] = task
    state.served_edit("replicate", model, prompt, source_bytes)
    return json_reply(201, _prediction(ex, task), delay_s=state.latency_s)
