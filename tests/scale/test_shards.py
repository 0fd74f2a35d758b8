"""Job-array scale-out: a shard killed with ``kill -9`` resumes without redoing work, and three
shards of synth-edit merge into exactly the single run's leaderboard."""

from __future__ import annotations

import collections
import os
import re
import signal
import subprocess
import sys
import time

from typer.testing import CliRunner

from harness.cli.main import app
from harness.records import EditRecord, RunRecord, read_jsonl
from harness.runner import RunConfig, run_evaluation

ARGS = ["run", "--suite", "synth-edit", "--limit", "30", "--editors", "identity,oracle"]
METRICS = 7  # synth-edit's default metrics
COUNTS = re.compile(r"edits: (\d+) computed, (\d+) reused; scores: (\d+) computed, (\d+) reused")


def _ieval(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", *args]


def _values(out):
    return {r.key: (r.status, r.value) for r in read_jsonl(out / "records.jsonl", RunRecord)}


def test_killed_shard_resumes_without_redoing_work_and_shards_merge_into_the_single_run(tmp_path):
    env = dict(os.environ, IEVAL_CACHE_DIR=str(tmp_path / "cache"), PYTHONUNBUFFERED="1")
    shard_args = [*ARGS, "--shard", "1/3", "--batch-size", "1", "--out", str(tmp_path / "shard1")]
    process = subprocess.Popen(_ieval(*shard_args), env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)  # fmt: skip
    records = tmp_path / "shard1" / "records.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if records.exists() and records.read_bytes().count(b"\n") >= 2 * METRICS:
            break
        time.sleep(0.005)
    assert process.poll() is None, "the shard finished before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    edits_before = {e.key for e in read_jsonl(tmp_path / "shard1" / "edits.jsonl", EditRecord)}
    records_before = _values(tmp_path / "shard1")
    assert 0 < len(records_before) < 10 * 2 * METRICS

    resumed = subprocess.run(_ieval(*shard_args), env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    edits_computed, _, _, _ = map(int, COUNTS.search(resumed.stderr).groups())
    # an edit finished before the kill is reused or not needed again; only the rest is computed
    assert edits_computed == 10 * 2 - len(edits_before)
    assert f"{len(records_before)} already done" in resumed.stderr
    edit_keys = collections.Counter(
        e.key for e in read_jsonl(tmp_path / "shard1" / "edits.jsonl", EditRecord)
    )
    record_keys = collections.Counter(r.key for r in read_jsonl(records, RunRecord))
    assert len(edit_keys) == 10 * 2 and max(edit_keys.values()) == 1
    assert len(record_keys) == 10 * 2 * METRICS and max(record_keys.values()) == 1
    resumed_values = _values(tmp_path / "shard1")
    assert {k: resumed_values[k] for k in records_before} == records_before

    base = dict(suites=["synth-edit"], limit=30, editors=["identity", "oracle"], use_cache=False)
    for k in (2, 3):
        run_evaluation(RunConfig(out=tmp_path / f"shard{k}", shard=(k, 3), **base))
    run_evaluation(RunConfig(out=tmp_path / "single", **base))
    shards = [str(tmp_path / f"shard{k}") for k in (1, 2, 3)]
    merged = CliRunner().invoke(app, ["merge", *shards, "--out", str(tmp_path / "merged")])
    assert merged.exit_code == 0, merged.output
    single_csv = (tmp_path / "single" / "leaderboard.csv").read_text()
    assert (tmp_path / "merged" / "leaderboard.csv").read_text() == single_csv
    assert _values(tmp_path / "merged") == _values(tmp_path / "single")
    assert len(_values(tmp_path / "single")) == 30 * 2 * METRICS
