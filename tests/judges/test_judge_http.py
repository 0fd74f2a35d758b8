"""Judges against a real loopback server: every failure lands in its status, nothing is imputed."""

from __future__ import annotations

import math
import time

import pytest

pytest.importorskip("httpx")

from judge_server import http_error, ok, refusal, text  # noqa: E402

from harness.judges import config as judge_config  # noqa: E402
from harness.judges.builtin import VieScoreEdit  # noqa: E402
from harness.judges.call_cache import open_cache  # noqa: E402
from harness.judges.ledger import run_ledger  # noqa: E402


def build_cases(server, make_case):
    cases = {
        "good": ([ok(success=8, overediting=6)], [ok(naturalness=9, artifacts=4)]),
        "malformed": ([text("Score: 7/10, looks fine"), text('{"success": 7, "overediting": ')], None),
        "reask_fixes": ([text("I would say seven."), ok(success=7, overediting=7)], None),
        "out_of_range": ([ok(success=11, overediting=3), ok(success=12, overediting=3)], None),
        "refusal": ([refusal("I can't help with that.")], None),
        "moderation": (
            [http_error(400, "moderation_blocked", "Your request was rejected by the safety system.")],
            None,
        ),
        "rate_limited": (
            [
                http_error(429, "rate_limit_exceeded", "slow down", {"Retry-After": "1"}),
                ok(success=5, overediting=5),
            ],
            None,
        ),
    }
    inputs = []
    for seed, (name, (sc, pq)) in enumerate(cases.items()):
        inp = make_case(name, seed)
        server.add_case(
            name, inp.edited, viescore_sc=sc, viescore_pq=pq or [ok(naturalness=10, artifacts=10)]
        )
        inputs.append(inp)
    return inputs


def test_each_reply_kind_lands_in_its_status(judge_server, judge_settings, make_case):
    inputs = build_cases(judge_server, make_case)
    start = time.monotonic()
    records = {r.sample_id: r for r in VieScoreEdit().score(inputs)}
    elapsed = time.monotonic() - start

    good = records["good"]
    assert good.status == "ok"
    assert good.value == pytest.approx(math.sqrt(6 * 4))
    assert good.components == {"SC": 6.0, "PQ": 4.0}
    assert good.meta["judge_models"] == ["gpt-4.1-2025-04-14"]
    assert good.meta["passes"][0]["scores"]["sc"] == {"success": 8.0, "overediting": 6.0}
    assert good.meta["input_tokens"] == 200 and good.meta["output_tokens"] == 40
    assert good.meta["temperature"] == 0.0 and good.meta["seed"] == 1234

    for name in ("malformed", "out_of_range"):
        assert records[name].status == "parse_failed" and records[name].value is None, name
        assert records[name].meta["reasks"] == 1
    assert judge_server.served[("malformed", "viescore_sc")] == 2  # one bounded re-ask, then give up

    assert records["reask_fixes"].status == "ok"
    assert records["reask_fixes"].value == pytest.approx(math.sqrt(7 * 10))
    reask = [b for b in judge_server.requests if len(b["messages"]) == 3]
    assert any("could not be used" in b["messages"][2]["content"][0]["text"] for b in reask)

    assert records["refusal"].status == "refused" and records["refusal"].value is None
    assert records["refusal"].error.startswith("refusal")
    assert records["moderation"].status == "refused" and records["moderation"].error.startswith(
        "moderation_blocked"
    )
    assert judge_server.served[("moderation", "viescore_sc")] == 1  # a refusal is never retried

    limited = records["rate_limited"]
    assert limited.status == "ok" and limited.value == pytest.approx(math.sqrt(5 * 10))
    assert limited.meta["retry_waits_s"] == [1.0]
    sc_times = [
        t for case, schema, t in judge_server.arrivals if case == "rate_limited" and schema == "viescore_sc"
    ]
    assert sc_times[1] - sc_times[0] >= 0.95 and elapsed >= 0.95

    assert all(r.value is None for r in records.values() if r.status != "ok")


