"""The editors as the runner sees them: names, availability, fingerprints, costs, batches, turns."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.api.mock import MockServer, mock_edit
from baselines.api.openai_images import GptImage1
from harness.fingerprint import stable_hash
from harness.registry import UnavailableError, editors
from harness.types import EditRequest
from tests.api.conftest import FAST, KEY_ENVS, canary_key, make_editor, source_image

ALL_NAMES = {
    "openai/gpt-image-1": {},
    "openai/gpt-image-1-mini": {},
    "openai/gpt-image-1.5": {},
    "gemini/gemini-2.5-flash-image": {},
    "bfl/flux-kontext-pro": {},
    "bfl/flux-kontext-max": {},
    "ark/seededit-3.0": {},
    "ark/seedream-4.0": {},
    "dashscope/qwen-image-edit": {},
    "stability/inpaint": {},
    "stability/search-and-replace": {"search_prompt": "the sky"},
    "replicate/qwen/qwen-image-edit": {},
}


@pytest.mark.parametrize("name", sorted(ALL_NAMES))
def test_every_registered_editor_round_trips_through_the_mock(server: MockServer, name: str) -> None:
    editor = editors.create(name, retry=FAST, **ALL_NAMES[name])
    assert editor.name == name
    assert editor.capabilities.batch_size == 32
    [result] = editor.edit([EditRequest("s", source_image(3), "turn it blue")])
    assert result.status == "ok", result.error
    np.testing.assert_array_equal(result.image, mock_edit(source_image(3)))
    assert result.usage.cost_usd > 0


@pytest.mark.parametrize("name", sorted(ALL_NAMES))
def test_without_a_key_the_editor_is_unavailable_with_the_reason(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for env in KEY_ENVS.values():
        monkeypatch.delenv(env, raising=False)
    env = KEY_ENVS[name.split("/")[0]]
    availability = editors.availability(name)
    assert not availability.available
    assert availability.reason == f"{env} is not set"
    with pytest.raises(UnavailableError, match=f"{env} is not set"):
        editors.create(name)
    monkeypatch.setenv(env, "sk-anything")
    assert editors.availability(name).available


def test_unavailable_reason_classmethod_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert GptImage1.unavailable_reason(None) == "OPENAI_API_KEY is not set"


def test_replicate_needs_owner_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPLICATE_API_TOKEN", "r8-x")
    assert "replicate/<owner>/<model>" in editors.availability("replicate/justone").reason
    assert editors.availability("replicate/black-forest-labs/flux-kontext-max").available


def test_fingerprint_has_identity_and_params_but_no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", canary_key("openai"))
    leaky_url = "http://user:hunter2pass@127.0.0.1:9/openai?token=querysecret"
    editor = GptImage1(base_url=leaky_url, quality="high")
    fp = editor.fingerprint()
    assert fp["name"] == "openai/gpt-image-1"
    assert fp["config"]["model"] == "gpt-image-1"
    assert fp["config"]["endpoint_version"] == "v1"
    assert fp["config"]["params"]["quality"] == "high"
    assert fp["config"]["base_url"] == "http://127.0.0.1:9/openai"
    text = repr(fp) + repr(vars(editor))
    for secret in (canary_key("openai"), "hunter2pass", "querysecret"):
        assert secret not in repr(fp)
    assert canary_key("openai") not in text
    monkeypatch.setenv("OPENAI_API_KEY", "sk-another-key")
    same = GptImage1(base_url=leaky_url, quality="high").fingerprint()
    assert stable_hash(same) == stable_hash(fp)  # the key is not part of the identity
    assert stable_hash(GptImage1(base_url=leaky_url, quality="low").fingerprint()) != stable_hash(fp)


def test_unknown_option_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-x")
    with pytest.raises(ValueError, match="unknown option.*qualty.*known: input_fidelity"):
        GptImage1(qualty="high")


def test_cost_estimates_follow_the_price_table(monkeypatch: pytest.MonkeyPatch) -> None:
    for env in KEY_ENVS.values():
        monkeypatch.setenv(env, "k-x")
    one = EditRequest("s", source_image(), "x")
    two_turns = EditRequest("s", source_image(), "b", turns=("a", "b"))
    assert editors.create("openai/gpt-image-1").estimate_cost_usd(one) == pytest.approx(0.042)
    assert editors.create("openai/gpt-image-1", quality="high").estimate_cost_usd(one) == pytest.approx(0.167)
    assert editors.create("bfl/flux-kontext-max").estimate_cost_usd(two_turns) == pytest.approx(0.16)
    assert editors.create("replicate/someone/unpriced").estimate_cost_usd(one) == 0.0


def test_multi_turn_feeds_each_output_to_the_next_turn(server: MockServer) -> None:
    source = source_image(5)
    request = EditRequest("s", source, "second", turns=("first", "second"))
    [result] = make_editor("gemini").edit([request])
    assert result.status == "ok", result.error
    np.testing.assert_array_equal(result.image, mock_edit(mock_edit(source)))
    assert [step.arguments["turn"] for step in result.trace] == [1, 2]
    np.testing.assert_array_equal(result.trace[0].image, mock_edit(source))
    first = server.state.call_times("gemini", "gemini-2.5-flash-image", "first")
    second = server.state.call_times("gemini", "gemini-2.5-flash-image", "second")
    assert len(first) == len(second) == 1 and first[0] < second[0]


def test_a_refused_later_turn_refuses_the_sample_and_keeps_the_spent_cost(server: MockServer) -> None:
    request = EditRequest("s", source_image(), "b", turns=("fine", "not fine [mock:refusal]"))
    [result] = make_editor("openai").edit([request])
    assert (result.status, result.refusal_code) == ("refused", "moderation_blocked")
    assert result.error.startswith("turn 2/2:")
    assert result.usage.cost_usd > 0  # the first turn was billed
    assert result.usage.calls == 2


@pytest.mark.parametrize("provider", ["openai", "stability"])
def test_mask_reaches_the_provider_in_its_own_convention(server: MockServer, provider: str) -> None:
    source = source_image(9)
    mask = np.zeros(source.shape[:2], dtype=bool)
    mask[2:9, 4:12] = True
    [result] = make_editor(provider).edit([EditRequest("s", source, "only here", mask=mask)])
    assert result.status == "ok", result.error
    np.testing.assert_array_equal(result.image, mock_edit(source, mask))


def test_search_and_replace_without_search_prompt_fails_before_calling(server: MockServer) -> None:
    editor = editors.create("stability/search-and-replace", retry=FAST)
    [result] = editor.edit([EditRequest("s", source_image(), "a red car")])
    assert result.status == "error" and "search_prompt" in result.error
    assert server.stats()["total_calls"] == 0
    [result] = editor.edit([EditRequest("s", source_image(), "a red car", params={"search_prompt": "car"})])
    assert result.status == "ok"


def test_a_batch_keeps_order_and_one_bad_sample_does_not_sink_it(server: MockServer) -> None:
    requests = [EditRequest(f"s{i}", source_image(i), f"batch {i}") for i in range(40)]
    requests[17] = EditRequest("s17", source_image(17), "batch 17 [mock:quota]")
    results = make_editor("openai").edit(requests)
    assert len(results) == 40
    for i, result in enumerate(results):
        if i == 17:
            assert result.status == "error" and "insufficient_quota" in result.error
        else:
            np.testing.assert_array_equal(result.image, mock_edit(source_image(i)))
    stats = server.stats()
    assert stats["total_calls"] == 40 and stats["duplicate_edits"] == 0


def test_a_key_removed_after_construction_fails_cleanly_without_calls(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "")
    [result] = GptImage1(retry=FAST).edit([EditRequest("s", source_image(), "x")])
    assert (result.status, result.error) == ("error", "OPENAI_API_KEY is not set")
    assert server.stats()["total_calls"] == 0
