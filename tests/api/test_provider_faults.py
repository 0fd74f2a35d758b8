"""Every provider against the mock: success, each injected fault and a refusal end in the right
status, with the right number of calls (counted by the server) and no retry where none is allowed."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.api.mock import MockServer, mock_edit
from harness.types import EditRequest, EditResult
from tests.api.conftest import MAIN_ENDPOINTS, PROVIDER_EDITORS, make_editor, source_image

PROVIDERS = list(PROVIDER_EDITORS)
# Calls a clean edit makes: bfl submits, polls twice (Pending, Ready) and downloads; dashscope and
# replicate fetch the result URL; the others get the image in the response body.
CLEAN_CALLS = {"openai": 1, "gemini": 1, "bfl": 4, "ark": 1, "dashscope": 2, "stability": 1, "replicate": 2}
REFUSAL_CODES = {
    "openai": "moderation_blocked",
    "gemini": "IMAGE_SAFETY",
    "bfl": "Request Moderated",
    "ark": "InputImageSensitiveContentDetected",
    "dashscope": "DataInspectionFailed",
    "stability": "CONTENT_FILTERED",
    "replicate": "content_filter",
}
EXPIRING = ("bfl", "dashscope", "replicate")  # the providers that hand back a URL that can expire


def run_one(server: MockServer, provider: str, prompt: str, **options: object) -> tuple[EditResult, dict]:
    editor = make_editor(provider, **options)
    source = source_image()
    [result] = editor.edit([EditRequest("s1", source, prompt, seed=7)])
    return result, server.stats()


def main_calls(stats: dict, provider: str) -> int:
    return stats["endpoints"].get(MAIN_ENDPOINTS[provider], 0)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_success_returns_the_mock_edit_and_records_usage(server: MockServer, provider: str) -> None:
    result, stats = run_one(server, provider, "make the sky purple")
    assert result.status == "ok", result.error
    np.testing.assert_array_equal(result.image, mock_edit(source_image()))
    assert result.usage.calls == CLEAN_CALLS[provider] == stats["total_calls"]
    assert result.usage.cost_usd > 0
    assert result.provider["provider"] == provider
    assert result.provider["request_ids"], "a provider request id is recorded"
    assert result.provider["prices_as_of"]
    assert stats["edits_served"] == 1 and stats["duplicate_edits"] == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_refusal_is_refused_with_the_provider_code_and_not_retried(server: MockServer, provider: str) -> None:
    result, stats = run_one(server, provider, "something disallowed [mock:refusal,n=all]")
    assert result.status == "refused"
    assert result.refusal_code == REFUSAL_CODES[provider]
    assert result.image is None and result.usage.cost_usd == 0.0
    assert main_calls(stats, provider) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", ["429", "500", "503"])
def test_transient_fault_once_is_retried_to_success(server: MockServer, provider: str, fault: str) -> None:
    result, stats = run_one(server, provider, f"warm tones [mock:{fault},retry_after=0.1]")
    assert result.status == "ok", result.error
    np.testing.assert_array_equal(result.image, mock_edit(source_image()))
    assert main_calls(stats, provider) == 2
    assert [r["http_status"] for r in result.provider["retries"]] == [int(fault)]
    assert stats["duplicate_edits"] == 0


@pytest.mark.parametrize("provider", PROVIDERS)
def test_persistent_server_error_gives_up_after_max_attempts(server: MockServer, provider: str) -> None:
    result, stats = run_one(server, provider, "cooler [mock:500,n=all]")
    assert result.status == "error"
    assert "HTTP 500" in result.error and "gave up after 3 attempts" in result.error
    assert main_calls(stats, provider) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("fault", ["quota", "invalid", "auth"])
def test_quota_validation_and_auth_errors_are_not_retried(
    server: MockServer, provider: str, fault: str
) -> None:
    result, stats = run_one(server, provider, f"brighter [mock:{fault},n=all]")
    assert result.status == "error"
    assert result.refusal_code == ""
    assert main_calls(stats, provider) == 1
    assert stats["total_calls"] == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_timeout_maps_to_timeout_after_retries(server: MockServer, provider: str) -> None:
    from dataclasses import replace

    from tests.api.conftest import FAST

    policy = replace(FAST, request_timeout_s=0.3, max_attempts=2)
    result, stats = run_one(server, provider, "sharper [mock:timeout,n=all]", policy=policy)
    assert result.status == "timeout"
    assert "no response within 0.3 s" in result.error
    assert main_calls(stats, provider) == 2
    assert result.usage.calls == 2


@pytest.mark.parametrize("provider", PROVIDERS)
def test_malformed_json_is_an_error_with_a_reason(server: MockServer, provider: str) -> None:
    result, stats = run_one(server, provider, "blur [mock:malformed,n=all]")
    assert result.status == "error"
    assert "not valid JSON" in result.error
    assert main_calls(stats, provider) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
def test_truncated_image_data_is_an_error_with_a_reason(server: MockServer, provider: str) -> None:
    result, stats = run_one(server, provider, "grain [mock:truncated_b64,n=all]")
    assert result.status == "error"
    assert "not valid base64" in result.error or "cannot decode image" in result.error
    assert "truncated" in result.error
    assert main_calls(stats, provider) == 1
    assert result.usage.calls == CLEAN_CALLS[provider]


@pytest.mark.parametrize("provider", EXPIRING)
def test_expired_result_or_polling_url_is_an_error(server: MockServer, provider: str) -> None:
    result, stats = run_one(server, provider, "vignette [mock:expired,n=all]")
    assert result.status == "error"
    assert "expired" in result.error
    assert main_calls(stats, provider) == 1
    assert result.usage.calls == 2  # the submit and one poll / download, nothing repeated


def test_gemini_prompt_block_is_a_refusal(server: MockServer) -> None:
    result, _ = run_one(server, "gemini", "x [mock:blocked]")
    assert (result.status, result.refusal_code) == ("refused", "PROHIBITED_CONTENT")


def test_gemini_text_without_image_is_an_error(server: MockServer) -> None:
    result, stats = run_one(server, "gemini", "x [mock:text_only]")
    assert result.status == "error"
    assert "no image part" in result.error and "text only" in result.error
    assert stats["total_calls"] == 1


def test_stability_content_moderation_403_is_a_refusal(server: MockServer) -> None:
    result, stats = run_one(server, "stability", "x [mock:moderation]")
    assert (result.status, result.refusal_code) == ("refused", "content_moderation")
    assert stats["total_calls"] == 1


def test_bfl_keeps_polling_while_pending(server: MockServer) -> None:
    result, stats = run_one(server, "bfl", "x [mock:none,polls=4]")
    assert result.status == "ok"
    assert stats["endpoints"]["bfl GET /v1/get_result"] == 5


def test_replicate_polls_a_prediction_that_is_still_processing(server: MockServer) -> None:
    result, stats = run_one(server, "replicate", "x [mock:none,polls=2]")
    assert result.status == "ok"
    assert stats["endpoints"]["replicate GET /v1/predictions/{id}"] == 2
