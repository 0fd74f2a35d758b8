"""The mock's Black Forest Labs API: submit, then poll ``/v1/get_result``, then the delivery URL."""

from __future__ import annotations

from baselines.api.mock.faults import mock_edit
from baselines.api.mock.providers.common import (
    ErrorTable,
    decode_input,
    delivery,
    fault_reply,
    not_found,
    start,
    store,
)
from baselines.api.mock.server import Exchange, Reply, json_reply
from harness.images import encode_png

BFL_ERRORS: ErrorTable = {
    "429": lambda r, k: (429, {"detail": "Too many active tasks."}, {"retry-after": f"{r.retry_after:g}"}),
    "quota": lambda r, k: (402, {"detail": "Insufficient credits."}, {}),
    "500": lambda r, k: (500, {"detail": "Internal server error."}, {}),
    "503": lambda r, k: (503, {"detail": "Service unavailable."}, {}),
    "invalid": lambda r, k: (
        422,
        {"detail": [{"loc": ["body", "aspect_ratio"], "msg": "invalid aspect ratio", "type": "value_error"}]},
        {},
    ),
    "auth": lambda r, k: (403, {"detail": f"Invalid key {k}"}, {}),
}


def _poll(ex: Exchange, key: str) -> Reply:
    early = start(ex, "GET /v1/get_result", key)
    if early:
        return early
    task = ex.server.state.tasks.get(ex.query.get("id", ""))
    if task is None or task["fault"] == "expired":
        return json_reply(200, {"id": ex.query.get("id"), "status": "Task not found"})
    if task["polls_left"] > 0:
        task["polls_left"] -= 1
        return json_reply(200, {"id": task["id"], "status": "Pending", "progress": 0.5})
    if task["fault"] == "refusal":
        reasons = {"Moderation Reasons": ["Derivative Works Filter"]}
        return json_reply(200, {"id": task["id"], "status": "Request Moderated", "details": reasons})
    result = {"sample": task["sample"], "seed": task["seed"]}
    return json_reply(200, {"id": task["id"], "status": "Ready", "result": result})


def bfl(ex: Exchange) -> Reply:
    if ex.path.startswith("/delivery/"):
        return delivery(ex)
    key = ex.headers.get("x-key", "")
    if ex.method == "GET" and ex.path == "/v1/get_result":
        return _poll(ex, key)
    if ex.method != "POST" or not ex.path.startswith("/v1/flux-kontext-"):
        return not_found(ex)
    early = start(ex, f"POST {ex.path}", key)
    if early:
        return early
    state = ex.server.state
    body = ex.json()
    model = ex.path.removeprefix("/v1/")
    prompt = body.get("prompt", "")
    rule = state.fault_for("bfl", model, prompt)
    fault = fault_reply(ex, rule, key, BFL_ERRORS)
    if fault:
        return fault
    source, source_bytes = decode_input(body.get("input_image"))
    task_id = state.new_id("task")
    state.tasks[task_id] = {
        "id": task_id,
        "sample": store(ex, encode_png(mock_edit(source)), rule),
        "seed": body.get("seed"),
        "fault": rule.name if rule else "",
        "polls_left": rule.polls if rule and rule.polls is not None else 1,
    }
    state.served_edit("bfl", model, prompt, source_bytes)
    polling_url = f"{ex.server.url}/bfl/v1/get_result?id={task_id}"
    return json_reply(200, {"id": task_id, "polling_url": polling_url, "cost": 4.0}, delay_s=state.latency_s)
