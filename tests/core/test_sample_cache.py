from __future__ import annotations

import pytest

from harness.records import RunRecord, read_jsonl
from harness.runner import RunConfig, run_evaluation
from harness.sample_cache import prefetched
from harness.suites.synth_edit.suite import SynthEditSuite


def test_a_rerun_reads_stored_samples_instead_of_generating(tmp_path, monkeypatch):
    config = dict(
        suites=["synth-edit"], editors=["identity", "oracle"], limit=6, metrics=["synth_exact", "psnr"]
    )
    run_evaluation(RunConfig(out=tmp_path / "first", **config))

    def refuse(*args, **kwargs):
        raise AssertionError("samples were generated again")

    monkeypatch.setattr(SynthEditSuite, "samples", refuse)
    run_evaluation(RunConfig(out=tmp_path / "second", **config))
    first = sorted((r.key, r.value) for r in read_jsonl(tmp_path / "first" / "records.jsonl", RunRecord))
    second = sorted((r.key, r.value) for r in read_jsonl(tmp_path / "second" / "records.jsonl", RunRecord))
    assert first == second and len(first) == 6 * 2 * 2
    assert (tmp_path / "first" / "leaderboard.csv").read_text() == (
        tmp_path / "second" / "leaderboard.csv"
    ).read_text()


def test_a_different_limit_or_seed_is_a_different_sample_set(tmp_path):
    import sqlite3

    def stored_sets() -> int:
        with sqlite3.connect(tmp_path / "cache" / "cache.sqlite") as db:
            return db.execute("SELECT COUNT(*) FROM sample_sets").fetchone()[0]

    for index, (limit, seed) in enumerate([(3, 0), (4, 0), (3, 1), (3, 0)]):
        run_evaluation(RunConfig(suites=["synth-edit"], editors=["identity"], limit=limit, seed=seed,
                                 metrics=["psnr"], out=tmp_path / f"run{index}"))  # fmt: skip
        assert stored_sets() == min(index + 1, 3)


def test_prefetch_keeps_order_and_reraises_where_the_stream_failed():
    def stream():
        yield from range(5)
        raise OSError("source went away")

    seen = []
    with pytest.raises(OSError, match="source went away"):
        for item in prefetched(stream(), depth=2):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]
