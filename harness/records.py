"""The run directory's records: typed rows and an append-only JSONL log flushed per line.

``edits.jsonl``   one EditRecord per (suite, sample, editor)
``records.jsonl`` one RunRecord per (suite, sample, editor, metric)
``samples.jsonl`` one SampleRecord per (suite, sample)

A process killed mid-write can leave a torn last line; ``JsonlLog`` truncates it on open, so a
resumed run appends after the last complete record. The schema is documented in
docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

SCHEMA_VERSION = 1


@dataclass
class SampleRecord:
    suite: str
    split: str
    sample_id: str
    instruction: str
    category: str = ""
    level: str = ""
    language: str = "en"
    turns: list[str] = field(default_factory=list)
    source_hash: str = ""
    target_hash: str = ""
    mask_hash: str = ""
    status: str = "ok"  # "invalid" when the suite could not load it
    error: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.suite, self.split, self.sample_id)


@dataclass
class TraceRecord:
    tool: str
    arguments: dict[str, Any] = field(default_factory=dict)
    status: str = "ok"
    seconds: float = 0.0
    message: str = ""
    image_hash: str | None = None


@dataclass
class EditRecord:
    suite: str
    split: str
    sample_id: str
    editor: str
    editor_fp: str
    status: str
    edited_hash: str = ""
    error: str = ""
    refusal_code: str = ""
    seconds: float = 0.0
    calls: int = 0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    trace: list[TraceRecord] = field(default_factory=list)
    provider: dict[str, Any] = field(default_factory=dict)
    smoke: bool = False
    reference: bool = False
    cached: bool = False

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.suite, self.split, self.sample_id, self.editor)


@dataclass
class RunRecord:
    suite: str
    suite_version: str
    split: str
    sample_id: str
    category: str
    level: str
    editor: str
    editor_fp: str
    metric: str
    metric_fp: str
    higher_is_better: bool
    worst: float
    status: str  # "ok", an edit failure (refused/error/timeout/skipped) or a score failure
    value: float | None = None
    edit_status: str = "ok"
    score_status: str = "ok"
    error: str = ""
    components: dict[str, float] = field(default_factory=dict)
    smoke: bool = False
    reference: bool = False
    cached: bool = False
    latency_s: float = 0.0
    cost_usd: float = 0.0

    @property
    def key(self) -> tuple[str, str, str, str, str]:
        return (self.suite, self.split, self.sample_id, self.editor, self.metric)


R = TypeVar("R", SampleRecord, EditRecord, RunRecord)


def to_json_line(record: Any) -> str:
    return json.dumps(asdict(record), ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n"


def from_dict(cls: type[R], data: dict[str, Any]) -> R:
    names = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in names}
    if cls is EditRecord:
        values["trace"] = [TraceRecord(**step) for step in values.get("trace", [])]
    return cls(**values)


class JsonlLog:
    """Append-only JSONL file, one fsync-free flush per record; repairs a torn tail on open."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.repaired_bytes = repair_torn_tail(self.path)
        self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def append(self, record: Any) -> None:
        self._handle.write(to_json_line(record))
        self._handle.flush()

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> JsonlLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def repair_torn_tail(path: Path) -> int:
    """Drop a last line that is incomplete or not valid JSON; return the bytes removed."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as handle:
        handle.seek(max(0, size - 1))
        if handle.read(1) == b"\n":
            # complete lines; still check the last line parses
            start = _last_line_start(handle, size - 1)
            handle.seek(start)
            last = handle.read(size - start)
            try:
                json.loads(last)
                return 0
            except ValueError:
                handle.truncate(start)
                return size - start
        start = _last_line_start(handle, size)
        handle.truncate(start)
        return size - start


def _last_line_start(handle: Any, end: int) -> int:
    pos = end
    chunk = 4096
    while pos > 0:
        read_from = max(0, pos - chunk)
        handle.seek(read_from)
        data = handle.read(pos - read_from)
        idx = data.rfind(b"\n")
        if idx != -1:
            return read_from + idx + 1
        pos = read_from
    return 0


def read_jsonl(path: str | os.PathLike[str], cls: type[R]) -> Iterator[R]:
    path = Path(path)
    if not path.exists():
        return
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if not line:
                continue
            try:
                data = json.loads(line)
            except ValueError:
                continue  # a torn line; JsonlLog repairs it before appending
            yield from_dict(cls, data)
