"""Materialised samples of deterministic suites, and a background prefetch of any suite's stream.

Generated suites (``synth-edit``, ``photo-ops``) render every sample on the fly. A suite that sets
``cache_samples = True`` has each complete (fingerprint, split, limit) stream stored once in the
cache (images in its blob store, fields as JSON), so a re-run reads PNGs instead of rendering.
A stream is stored only when it completed without an invalid sample; otherwise nothing is kept.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from harness.cache import Cache
from harness.images import ImageStore, image_hash
from harness.types import InvalidSample, Sample, sample_fields

SAMPLE_SET_VERSION = 1


class _LinkingStore:
    """Puts into the cache's blobs, linking from the run's store when the image is already there."""

    def __init__(self, blobs: ImageStore, run_store: ImageStore | None) -> None:
        self.blobs = blobs
        self.run_store = run_store

    def put(self, image: np.ndarray) -> str:
        digest = image_hash(image)
        if self.run_store is not None and self.run_store.has(digest):
            self.blobs.copy_from(self.run_store, digest)
            return digest
        return self.blobs.put(image)


def _put_mask(store: Any, mask: np.ndarray | None) -> str:
    return store.put(mask.astype(np.uint8) * 255) if mask is not None else ""


class SampleCache:
    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def load(self, key: str, link_into: ImageStore | None = None) -> Iterator[Sample] | None:
        rows = self.cache.get_sample_set(key)
        if rows is None:
            return None
        blobs = self.cache.blobs
        needed = [row[name] for row in rows for name in ("source", "target", "mask") if row.get(name)]
        if not all(blobs.has(digest) for digest in needed):
            return None
        return self._iterate(rows, link_into)

    def _iterate(self, rows: list[dict[str, Any]], link_into: ImageStore | None) -> Iterator[Sample]:
        blobs = self.cache.blobs
        for row in rows:
            if link_into is not None:
                for name in ("source", "target", "mask"):
                    if row.get(name):
                        link_into.copy_from(blobs, row[name])
            yield Sample(
                id=row["id"],
                source=blobs.get(row["source"]),
                instruction=row["instruction"],
                turns=tuple(row["turns"]),
                mask=(blobs.get(row["mask"]) > 127) if row.get("mask") else None,
                target=blobs.get(row["target"]) if row.get("target") else None,
                category=row["category"],
                level=row["level"],
                language=row["language"],
                captions=row["captions"],
                metadata=row["metadata"],
            )

    def recording(
        self, key: str, stream: Iterator[Sample | InvalidSample], run_store: ImageStore | None = None
    ) -> Iterator[Sample | InvalidSample]:
        """Yield ``stream`` unchanged; store it when it ends cleanly and every sample is storable.

        Images already in ``run_store`` are linked into the cache instead of encoded again.
        """
        rows: list[dict[str, Any]] | None = []
        blobs = _LinkingStore(self.cache.blobs, run_store)
        for sample in stream:
            if rows is not None:
                rows = self._row(sample, blobs, rows)
            yield sample
        if rows is not None:
            self.cache.put_sample_set(key, rows)

    @staticmethod
    def _row(
        sample: Sample | InvalidSample, blobs: Any, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]] | None:
        if not isinstance(sample, Sample):
            return None
        fields = sample_fields(sample)
        try:
            if json.loads(json.dumps(fields)) != fields:
                return None  # tuples or other types that JSON would change: not cacheable
        except (TypeError, ValueError):
            return None
        fields["source"] = blobs.put(sample.source)
        fields["target"] = blobs.put(sample.target) if sample.target is not None else ""
        fields["mask"] = _put_mask(blobs, sample.mask)
        rows.append(fields)
        return rows


@dataclass
class _Failure:
    error: BaseException


_END = object()


def prefetched(stream: Iterator[Any], depth: int) -> Iterator[Any]:
    """Iterate ``stream`` in a background thread, at most ``depth`` items ahead.

    Generation (rendering, decoding) then overlaps with editing and scoring; an exception in the
    stream is re-raised here, at the point the consumer reaches it.
    """
    items: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def work() -> None:
        try:
            for item in stream:
                while not stop.is_set():
                    try:
                        items.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put(_END)
        except BaseException as exc:  # forwarded to the consumer
            items.put(_Failure(exc))

    thread = threading.Thread(target=work, name="ieval-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
