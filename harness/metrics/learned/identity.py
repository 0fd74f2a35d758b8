"""In-process identities of backbone inputs: the keys of feature memos and device caches.

These keys live only as long as the process and are never written anywhere, so they use xxh3-128
(tens of GB/s) rather than the harness's persistent ``harness.images.image_hash`` (sha256), which
stays the identity of everything stored on disk or in records.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

import numpy as np
import xxhash

from harness.fingerprint import stable_hash
from harness.metrics.learned.recipes import ImagePrep

_ids: dict[int, tuple[weakref.ref[np.ndarray], str]] = {}


def array_digest(array: np.ndarray) -> str:
    """xxh3-128 hex digest of an array's dtype, shape and bytes (C order)."""
    array = np.ascontiguousarray(array)
    digest = xxhash.xxh3_128(f"{array.dtype.str}{array.shape}".encode())
    digest.update(array)
    return digest.hexdigest()


def content_id(image: np.ndarray) -> str:
    """``array_digest`` of an array, computed once per live array object (metrics ask repeatedly).

    Arrays are treated as immutable while alive: one changed in place keeps its old id."""
    entry = _ids.get(id(image))
    if entry is not None and entry[0]() is image:
        return entry[1]
    digest = array_digest(image)
    key = id(image)
    _ids[key] = (weakref.ref(image, lambda _ref, key=key: _ids.pop(key, None)), digest)
    return digest


def item_id(item: Any) -> str:
    """The identity of a feature's input: an image, a tuple of images, a text, or any JSON-able value."""
    if isinstance(item, np.ndarray):
        return content_id(item)
    if isinstance(item, str):
        return "text:" + item
    if isinstance(item, tuple) and all(isinstance(part, np.ndarray) for part in item):
        return "+".join(content_id(part) for part in item)
    return stable_hash(item)


@functools.lru_cache(maxsize=256)
def prep_key(prep: ImagePrep) -> str:
    """Short identity of a (frozen, hashable) preprocessing; memo keys use it thousands of times a batch."""
    return stable_hash(prep.fingerprint())[:16]
