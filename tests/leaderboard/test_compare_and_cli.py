"""``ieval compare`` and the leaderboard CLI commands end to end (in-process, real files)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from leaderboard.compare import compare_runs
from leaderboard.rundir import load_run
from tests.leaderboard.test_board import _inflate
from tests.leaderboard.toy import ACCURACY, ToyEditor, identity, noisy, write_run

runner = CliRunner()


@pytest.fixture
def two_runs(tmp_path):
    a = write_run(
        tmp_path / "a", [ToyEditor("candidate", noisy(12)), ToyEditor("identity", identity)], run_id="a"
    )
    b = write_run(
        tmp_path / "b", [ToyEditor("candidate", noisy(2)), ToyEditor("identity", identity)], run_id="b"
    )
    return a, b


def test_compare_finds_the_better_run_and_no_difference_where_there_is_none(two_runs):
    rows = {(r.editor_a, r.metric): r for r in compare_runs(load_run(two_runs[0]), load_run(two_runs[1]))}
    better = rows[("candidate", ACCURACY)]
    assert better.n_shared == 12 and better.difference > 0 and better.ci_low > 0
    assert better.p_bootstrap < 0.05 and better.p_permutation < 0.05 and better.verdict == "B better"
    assert better.difference == pytest.approx(better.mean_b - better.mean_a)
    same = rows[("identity", ACCURACY)]
    assert same.difference == 0 and same.p_bootstrap == 1.0 and same.verdict == "no significant difference"


def test_compare_named_editors_across_runs(two_runs):
    rows = compare_runs(
        load_run(two_runs[0]), load_run(two_runs[1]), editor_a="identity", editor_b="candidate"
    )
    row = next(r for r in rows if r.metric == ACCURACY)
    assert (row.editor_a, row.editor_b, row.verdict) == ("identity", "candidate", "B better")


def test_cli_compare_prints_the_paired_tests(two_runs):
    result = runner.invoke(app, ["compare", str(two_runs[0]), str(two_runs[1])])
    assert result.exit_code == 0, result.output
    assert "B better" in result.output and "no significant difference" in result.output


def test_cli_submit_verify_add_build_report(run_dir, tmp_path):
    bundle = tmp_path / "sub.zip"
    result = runner.invoke(app, ["submit", "--run", str(run_dir), "--out", str(bundle)])
    assert result.exit_code == 0, result.output
    assert bundle.is_file() and "images" in result.output
    result = runner.invoke(app, ["verify", str(bundle), "--json"])
    assert result.exit_code == 0, result.output
    assert {c["provenance"] for c in json.loads(result.stdout)["cells"]} == {"re-scored"}
    board = tmp_path / "board"
    result = runner.invoke(app, ["leaderboard", "add", str(bundle), "--board", str(board)])
    assert result.exit_code == 0, result.output
    assert (
        "added run toy-run" in result.output
        and "24 records computed with random (smoke) weights" in result.output
    )
    result = runner.invoke(app, ["leaderboard", "build", "--board", str(board)])
    assert result.exit_code == 0 and (board / "leaderboard.md").is_file()
    result = runner.invoke(app, ["report", str(board), "--out", str(tmp_path / "site")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "site" / "index.html").is_file()


def test_cli_verify_reports_tampering_with_sample_ids(run_dir, tmp_path):
    _inflate(run_dir, "identity", ["toy-006"])
    bundle = tmp_path / "sub.zip"
    runner.invoke(app, ["submit", "--run", str(run_dir), "--out", str(bundle)])
    result = runner.invoke(app, ["verify", str(bundle)])
    assert result.exit_code == 1
    assert "mismatch" in result.stdout and "toy-006" in result.stdout
    assert "1 samples have reported values that differ from their images: toy-006" in result.output
    result = runner.invoke(app, ["leaderboard", "add", str(bundle), "--board", str(tmp_path / "board")])
    assert result.exit_code == 1 and "toy-006" in result.output


def test_cli_errors_are_one_line(tmp_path):
    (tmp_path / "bad.zip").write_bytes(b"PK-not-really")
    for args in (
        ["verify", str(tmp_path / "bad.zip")],
        ["submit", "--run", str(tmp_path), "--out", str(tmp_path / "x.zip")],
        ["report", str(tmp_path)],
        ["leaderboard", "build", "--board", str(tmp_path / "none")],
        ["compare", str(tmp_path), str(tmp_path)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        lines = [line for line in result.output.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.output)