def test_server_errors_are_retried_with_backoff_then_recorded_as_error(
    judge_server, judge_settings, make_case
):
    inp = make_case("broken", 11)
    judge_server.add_case("broken", inp.edited, **{"*": [http_error(500, "server_error", "boom")]})
    (record,) = VieScoreEdit().score([inp])
    assert record.status == "error" and record.value is None
    assert "HTTP 500" in record.error and "after 3 attempts" in record.error
    assert judge_server.served[("broken", "viescore_sc")] == 3  # max_retries=2 -> three attempts
    assert len(record.meta["retry_waits_s"]) == 4  # two waits for each of the two prompts
    assert all(0.0 <= w <= 0.04 for w in record.meta["retry_waits_s"])  # base 0.01 s, doubling, full jitter


def test_a_second_run_makes_zero_calls(judge_server, judge_settings, make_case):
    inputs = build_cases(judge_server, make_case)
    first = VieScoreEdit().score(inputs)
    calls = len(judge_server.requests)
    assert calls > 0
    second = VieScoreEdit().score(inputs)
    assert len(judge_server.requests) == calls
    assert [(r.status, r.value) for r in first] == [(r.status, r.value) for r in second]
    assert all(r.meta["calls"] == 0 and r.meta["cached_calls"] > 0 for r in second)
    assert len(open_cache(judge_settings.resolved_cache_dir())) > 0


def test_budget_stops_paid_calls_cleanly(judge_server, judge_settings, make_case):
    # 100 prompt tokens per call at $10,000 per million tokens = $1 per call
    judge_config.configure(prices={"gpt-4.1-2025-04-14": (10_000.0, 0.0)}, max_judge_usd=2.5, concurrency=1)
    inputs = [make_case(f"b{i}", 20 + i) for i in range(3)]
    for inp in inputs:
        judge_server.add_case(inp.sample.id, inp.edited)  # default reply: ok() with no fields
        judge_server.scripts[(inp.sample.id, "viescore_sc")] = [ok(success=9, overediting=9)]
        judge_server.scripts[(inp.sample.id, "viescore_pq")] = [ok(naturalness=9, artifacts=9)]
    records = VieScoreEdit().score(inputs)
    assert len(judge_server.requests) == 3  # $1, $2, $3: the fourth call would pass the $2.50 budget
    assert records[0].status == "ok" and records[0].value == pytest.approx(9.0)
    assert [r.status for r in records[1:]] == ["error", "error"]
    assert all(r.error == "budget exhausted" and r.value is None for r in records[1:])
    summary = run_ledger().summary()
    assert summary["calls"] == 3 and summary["usd"] == pytest.approx(3.0)


def test_prompt_templates_are_fingerprinted_and_replaceable(judge_settings, tmp_path):
    ours = VieScoreEdit().fingerprint()
    official = tmp_path / "official"
    official.mkdir()
    (official / "viescore_sc.txt").write_text("Official SC prompt for {{instruction}}. Reply {{schema}}")
    judge_config.configure(template_dir=official)
    theirs = VieScoreEdit().fingerprint()
    assert ours != theirs
    assert theirs["config"]["templates"]["sc"]["origin"].endswith("viescore_sc.txt")
    assert theirs["config"]["templates"]["pq"] == ours["config"]["templates"]["pq"]


def test_api_key_is_sent_but_never_recorded(judge_server, judge_settings, make_case, monkeypatch):
    monkeypatch.setenv("IEVAL_TEST_KEY", "sk-secret-value")
    judge_config.configure(api_key_env="IEVAL_TEST_KEY")
    inp = make_case("keyed", 30)
    judge_server.add_case("keyed", inp.edited, viescore_sc=[http_error(401, "invalid_api_key", "bad key")])
    (record,) = VieScoreEdit().score([inp])
    assert record.status == "error"
    assert "sk-secret" not in repr(record) and "sk-secret" not in str(judge_config.current().public())
