"""docs/LEADERBOARD.md "Adding a new editor, end to end", executed: the documented class,
registered through a real ``ieval.editors`` entry point, run, submitted, verified and added."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness import registry
from harness.cli.main import app
from harness.records import RunRecord, read_jsonl
from leaderboard.store import read_rows

DOC = Path(__file__).resolve().parents[2] / "docs" / "LEADERBOARD.md"
runner = CliRunner()


def documented(language: str, marker: str) -> str:
    blocks = re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), re.S)
    block = next(b for b in blocks if marker in b)
    return "\n".join(line[3:] if line.startswith("   ") else line for line in block.splitlines()) + "\n"


@pytest.fixture
def installed_editor(tmp_path):
    """The documented package, installed the way pip would expose it: a dist-info with entry points."""
    site = tmp_path / "site"
    (site / "my_editor").mkdir(parents=True)
    (site / "my_editor" / "__init__.py").write_text("")
    (site / "my_editor" / "editor.py").write_text(documented("python", "class BrighterEditor"))
    toml = documented("toml", "ieval.editors")
    name, target = re.search(r'^(\S+) = "([^"]+)"', toml, re.M).groups()
    dist = site / "my_editor-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: my-editor\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(f"[ieval.editors]\n{name} = {target}\n")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    registry.editors._plugins_loaded = False  # re-read entry points, as a fresh process would
    yield name
    sys.path.remove(str(site))
    registry.editors._entries.pop(name, None)
    for module in [m for m in sys.modules if m == "my_editor" or m.startswith("my_editor.")]:
        del sys.modules[module]
    importlib.invalidate_caches()


def test_new_editor_end_to_end(installed_editor, tmp_path, monkeypatch):
    monkeypatch.setenv("IEVAL_CACHE_DIR", str(tmp_path / "cache"))
    assert installed_editor == "brighter" and "brighter" in registry.editors.names()
    out, bundle, board = tmp_path / "runs" / "brighter", tmp_path / "brighter.zip", tmp_path / "board"
    steps = [
        ["run", "--suite", "synth-edit", "--editors", "brighter,identity", "--limit", "4", "--out", str(out)],
        ["submit", "--run", str(out), "--out", str(bundle)],
        ["verify", str(bundle)],
        ["leaderboard", "add", str(bundle), "--board", str(board)],
        ["report", str(board), "--out", str(tmp_path / "site")],
    ]
    for args in steps:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)
    records = list(read_jsonl(out / "records.jsonl", RunRecord))
    assert {r.editor for r in records} == {"brighter", "identity"}
    rows = [r for r in read_rows(board / "rows.jsonl") if r.editor == "brighter" and r.group == "all"]
    assert rows and all(r.provenance == "re-scored" and r.n == 4 and r.rank is not None for r in rows)
    assert "brighter" in (tmp_path / "site" / "index.html").read_text()
