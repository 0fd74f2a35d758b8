"""`--data-cache`: SFT training plans built once, read back by later runs on the same data."""

import json
import pickle

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from imageedit_r1.training.data_cache import DataCacheError, load_or_build

SETTINGS = {"split": "train", "synth": 8, "photo": 0, "photo_repeat": 3, "subjects": "handles"}


def test_plans_are_built_once_then_read_back(tmp_path):
    builds = []

    def build():
        builds.append(1)
        return ["plan a", "plan b"], ["synth-edit/train/00003: no plan"]

    path = tmp_path / "cache" / "plans.pkl"
    assert load_or_build(path, SETTINGS, build) == (
        ["plan a", "plan b"],
        ["synth-edit/train/00003: no plan"],
        False,
    )
    assert load_or_build(path, SETTINGS, build) == (
        ["plan a", "plan b"],
        ["synth-edit/train/00003: no plan"],
        True,
    )
    assert len(builds) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == ["plans.pkl"]  # no partial file left
    assert load_or_build(None, SETTINGS, build)[2] is False and len(builds) == 2  # no cache: built
    with pytest.raises(DataCacheError, match=r"other settings \(photo, synth\); give another --data-cache"):
        load_or_build(path, {**SETTINGS, "synth": 9, "photo": 1}, build)
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle")
    with pytest.raises(DataCacheError, match="is not a training-data cache"):
        load_or_build(tmp_path / "junk.pkl", SETTINGS, build)
    (tmp_path / "list.pkl").write_bytes(pickle.dumps([1, 2]))
    with pytest.raises(DataCacheError, match="is not a training-data cache"):
        load_or_build(tmp_path / "list.pkl", SETTINGS, build)


def sft(out, cache, *extra):
    command = ["train", "sft", "--out", str(out), "--model-size", "micro", "--synth", "8", "--photo", "0"]
    command += ["--max-steps", "3", "--batch-size", "4", "--workers", "1", "--data-cache", str(cache), *extra]
    return CliRunner().invoke(app, command)


def test_a_second_run_reads_the_plans_and_trains_the_same(tmp_path, monkeypatch):
    cache = tmp_path / "plans.pkl"
    first = sft(tmp_path / "a", cache)
    assert first.exit_code == 0, first.output
    assert "training plans (" in first.output and "read from" not in first.output

    import imageedit_r1.training.corpus as corpus

    def no_building(*args, **kwargs):
        raise AssertionError("the plans were built again")

    monkeypatch.setattr(corpus, "graph_examples", no_building)
    second = sft(tmp_path / "b", cache)
    assert second.exit_code == 0, second.output
    assert f"read from {cache})" in second.output

    def losses(run):
        rows = (run / "metrics.jsonl").read_text().splitlines()
        return [json.loads(row)["loss"] for row in rows if '"loss"' in row]

    assert losses(tmp_path / "b") == losses(tmp_path / "a")
    # other data settings into the same cache: one line, exit 2, nothing trained
    other = sft(tmp_path / "c", cache, "--subjects", "phrases")
    assert other.exit_code == 2
    assert other.output.strip().splitlines() == [
        f"error: {cache} holds plans built with other settings (subjects); give another --data-cache or remove it"
    ]
    assert not (tmp_path / "c" / "final").exists()
