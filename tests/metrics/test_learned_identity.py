"""In-process identities of learned-metric inputs (memo and device-cache keys)."""

from __future__ import annotations

import numpy as np

from harness.images import image_hash
from harness.metrics.learned.identity import array_digest, content_id, item_id


def test_content_id_follows_content_dtype_and_shape():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (16, 12, 3), dtype=np.uint8)
    assert content_id(image) == content_id(image.copy())
    changed = image.copy()
    changed[5, 7, 1] ^= 1
    assert content_id(changed) != content_id(image)
    assert content_id(image.reshape(12, 16, 3)) != content_id(image)
    assert content_id(image.astype(np.int8)) != content_id(image)
    assert content_id(np.asfortranarray(image)) == content_id(image)
    # a different hash from the persisted image identity: the two are never compared or mixed
    assert len(content_id(image)) == 32 and content_id(image) != image_hash(image)[:32]


def test_content_id_is_remembered_per_live_array():
    image = np.zeros((8, 8, 3), dtype=np.uint8)
    first = content_id(image)
    image[0, 0, 0] = 1  # arrays are treated as immutable while alive: the id stays
    assert content_id(image) == first
    assert array_digest(image) != first


def test_item_ids_separate_texts_images_and_pairs():
    a = np.zeros((4, 4, 3), dtype=np.uint8)
    b = np.ones((4, 4, 3), dtype=np.uint8)
    assert item_id("a photo") == "text:a photo"
    assert item_id((a, b)) == f"{content_id(a)}+{content_id(b)}"
    assert item_id((a, b)) != item_id((b, a))
    assert item_id({"x": 1}) == item_id({"x": 1}) != item_id({"x": 2})
