"""A learned metric run with --allow-random-weights is tagged smoke and never reaches a leaderboard."""

from __future__ import annotations

import csv

from typer.testing import CliRunner

from harness.cli.main import app
from harness.records import RunRecord, read_jsonl


def test_random_weight_scores_are_smoke_and_kept_off_the_leaderboard(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "empty-hf-home"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    out = tmp_path / "run"
    args = ["run", "--suite", "synth-edit", "--limit", "2", "--editors", "identity",
            "--metrics", "lpips,psnr", "--out", str(out)]  # fmt: skip
    without = CliRunner().invoke(app, args)
    assert without.exit_code == 0, without.output
    assert "skipped metric lpips" in without.output
    result = CliRunner().invoke(app, [*args[:-1], str(tmp_path / "smoke"), "--allow-random-weights"])
    assert result.exit_code == 0, result.output
    records = list(read_jsonl(tmp_path / "smoke" / "records.jsonl", RunRecord))
    lpips = [r for r in records if r.metric == "lpips"]
    assert len(lpips) == 2 and all(r.smoke and r.status == "ok" for r in lpips)
    with open(tmp_path / "smoke" / "leaderboard.csv") as handle:
        metrics = {row["metric"] for row in csv.DictReader(handle)}
    assert metrics == {"psnr"}
    assert (
        "2 records computed with random weights (smoke) are excluded"
        in (tmp_path / "smoke" / "leaderboard.md").read_text()
    )
