"""Fixtures for the API editors: one loopback mock server, canary keys, a fast retry policy."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from baselines.api.mock import MockServer
from baselines.api.transport import RetryPolicy
from harness.registry import editors

KEY_ENVS = {
    "openai": "OPENAI_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "bfl": "BFL_API_KEY",
    "ark": "ARK_API_KEY",
    "dashscope": "DASHSCOPE_API_KEY",
    "stability": "STABILITY_API_KEY",
    "replicate": "REPLICATE_API_TOKEN",
}
# One editor per provider, created through the registry by its public name.
PROVIDER_EDITORS = {
    "openai": "openai/gpt-image-1",
    "gemini": "gemini/gemini-2.5-flash-image",
    "bfl": "bfl/flux-kontext-pro",
    "ark": "ark/seededit-3.0",
    "dashscope": "dashscope/qwen-image-edit",
    "stability": "stability/inpaint",
    "replicate": "replicate/black-forest-labs/flux-kontext-pro",
}
# The endpoint that carries the prompt (what a retry repeats), as the mock names it in /_stats.
MAIN_ENDPOINTS = {
    "openai": "openai POST /v1/images/edits",
    "gemini": "gemini POST generateContent",
    "bfl": "bfl POST /v1/flux-kontext-pro",
    "ark": "ark POST /api/v3/images/generations",
    "dashscope": "dashscope POST multimodal-generation",
    "stability": "stability POST inpaint",
    "replicate": "replicate POST /v1/models/{model}/predictions",
}
# The model key the mock files a prompt's calls under (see MockState.call_times).
MOCK_MODELS = {
    "openai": "gpt-image-1",
    "gemini": "gemini-2.5-flash-image",
    "bfl": "flux-kontext-pro",
    "ark": "doubao-seededit-3-0-i2i-250628",
    "dashscope": "qwen-image-edit",
    "stability": "inpaint",
    "replicate": "black-forest-labs/flux-kontext-pro",
}
FAST = RetryPolicy(
    max_attempts=3,
    initial_backoff_s=0.05,
    max_backoff_s=0.2,
    # well above a loaded 2-core machine's response time, so a clean call is never retried (a
    # timeout test sets its own, shorter one against the mock's 3 s hang)
    request_timeout_s=2.0,
    total_timeout_s=20.0,
    poll_interval_s=0.02,
)


def canary_key(provider: str) -> str:
    return f"sk-test-LEAKCANARY-{provider}-7f3a9c1e5b"


@pytest.fixture(scope="session")
def mock_server() -> Iterator[MockServer]:
    with MockServer(hang_s=3.0) as server:
        yield server


@pytest.fixture
def server(mock_server: MockServer, monkeypatch: pytest.MonkeyPatch) -> MockServer:
    """The shared mock, reset, with every provider's base URL and a canary key in the environment."""
    mock_server.reset()
    for name, value in mock_server.env().items():
        monkeypatch.setenv(name, value)
    for provider, env in KEY_ENVS.items():
        monkeypatch.setenv(env, canary_key(provider))
    return mock_server


def make_editor(provider: str, policy: RetryPolicy = FAST, **options: object):
    return editors.create(PROVIDER_EDITORS[provider], retry=policy, **options)


def source_image(seed: int = 0, size: int = 16) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
