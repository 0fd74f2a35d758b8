"""A planted canary key per provider never appears in results, logs, errors or written files,
on success and on every failure path (including a server that echoes the key back)."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path

import pytest

from baselines.api.mock import MockServer
from baselines.api.secrets import Secret, find_string_in_tree, redact
from harness.types import EditRequest
from tests.api.conftest import PROVIDER_EDITORS, canary_key, make_editor, source_image

FAULT_PROMPTS = [
    "plain",
    "[mock:auth,n=all]",
    "[mock:429,retry_after=0.05]",
    "[mock:500,n=all]",
    "[mock:quota]",
    "[mock:invalid]",
    "[mock:refusal]",
    "[mock:malformed]",
    "[mock:truncated_b64]",
    "[mock:expired]",
    "[mock:timeout,n=all]",
]


def _dump(result: object) -> dict:
    data = asdict(result)  # type: ignore[arg-type]
    data["image"] = None if data["image"] is None else "<image>"
    for step in data["trace"]:
        step["image"] = None
    return data


@pytest.mark.parametrize("provider", list(PROVIDER_EDITORS))
def test_canary_key_is_nowhere(
    server: MockServer, provider: str, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from dataclasses import replace

    from tests.api.conftest import FAST

    caplog.set_level(logging.DEBUG)
    key = canary_key(provider)
    editor = make_editor(provider, replace(FAST, request_timeout_s=0.3, max_attempts=2))
    requests = [
        EditRequest(f"s{i}", source_image(i), f"edit {i} {p}", seed=i) for i, p in enumerate(FAULT_PROMPTS)
    ]
    requests.append(EditRequest("turns", source_image(), "b", turns=("a", "b [mock:auth,n=all]")))
    results = editor.edit(requests)
    statuses = {r.status for r in results}
    assert {"ok", "error", "timeout", "refused"} <= statuses  # every path was exercised
    auth = results[1]
    assert auth.status == "error" and "***" in auth.error  # the server echoed it; we redacted it
    everything = repr(results) + repr(editor.fingerprint()) + repr(vars(editor)) + caplog.text
    from baselines.api.transport import CallContext, RateLimiter

    everything += repr(CallContext(None, FAST, RateLimiter(None), provider, secrets=(key,)))  # type: ignore[arg-type]
    assert key not in everything
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "edits.jsonl").write_text("\n".join(json.dumps(_dump(r), default=str) for r in results))
    (run_dir / "log.txt").write_text(caplog.text)
    assert find_string_in_tree(run_dir, key) == []


def test_leak_scan_finds_a_planted_key(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "manifest.json").write_text('{"x": "sk-test-LEAKCANARY-zzz"}')
    (tmp_path / "clean.txt").write_text("nothing here")
    assert find_string_in_tree(tmp_path, "sk-test-LEAKCANARY-zzz") == [tmp_path / "a" / "b" / "manifest.json"]


def test_secret_holder_and_redaction() -> None:
    secret = Secret("sk-test-LEAKCANARY-holder")
    assert "LEAKCANARY" not in repr(secret) + str(secret) + f"{secret}"
    assert secret.reveal() == "sk-test-LEAKCANARY-holder"
    assert redact("bad key sk-abc123 given", ["sk-abc123"]) == "bad key *** given"
