"""SQLite cache of raw judge calls, keyed by the full request content, so a re-run costs nothing.

The key hashes the provider, endpoint, model, decoding settings, the exact messages (prompt text and
image hashes with their encoding), the output schema, the pass index and the parser version. Only
replies worth keeping are stored: ``ok`` text (parsed or not: a re-ask is a new request) and
provider refusals; transient errors are retried on the next run.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from harness.fingerprint import stable_hash

SCHEMA = "CREATE TABLE IF NOT EXISTS judge_calls (key TEXT PRIMARY KEY, reply TEXT NOT NULL, created REAL NOT NULL)"


class JudgeCallCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(SCHEMA)
        self._conn.commit()

    @staticmethod
    def key(request_content: dict[str, Any]) -> str:
        return stable_hash(request_content)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT reply FROM judge_calls WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, reply: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO judge_calls (key, reply, created) VALUES (?, ?, ?)",
                (key, json.dumps(reply, sort_keys=True), time.time()),
            )
            self._conn.commit()

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM judge_calls").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()


_caches: dict[Path, JudgeCallCache] = {}
_caches_lock = threading.Lock()


def open_cache(cache_dir: Path) -> JudgeCallCache:
    path = cache_dir / "judge_calls.sqlite"
    with _caches_lock:
        if path not in _caches:
            _caches[path] = JudgeCallCache(path)
        return _caches[path]
