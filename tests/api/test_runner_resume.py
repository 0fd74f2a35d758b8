"""Kill a real ``ieval run`` against the mock mid-way, re-run it: no finished paid edit is called
again (the runner's edit cache), and a third run on a fresh directory calls nothing at all."""

from __future__ import annotations

import collections
import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from baselines.api.mock import MockServer
from baselines.api.secrets import find_string_in_tree
from harness.images import ImageStore, encode_png
from harness.records import EditRecord, SampleRecord, read_jsonl
from tests.api.conftest import canary_key

N = 24


def _run(out: Path, env: dict[str, str]) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", "run", "--suite", "synth-edit", "--limit", str(N),
            "--editors", "openai/gpt-image-1", "--batch-size", "4", "--out", str(out)]  # fmt: skip


def _served_key(out: Path, edit: EditRecord, samples: dict[str, SampleRecord]) -> str:
    """The mock's key for the first call of ``edit``'s sample: model, prompt, sha256 of the PNG sent."""
    sample = samples[edit.sample_id]
    source = ImageStore(out / "images").get(sample.source_hash)
    prompt = sample.turns[0] if sample.turns else sample.instruction
    return f"openai|gpt-image-1|{prompt}|{hashlib.sha256(encode_png(source)).hexdigest()}"


def test_interrupted_run_never_repeats_a_finished_paid_edit(tmp_path: Path) -> None:
    key = canary_key("openai")
    with MockServer(latency_s=0.3) as server:
        env = dict(os.environ, OPENAI_API_KEY=key, IEVAL_OPENAI_BASE_URL=server.base_url("openai"),
                   IEVAL_CACHE_DIR=str(tmp_path / "cache"), PYTHONUNBUFFERED="1")  # fmt: skip
        out = tmp_path / "run"
        first = subprocess.Popen(
            _run(out, env), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while server.stats()["edits_served"] < 8 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert first.poll() is None, "the run finished before it could be interrupted"
        os.kill(first.pid, signal.SIGKILL)
        first.wait()

        samples = {s.sample_id: s for s in read_jsonl(out / "samples.jsonl", SampleRecord)}
        finished = [e for e in read_jsonl(out / "edits.jsonl", EditRecord) if e.status == "ok"]
        assert 0 < len(finished) < N
        finished_keys = {_served_key(out, e, samples) for e in finished}
        served_before = collections.Counter(server.state.served)

        second = subprocess.run(_run(out, env), env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        served_again = collections.Counter(server.state.served) - served_before
        assert not finished_keys & set(served_again), "a finished edit was paid for twice"
        edits = collections.Counter(e.sample_id for e in read_jsonl(out / "edits.jsonl", EditRecord))
        assert len(edits) == N and max(edits.values()) == 1
        calls_after_two_runs = server.stats()["total_calls"]

        fresh = tmp_path / "fresh"
        third = subprocess.run(_run(fresh, env), env=env, capture_output=True, text=True, timeout=300)
        assert third.returncode == 0, third.stderr
        assert server.stats()["total_calls"] == calls_after_two_runs  # everything came from the cache
    for directory in (out, fresh, tmp_path / "cache"):
        assert find_string_in_tree(directory, key) == []
