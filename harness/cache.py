"""Embedded cache of edits and metric values: SQLite (WAL) plus a content-addressed image store.

Edits are keyed by (editor fingerprint, source/mask hashes, instruction/turns, seed, params);
metric values by (metric fingerprint, sample input hashes, edited-image hash). Only edits that
ended ``ok`` or ``refused`` are cached: a transient error is retried on the next run, while a paid
success or a provider's refusal is never requested twice.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.fingerprint import stable_hash
from harness.images import ImageStore

CACHEABLE_EDIT_STATUSES = ("ok", "refused")


def default_cache_dir() -> Path:
    env = os.environ.get("IEVAL_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ieval"


@dataclass
class CachedEdit:
    status: str
    image_hash: str
    payload: dict[str, Any]


@dataclass
class CachedScore:
    status: str
    value: float | None
    payload: dict[str, Any]


def edit_key(
    editor_fp: str,
    source_hash: str,
    mask_hash: str,
    instruction: str,
    turns: tuple[str, ...],
    seed: int,
    params: dict[str, Any],
) -> str:
    return stable_hash(
        {
            "editor": editor_fp,
            "source": source_hash,
            "mask": mask_hash,
            "instruction": instruction,
            "turns": list(turns),
            "seed": seed,
            "params": params,
        }
    )


def score_key(metric_fp: str, sample_inputs: dict[str, str], edited_hash: str) -> str:
    return stable_hash({"metric": metric_fp, "inputs": sample_inputs, "edited": edited_hash})


class Cache:
    """Thread-safe SQLite cache. Use one per process; ``IEVAL_CACHE_DIR`` moves it."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = Path(root) if root is not None else default_cache_dir()
        self.root.mkdir(parents=True, exist_ok=True)
        self.blobs = ImageStore(self.root / "blobs")
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.root / "cache.sqlite", check_same_thread=False, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS edits (key TEXT PRIMARY KEY, status TEXT, image_hash TEXT, payload TEXT)"
        )
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, status TEXT, value REAL, payload TEXT)"
        )
        self._db.execute("CREATE TABLE IF NOT EXISTS sample_sets (key TEXT PRIMARY KEY, payload TEXT)")
        self._db.commit()

    def get_edit(self, key: str) -> CachedEdit | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status, image_hash, payload FROM edits WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        status, image_hash, payload = row
        if status == "ok" and not self.blobs.has(image_hash):
            return None  # the blob was pruned: treat as a miss
        return CachedEdit(status, image_hash, json.loads(payload))

    def put_edit(
        self,
        key: str,
        status: str,
        image_hash: str,
        payload: dict[str, Any],
        *,
        failures_are_final: bool = False,
    ) -> None:
        """Store an edit; errors and timeouts only when the editor says its failures are final."""
        if status not in CACHEABLE_EDIT_STATUSES and not (
            failures_are_final and status in ("error", "timeout")
        ):
            return
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO edits VALUES (?, ?, ?, ?)",
                (key, status, image_hash, json.dumps(payload, sort_keys=True)),
            )
            self._db.commit()

    def get_score(self, key: str) -> CachedScore | None:
        with self._lock:
            row = self._db.execute(
                "SELECT status, value, payload FROM scores WHERE key = ?", (key,)
            ).fetchone()
        if row is None:
            return None
        return CachedScore(row[0], row[1], json.loads(row[2]))

    def put_scores(self, rows: list[tuple[str, str, float | None, dict[str, Any]]]) -> None:
        """Insert many (key, status, value, payload) rows in one transaction."""
        if not rows:
            return
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)",
                [(k, s, v, json.dumps(p, sort_keys=True)) for k, s, v, p in rows],
            )
            self._db.commit()

    def get_sample_set(self, key: str) -> list[dict[str, Any]] | None:
        with self._lock:
            row = self._db.execute("SELECT payload FROM sample_sets WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put_sample_set(self, key: str, rows: list[dict[str, Any]]) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO sample_sets VALUES (?, ?)", (key, json.dumps(rows)))
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()
