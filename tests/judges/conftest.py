"""Fixtures for judge tests: the loopback judge server and settings pointed at it."""

from __future__ import annotations

import pytest
from judge_server import JudgeServer, case_input


@pytest.fixture
def judge_server():
    server = JudgeServer()
    yield server
    server.close()


@pytest.fixture
def judge_settings(judge_server, tmp_path):
    """Judges pointed at the loopback server, with a fresh call cache and ledger."""
    from harness.judges import config

    settings = config.configure(
        base_url=judge_server.base_url,
        model="test-judge",
        api_key_env="IEVAL_TEST_NO_KEY",
        cache_dir=tmp_path / "cache",
        max_retries=2,
        backoff_base_s=0.01,
        backoff_max_s=5.0,
        concurrency=4,
        max_judge_usd=None,
        passes=1,
        max_reask=1,
    )
    yield settings
    config.reset()


@pytest.fixture
def make_case():
    return case_input
