"""Records a rerun reads back are written whole or not at all."""

import json
import os

import pytest

from harness.atomic import write_json, write_text


def test_write_json_writes_the_whole_value_and_leaves_no_partial(tmp_path):
    path = write_json(tmp_path / "summary.json", {"b": 1, "a": [1, 2]}, sort_keys=True)
    assert path.read_text(encoding="utf-8") == '{\n "a": [\n  1,\n  2\n ],\n "b": 1\n}\n'
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    write_json(path, {"step": 3}, indent=None)
    assert path.read_text() == '{"step": 3}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.json"]


def test_a_value_that_cannot_be_written_keeps_the_old_file(tmp_path):
    path = write_json(tmp_path / "results.json", {"stages": {"sft": 1}})
    with pytest.raises(TypeError):
        write_json(path, {"stages": {"sft": object()}})
    assert json.loads(path.read_text()) == {"stages": {"sft": 1}}
    assert (
        write_json(path, {"when": object()}, default=lambda _: "later").read_text()
        == '{\n "when": "later"\n}\n'
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.json"]


def test_a_failed_rename_keeps_the_old_file_and_removes_the_partial(tmp_path, monkeypatch):
    path = write_text(tmp_path / "card.json", "old\n")

    def refuse(source, target):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="disk gone"):
        write_text(path, "new\n")
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["card.json"]
