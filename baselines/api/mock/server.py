"""The mock's HTTP layer and shared state: routing, latency, hangs, call counts, stored results."""

from __future__ import annotations

import hashlib
import json
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from baselines.api.mock.faults import FaultRule, FaultSpec, parse_directive

PROVIDERS: tuple[str, ...] = ("openai", "gemini", "bfl", "ark", "dashscope", "stability", "replicate")


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # slept before answering (latency, or a hang for the timeout fault)


def json_reply(
    status: int, payload: Any, headers: dict[str, str] | None = None, delay_s: float = 0.0
) -> Reply:
    return Reply(status, json.dumps(payload).encode(), headers=dict(headers or {}), delay_s=delay_s)


@dataclass
class Exchange:
    """One request as a provider handler sees it (path without the ``/<provider>`` prefix)."""

    server: MockServer
    provider: str
    method: str
    path: str
    query: dict[str, str]
    headers: Any
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, bytes]:
        """multipart/form-data fields (repeated names keep the first), or {} if not multipart."""
        ctype = self.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            return {}
        boundary = ctype.partition("boundary=")[2].strip().strip('"').encode()
        fields: dict[str, bytes] = {}
        for part in self.body.split(b"--" + boundary)[1:]:
            if part.startswith(b"--"):
                break
            head, _, content = part.strip(b"\r\n").partition(b"\r\n\r\n")
            disposition = next(
                (line for line in head.split(b"\r\n") if line.lower().startswith(b"content-disposition")), b""
            )
            name = disposition.partition(b'name="')[2].partition(b'"')[0].decode()
            fields.setdefault(name, content)
        return fields


class MockState:
    """Counters and stored tasks/results, shared by the handler threads under one lock."""

    def __init__(self, latency_s: float, faults: FaultSpec, hang_s: float) -> None:
        self.latency_s = latency_s
        self.faults = faults
        self.hang_s = hang_s
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.reset()

    def reset(self) -> None:
        with getattr(self, "lock", threading.Lock()):
            self.calls: Counter[str] = Counter()
            self.endpoints: Counter[str] = Counter()
            self.fault_counts: Counter[str] = Counter()
            self.served: Counter[str] = Counter()
            self.attempts: Counter[str] = Counter()
            self.blobs: dict[str, bytes] = {}
            self.tasks: dict[str, dict[str, Any]] = {}
            self.main_call_times: dict[str, list[float]] = {}
            self.in_flight = 0
            self.max_in_flight = 0
            self.next_id = 0

    def count(self, provider: str, endpoint: str) -> None:
        with self.lock:
            self.calls[provider] += 1
            self.endpoints[f"{provider} {endpoint}"] += 1

    def new_id(self, provider: str) -> str:
        with self.lock:
            self.next_id += 1
            return f"{provider}-{self.next_id:06d}"

    def fault_for(self, provider: str, model: str, prompt: str) -> FaultRule | None:
        """The fault this main call gets (counts the call towards the rule's ``n``)."""
        rule = parse_directive(prompt) or self.faults.choose(provider, prompt)
        key = f"{provider}|{model}|{prompt}"
        with self.lock:
            self.main_call_times.setdefault(key, []).append(time.monotonic())
            seen = self.attempts[key]
            self.attempts[key] += 1
            if rule is None or rule.name == "none" or (rule.times >= 0 and seen >= rule.times):
                return rule if rule is not None and rule.name == "none" else None
            self.fault_counts[f"{provider}:{rule.name}"] += 1
        return rule

    def call_times(self, provider: str, model: str, prompt: str) -> list[float]:
        """Monotonic arrival times of the main (prompt-carrying) calls for one prompt."""
        with self.lock:
            return list(self.main_call_times.get(f"{provider}|{model}|{prompt}", []))

    def enter(self) -> None:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        with self.lock:
            self.in_flight -= 1

    def served_edit(self, provider: str, model: str, prompt: str, source: bytes) -> None:
        key = f"{provider}|{model}|{prompt}|{hashlib.sha256(source).hexdigest()}"
        with self.lock:
            self.served[key] += 1

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": {p: self.calls.get(p, 0) for p in PROVIDERS},
                "total_calls": sum(self.calls.values()),
                "endpoints": dict(sorted(self.endpoints.items())),
                "faults": dict(sorted(self.fault_counts.items())),
                "edits_served": sum(self.served.values()),
                "duplicate_edits": sum(n - 1 for n in self.served.values() if n > 1),
                "max_in_flight": self.max_in_flight,
            }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # header and body go out as separate writes
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by design
        return

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        state = self.server.mock.state
        state.enter()
        try:
            self._answer()
        finally:
            state.leave()

    def _answer(self) -> None:
        from baselines.api.mock.providers import HANDLERS

        mock = self.server.mock
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        parsed = urllib.parse.urlsplit(self.path)
        provider, _, rest = parsed.path.lstrip("/").partition("/")
        if parsed.path == "/_stats":
            reply = json_reply(200, mock.stats())
        elif parsed.path == "/_reset" and self.command == "POST":
            mock.reset()
            reply = json_reply(200, {"reset": True})
        elif provider in HANDLERS:
            query = dict(urllib.parse.parse_qsl(parsed.query))
            exchange = Exchange(mock, provider, self.command, "/" + rest, query, self.headers, body)
            try:
                reply = HANDLERS[provider](exchange)
            except ValueError as exc:
                reply = json_reply(400, {"error": {"message": f"mock: {exc}"}})
        else:
            reply = json_reply(404, {"error": {"message": f"mock: no provider at {parsed.path}"}})
        if reply.delay_s > 0 and mock.state.stopping.wait(reply.delay_s):
            self.close_connection = True
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    mock: MockServer


class MockServer:
    """A real HTTP server on 127.0.0.1; ``port=0`` picks a free port. Use as a context manager."""

    def __init__(
        self,
        port: int = 0,
        *,
        latency_s: float = 0.0,
        faults: FaultSpec | str | None = None,
        hang_s: float = 30.0,
    ) -> None:
        spec = faults if isinstance(faults, FaultSpec) else FaultSpec.parse(faults)
        self.state = MockState(latency_s, spec, hang_s)
        self._http = _HTTPServer(("127.0.0.1", port), _Handler)
        self._http.mock = self
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._http.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def base_url(self, provider: str) -> str:
        return f"{self.url}/{provider}"

    def env(self) -> dict[str, str]:
        """``IEVAL_<PROVIDER>_BASE_URL`` for every provider, pointing here."""
        return {f"IEVAL_{p.upper()}_BASE_URL": self.base_url(p) for p in PROVIDERS}

    def stats(self) -> dict[str, Any]:
        return self.state.snapshot()

    def reset(self) -> None:
        self.state.reset()

    def start(self) -> MockServer:
        self._thread = threading.Thread(target=self._http.serve_forever, name="mock-api-server", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._http.serve_forever()

    def stop(self) -> None:
        self.state.stopping.set()
        if self._thread is not None:
            self._http.shutdown()
            self._thread.join(timeout=5)
        self._http.server_close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
