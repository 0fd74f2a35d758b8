"""kill -9 in the middle of a real `ieval run`, then the same command again."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time

from harness.records import EditRecord, RunRecord, read_jsonl

from .conftest import write_folder_suite


def _ieval(*args: str, env: dict[str, str]) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", *args]


def test_kill_9_then_rerun_redoes_nothing_and_matches_an_uninterrupted_run(tmp_path):
    suite = write_folder_suite(tmp_path / "data", n=240, size=96)
    env = dict(os.environ, IEVAL_CACHE_DIR=str(tmp_path / "cache"), PYTHONUNBUFFERED="1")
    args = ["run", "--suite", f"folder:{suite}", "--editors", "identity,oracle", "--batch-size", "8"]
    out = tmp_path / "interrupted"
    process = subprocess.Popen(_ieval(*args, "--out", str(out), env=env), env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    records = out / "records.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if records.exists() and records.stat().st_size > 200_000:
            break
        time.sleep(0.01)
    assert process.poll() is None, "the run finished before it could be killed; make the fixture larger"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_before = {r.key for r in read_jsonl(records, RunRecord)}
    assert 0 < len(done_before) < 240 * 2 * 7

    resumed = subprocess.run(_ieval(*args, "--out", str(out), env=env), env=env, capture_output=True,
                             text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert "already done" in resumed.stderr and "reused" in resumed.stderr

    # nothing finished was redone: every edit and every record key appears exactly once
    edit_keys = collections.Counter(e.key for e in read_jsonl(out / "edits.jsonl", EditRecord))
    record_keys = collections.Counter(r.key for r in read_jsonl(records, RunRecord))
    assert max(edit_keys.values()) == 1 and len(edit_keys) == 240 * 2
    assert max(record_keys.values()) == 1 and len(record_keys) == 240 * 2 * 7

    fresh = tmp_path / "uninterrupted"
    clean = subprocess.run(_ieval(*args, "--out", str(fresh), env=env), env=env, capture_output=True,
                           text=True, timeout=300)  # fmt: skip
    assert clean.returncode == 0, clean.stderr
    assert (out / "leaderboard.csv").read_text() == (fresh / "leaderboard.csv").read_text()
    assert (out / "leaderboard.md").read_text() == (fresh / "leaderboard.md").read_text()
