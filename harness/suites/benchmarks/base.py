"""The shared shape of every benchmark loader: pinned source, expected layout, streaming records.

A loader subclasses ``BenchmarkSuite`` and implements two steps. ``records(split)`` streams cheap
raw records (ids, text fields, undecoded image bytes or paths) in upstream order; ``to_sample``
turns one record into a ``Sample``, decoding images and checking shapes. A record that cannot be
turned into a sample (missing field, bad image bytes, mask of the wrong size) becomes an
``InvalidSample`` naming the sample and the problem, and the stream goes on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from harness.data.location import MANIFEST_NAME, dataset_dir, not_downloaded_reason
from harness.fingerprint import stable_hash
from harness.images import ImageDecodeError
from harness.types import InvalidSample, Sample


class SampleError(ValueError):
    """One record cannot become a sample; the message says why."""


class DataError(RuntimeError):
    """The dataset as a whole cannot be read (missing files, unreadable table)."""


@dataclass(frozen=True)
class DataSource:
    """Where a benchmark comes from and how ``ieval data fetch`` gets it.

    ``kind="hf"``: a Hugging Face dataset repository, downloaded at ``revision`` (a full commit sha;
    None where this release has not pinned one: the fetch then records the commit it got).
    ``kind="manual"``: no scripted download; ``manual_steps`` says what the user does.
    """

    kind: Literal["hf", "manual"]
    repo_id: str = ""
    revision: str | None = None
    allow_patterns: tuple[str, ...] = ()
    archives: tuple[str, ...] = ()
    homepage: str = ""
    manual_steps: str = ""
    license: str = "not determined"


@dataclass
class Record:
    """A raw upstream item: its id, the fields a loader needs, and where it came from."""

    id: str
    fields: Mapping[str, Any]
    category: str = ""
    level: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class BenchmarkSuite:
    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    splits: ClassVar[tuple[str, ...]] = ()
    preferred_metrics: ClassVar[tuple[str, ...]] = ()
    official_metrics: ClassVar[tuple[str, ...]] = ()
    official_aggregation: ClassVar[str | None] = None
    source: ClassVar[DataSource] = DataSource("manual")
    layout: ClassVar[tuple[str, ...]] = ()
    expected_counts: ClassVar[dict[str, int]] = {}

    def __init__(self, arg: str | None = None, data_dir: str | Path | None = None, **_: Any) -> None:
        self.arg = arg
        self.root = dataset_dir(self.name, data_dir)

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        return not_downloaded_reason(cls.name, cls.layout)

    def fingerprint(self) -> dict[str, Any]:
        manifest = self.root / MANIFEST_NAME
        files_digest = None
        if manifest.is_file():
            files_digest = stable_hash(json.loads(manifest.read_text(encoding="utf-8")).get("files", {}))
        return {
            "name": self.name,
            "version": self.version,
            "source": self.source.repo_id or self.source.homepage,
            "revision": self.source.revision,
            "files_sha256": files_digest,
        }

    @property
    def default_metrics(self) -> tuple[str, ...]:
        """The preferred metrics that are registered here (judges may come from a plug-in)."""
        from harness import registry

        return tuple(name for name in self.preferred_metrics if name in registry.metrics)

    def records(self, split: str) -> Iterator[Record]:
        raise NotImplementedError

    def to_sample(self, record: Record) -> Sample:
        raise NotImplementedError

    def count(self, split: str) -> int:
        """Number of records in ``split``, without decoding images."""
        self._check_split(split)
        return sum(1 for _ in self.records(split))

    def samples(self, split: str, limit: int | None = None) -> Iterator[Sample | InvalidSample]:
        """Samples in upstream order. A record that cannot be loaded becomes an ``InvalidSample``; a data
        file that cannot be read at all ends the stream with one ``InvalidSample`` (id
        ``<split>:unreadable``) carrying the reason, so a run records it and goes on with other suites."""
        self._check_split(split)
        produced = 0
        records = self.records(split)
        while limit is None or produced < limit:
            try:
                record = next(records)
            except StopIteration:
                return
            except DataError as exc:
                yield InvalidSample(f"{split}:unreadable", f"{self.name} {split}: {exc}")
                return
            produced += 1
            try:
                yield self.to_sample(record)
            except (SampleError, ImageDecodeError, KeyError, TypeError, ValueError) as exc:
                known = isinstance(exc, SampleError | ImageDecodeError)
                reason = str(exc) if known else f"{type(exc).__name__}: {exc}"
                yield InvalidSample(
                    record.id, f"{self.name} sample {record.id}: {reason}", record.category, record.level
                )

    def _check_split(self, split: str) -> None:
        if split not in self.splits:
            raise ValueError(f"{self.name} has splits {', '.join(self.splits)}; not {split!r}")
