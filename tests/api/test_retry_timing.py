"""Retries wait what the provider asked (measured at the server), and the time caps hold."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from baselines.api.mock import MockServer
from harness.types import EditRequest
from tests.api.conftest import FAST, MOCK_MODELS, make_editor, source_image

# Providers whose 429 carries a hint: a Retry-After header (openai, bfl, stability), Gemini's
# RetryInfo.retryDelay in the body, Replicate's "Expected available in N second" detail.
HINTED = ["openai", "gemini", "bfl", "stability", "replicate"]
JITTER_MAX = 0.25


def gap_between_calls(server: MockServer, provider: str, prompt: str) -> float:
    times = server.state.call_times(provider, MOCK_MODELS[provider], prompt)
    assert len(times) == 2, times
    return times[1] - times[0]


@pytest.mark.parametrize("provider", HINTED)
def test_retry_waits_at_least_the_providers_retry_after(server: MockServer, provider: str) -> None:
    prompt = "soften shadows [mock:429,retry_after=0.6]"
    [result] = make_editor(provider).edit([EditRequest("s", source_image(), prompt)])
    assert result.status == "ok", result.error
    gap = gap_between_calls(server, provider, prompt)
    assert 0.6 <= gap < 0.6 + JITTER_MAX + 0.35, gap
    assert 0.6 <= result.provider["retries"][0]["wait_s"] <= 0.6 + JITTER_MAX


@pytest.mark.parametrize("provider", ["ark", "dashscope"])
def test_unhinted_429_backs_off_exponentially(server: MockServer, provider: str) -> None:
    policy = replace(FAST, initial_backoff_s=0.4, max_backoff_s=2.0, max_attempts=4)
    prompt = "crisper [mock:429,n=2]"
    [result] = make_editor(provider, policy).edit([EditRequest("s", source_image(), prompt)])
    assert result.status == "ok", result.error
    times = server.state.call_times(provider, MOCK_MODELS[provider], prompt)
    first, second = times[1] - times[0], times[2] - times[1]
    assert 0.2 <= first < 0.4 + 0.3  # 0.4 s x jitter in [0.5, 1]
    assert 0.4 <= second < 0.8 + 0.3  # doubled


def test_retry_after_beyond_the_cap_is_not_waited_for(server: MockServer) -> None:
    policy = replace(FAST, max_retry_after_s=5.0)
    start = time.monotonic()
    [result] = make_editor("openai", policy).edit(
        [EditRequest("s", source_image(), "x [mock:429,retry_after=60]")]
    )
    assert time.monotonic() - start < 3.0
    assert result.status == "error"
    assert "Retry-After 60 s exceeds the 5 s cap" in result.error
    assert server.stats()["total_calls"] == 1


def test_total_time_cap_ends_a_hanging_edit_as_timeout(server: MockServer) -> None:
    policy = replace(FAST, request_timeout_s=30.0, total_timeout_s=0.8)
    start = time.monotonic()
    [result] = make_editor("openai", policy).edit(
        [EditRequest("s", source_image(), "x [mock:timeout,n=all]")]
    )
    elapsed = time.monotonic() - start
    assert result.status == "timeout"
    assert 0.7 <= elapsed < 2.5, elapsed


def test_retry_that_would_pass_the_total_cap_is_not_attempted(server: MockServer) -> None:
    policy = replace(FAST, total_timeout_s=1.0)
    [result] = make_editor("openai", policy).edit(
        [EditRequest("s", source_image(), "x [mock:429,retry_after=2]")]
    )
    assert result.status == "error"
    assert "would pass the total time cap" in result.error
    assert server.stats()["total_calls"] == 1


def test_concurrency_limit_caps_requests_in_flight(
    mock_server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with MockServer(latency_s=0.3) as slow:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-concurrency")
        editor = make_editor("openai", max_concurrency=4, base_url=slow.base_url("openai"))
        requests = [EditRequest(f"s{i}", source_image(i), f"edit {i}") for i in range(12)]
        start = time.monotonic()
        results = editor.edit(requests)
        elapsed = time.monotonic() - start
        stats = slow.stats()
    assert [r.status for r in results] == ["ok"] * 12
    assert stats["max_in_flight"] == 4
    assert 0.9 <= elapsed < 3.0  # three waves of 0.3 s


def test_rate_limit_spaces_request_starts(server: MockServer) -> None:
    editor = make_editor("openai", requests_per_minute=600)  # one start every 0.1 s
    requests = [EditRequest(f"s{i}", source_image(i), f"rate {i}") for i in range(6)]
    start = time.monotonic()
    assert [r.status for r in editor.edit(requests)] == ["ok"] * 6
    assert time.monotonic() - start >= 0.5  # the sixth start waits five intervals
    assert server.stats()["total_calls"] == 6
