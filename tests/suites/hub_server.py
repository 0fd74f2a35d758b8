"""A loopback HTTP server speaking the part of the Hugging Face Hub API that dataset downloads use:
revision info, the recursive tree listing and file resolution (HEAD and GET)."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HEX40 = re.compile(r"^[0-9a-f]{40}$")


@contextmanager
def hub_server(repo_id: str, files: dict[str, bytes], head_sha: str) -> Iterator[tuple[str, list[str]]]:
    """Serve ``files`` as dataset ``repo_id``; ``main`` resolves to ``head_sha``. Yields (url, request log)."""
    log: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            log.append(f"{self.command} {self.path}")

        def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(code)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            api = f"/api/datasets/{repo_id}/"
            if path.startswith(api + "tree/"):
                tree = [
                    {"type": "file", "path": name, "size": len(data), "oid": hashlib.sha1(data).hexdigest()}
                    for name, data in sorted(files.items())
                ]
                return self._send(200, json.dumps(tree).encode(), {"Content-Type": "application/json"})
            if path.startswith(api + "revision/"):
                revision = path[len(api + "revision/") :]
                sha = revision if HEX40.match(revision) else head_sha
                info = {
                    "id": repo_id,
                    "sha": sha,
                    "siblings": [{"rfilename": name} for name in sorted(files)],
                }
                return self._send(200, json.dumps(info).encode(), {"Content-Type": "application/json"})
            prefix = f"/datasets/{repo_id}/resolve/"
            if path.startswith(prefix):
                revision, _, name = path[len(prefix) :].partition("/")
                data = files.get(name)
                if data is not None:
                    headers = {
                        "ETag": f'"{hashlib.sha1(data).hexdigest()}"',
                        "X-Repo-Commit": revision,
                        "Content-Type": "application/octet-stream",
                    }
                    return self._send(200, data, headers)
            self._send(404, b"{}", {"X-Error-Code": "EntryNotFound", "Content-Type": "application/json"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()


def folder_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
