"""The client layer's pieces on their own: Retry-After parsing, backoff, spacing, sync entry."""

from __future__ import annotations

import asyncio
import random
import time

import httpx
import pytest

from baselines.api.codec import alpha_mask_png, decode_b64_image
from baselines.api.errors import ResponseFormatError
from baselines.api.transport import RateLimiter, RetryPolicy, parse_duration, parse_retry_after, run_sync


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after(httpx.Headers({"retry-after": "3"})) == 3.0
    assert parse_retry_after(httpx.Headers({"retry-after-ms": "250", "retry-after": "9"})) == 0.25
    in_two = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 2))
    assert 0.5 < parse_retry_after(httpx.Headers({"retry-after": in_two})) <= 2.0
    assert parse_retry_after(httpx.Headers({})) is None
    assert parse_retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert parse_duration("30s") == 30.0 and parse_duration("1.5s") == 1.5 and parse_duration("x") is None


def test_backoff_doubles_with_jitter_and_caps() -> None:
    policy = RetryPolicy(initial_backoff_s=1.0, max_backoff_s=4.0)
    rng = random.Random(0)
    waits = [[policy.backoff(attempt, rng) for _ in range(200)] for attempt in (1, 2, 3, 6)]
    for bound, samples in zip((1.0, 2.0, 4.0, 4.0), waits, strict=True):
        assert bound / 2 <= min(samples) and max(samples) <= bound
        assert max(samples) - min(samples) > bound / 4  # jittered, not constant


def test_rate_limiter_spaces_starts_across_event_loops() -> None:
    limiter = RateLimiter(requests_per_minute=1200)  # 0.05 s apart

    async def three() -> list[float]:
        stamps = []
        for _ in range(3):
            await limiter.wait()
            stamps.append(time.monotonic())
        return stamps

    first = asyncio.run(three())
    second = asyncio.run(three())  # the next batch keeps the spacing
    stamps = first + second
    assert stamps[-1] - stamps[0] >= 5 * 0.05 - 0.01


def test_run_sync_works_inside_a_running_loop() -> None:
    async def inner() -> int:
        await asyncio.sleep(0)
        return 7

    async def outer() -> int:
        return run_sync(inner)

    assert run_sync(inner) == 7
    assert asyncio.run(outer()) == 7


def test_truncated_base64_is_a_format_error() -> None:
    with pytest.raises(ResponseFormatError, match="not valid base64"):
        decode_b64_image("iVBORw0KGgoAAAANSUhEUgAA1", "x")
    with pytest.raises(ResponseFormatError, match="no base64 image data"):
        decode_b64_image(None, "x")


def test_alpha_mask_is_transparent_where_the_edit_goes() -> None:
    import io

    import numpy as np
    from PIL import Image

    image = np.full((4, 6, 3), 90, dtype=np.uint8)
    mask = np.zeros((4, 6), dtype=bool)
    mask[1:3, 2:5] = True
    with Image.open(io.BytesIO(alpha_mask_png(image, mask))) as png:
        rgba = np.asarray(png.convert("RGBA"))
    np.testing.assert_array_equal(rgba[:, :, 3] == 0, mask)
    np.testing.assert_array_equal(rgba[:, :, :3], image)
