"""Shared pieces of the mock providers: fault replies, stored results, input decoding.

Each provider module speaks its API's wire format, success and failure alike. Every handler counts the call, reads the prompt and input image, asks the state which fault
(if any) this call gets, and answers with either that fault, delivered the way the real API
delivers it, or a deterministic fake edit (``mock_edit``) of the input image.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

import numpy as np

from baselines.api.mock.faults import FaultRule
from baselines.api.mock.server import Exchange, Reply, json_reply
from harness.images import decode_image

MALFORMED_BODY = b'{"created": 1, "data": [{"b64_json": "iVBORw0KGgo'
ErrorTable = dict[str, Callable[[FaultRule, str], tuple[int, Any, dict[str, str]]]]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def truncated_b64(data: bytes) -> str:
    text = b64(data)[: len(b64(data)) // 2]
    return text[:-1] if len(text) % 4 == 0 else text


def decode_input(data: bytes | str | None) -> tuple[np.ndarray, bytes]:
    if isinstance(data, str):
        data = base64.b64decode(data.partition(",")[2] if data.startswith("data:") else data)
    if not data:
        raise ValueError("request has no input image")
    return decode_image(data, what="mock input image"), data


def bearer(ex: Exchange) -> str:
    return ex.headers.get("authorization", "").removeprefix("Bearer ").strip()


def fault_reply(ex: Exchange, rule: FaultRule | None, key: str, table: ErrorTable) -> Reply | None:
    """The reply for a transport-level fault, or None when the call proceeds (maybe to a later fault)."""
    if rule is None:
        return None
    latency = ex.server.state.latency_s
    if rule.name == "timeout":
        return Reply(200, b"{}", delay_s=ex.server.state.hang_s)
    if rule.name == "malformed":
        return Reply(200, MALFORMED_BODY, delay_s=latency)
    if rule.name in table:
        status, payload, headers = table[rule.name](rule, key)
        return json_reply(status, payload, headers, delay_s=latency)
    return None


def start(ex: Exchange, endpoint: str, key: str) -> Reply | None:
    ex.server.state.count(ex.provider, endpoint)
    if not key:
        return json_reply(401, {"error": {"message": "mock: no API key sent"}})
    return None


def store(ex: Exchange, data: bytes, rule: FaultRule | None) -> str:
    """Keep result bytes for download at ``/<provider>/delivery/<id>.png``; return that URL."""
    blob_id = ex.server.state.new_id(ex.provider)
    ex.server.state.blobs[blob_id] = data[: len(data) // 2] if rule and rule.name == "truncated_b64" else data
    if rule and rule.name == "expired":
        ex.server.state.blobs[blob_id] = b""
    return f"{ex.server.url}/{ex.provider}/delivery/{blob_id}.png"


def delivery(ex: Exchange) -> Reply:
    ex.server.state.count(ex.provider, "GET /delivery")
    blob = ex.server.state.blobs.get(ex.path.rsplit("/", 1)[-1].removesuffix(".png"))
    if blob is None or blob == b"":
        return Reply(
            403,
            b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>",
            "application/xml",
        )
    return Reply(200, blob, "image/png")


def not_found(ex: Exchange) -> Reply:
    ex.server.state.count(ex.provider, f"{ex.method} (unknown path)")
    return json_reply(404, {"error": {"message": f"mock {ex.provider}: no route {ex.method} {ex.path}"}})
