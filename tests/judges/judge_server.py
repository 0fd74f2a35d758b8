"""A real loopback HTTP server speaking OpenAI's chat-completions wire format, replaying fixed replies.

Which reply a request gets is decided by its content, so concurrent requests stay deterministic: the
server decodes the request's images (``data:`` URIs), looks their pixel hashes up in ``cases`` to find
the test case, and takes the next scripted reply for (case, schema name).
"""

from __future__ import annotations

import base64
import io
import json
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from PIL import Image as PILImage

from harness.images import image_hash
from harness.types import Sample, ScoreInput

MODEL_SNAPSHOT = "gpt-4.1-2025-04-14"


@dataclass
class Reply:
    status: int = 200
    content: str | None = None
    refusal: str | None = None
    finish_reason: str = "stop"
    error: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def ok(**scores: Any) -> Reply:
    return Reply(content=json.dumps({"reasoning": "looked at it", **scores}))


def text(body: str) -> Reply:
    return Reply(content=body)


def refusal(message: str = "I can't help with that.") -> Reply:
    return Reply(refusal=message)


def http_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(
        status=status,
        error={"message": message, "type": "error", "param": None, "code": code},
        headers=headers or {},
    )


class JudgeServer:
    def __init__(self) -> None:
        self.cases: dict[str, str] = {}  # image hash -> case name
        self.scripts: dict[tuple[str, str], list[Reply]] = {}
        self.served: dict[tuple[str, str], int] = defaultdict(int)
        self.requests: list[dict[str, Any]] = []
        self.arrivals: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()
        server = self
        import time

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                case = server.case_of(body)
                schema = ((body.get("response_format") or {}).get("json_schema") or {}).get("name", "")
                with server._lock:
                    server.requests.append(body)
                    server.arrivals.append((case, schema, time.monotonic()))
                    script = server.scripts.get((case, schema)) or server.scripts.get((case, "*")) or [ok()]
                    n = server.served[(case, schema)]
                    server.served[(case, schema)] += 1
                reply = script[min(n, len(script) - 1)]
                self.respond(reply, body)

            def respond(self, reply: Reply, body: dict[str, Any]) -> None:
                if reply.status != 200:
                    payload = {"error": reply.error or {"message": "failure", "code": None}}
                else:
                    payload = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "created": 0,
                        "model": MODEL_SNAPSHOT,
                        "system_fingerprint": "fp_test",
                        "choices": [
                            {
                                "index": 0,
                                "message": {
                                    "role": "assistant",
                                    "content": reply.content,
                                    "refusal": reply.refusal,
                                },
                                "finish_reason": reply.finish_reason,
                            }
                        ],
                        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
                    }
                data = json.dumps(payload).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def case_of(self, body: dict[str, Any]) -> str:
        """The case of the last registered image in the request (the edited image comes after the source)."""
        found = ""
        for message in body.get("messages", []):
            content = message.get("content")
            if not isinstance(content, list):
                continue
            for part in content:
                if part.get("type") == "image_url":
                    raw = base64.b64decode(part["image_url"]["url"].split(",", 1)[1])
                    with PILImage.open(io.BytesIO(raw)) as img:
                        digest = image_hash(np.asarray(img.convert("RGB")))
                    found = self.cases.get(digest, found)
        return found

    def add_case(self, name: str, edited: np.ndarray, **scripts: list[Reply]) -> None:
        self.cases[image_hash(edited)] = name
        for schema, replies in scripts.items():
            self.scripts[(name, schema)] = replies

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def case_input(sample_id: str, seed: int, size: int = 16, **sample_fields: Any) -> ScoreInput:
    rng = np.random.default_rng(seed)
    source = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    edited = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    sample = Sample(id=sample_id, source=source, instruction=f"make {sample_id} blue", **sample_fields)
    return ScoreInput(sample=sample, edited=edited)
