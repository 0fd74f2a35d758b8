from __future__ import annotations

import csv
import os

import numpy as np
import pytest
from typer.testing import CliRunner

from harness import registry
from harness.cli.main import app
from harness.protocols import BaseEditor
from harness.records import EditRecord, RunRecord, read_jsonl
from harness.runner import RunConfig, RunError, run_evaluation
from harness.types import EditRequest, EditResult

from .conftest import write_folder_suite


class RaisesOnThird(BaseEditor):
    name = "raises-on-third"

    def __init__(self, **_):
        pass

    def edit_one(self, request: EditRequest) -> EditResult:
        if request.sample_id == "item-2":
            raise RuntimeError("boom on item-2")
        return EditResult(status="ok", image=request.source)


class RaisesOnWholeBatch:
    """An editor whose batch call raises whenever item-1 is in the batch."""

    name = "batch-raiser"
    capabilities = BaseEditor.capabilities

    def __init__(self, **_):
        pass

    def fingerprint(self):
        return {"name": self.name}

    def edit(self, requests):
        if any(r.sample_id == "item-1" for r in requests):
            raise ValueError("cannot do item-1")
        return [EditResult(status="ok", image=r.source) for r in requests]


registry.editors.register("raises-on-third", RaisesOnThird)
registry.editors.register("batch-raiser", RaisesOnWholeBatch)


def _cells(out):
    with open(out / "leaderboard.csv") as handle:
        return {(r["editor"], r["metric"], r["group"]): r for r in csv.DictReader(handle)}


def test_run_writes_records_manifest_and_leaderboard(tmp_path):
    suite = write_folder_suite(tmp_path / "data")
    out = tmp_path / "run"
    summary = run_evaluation(RunConfig(suites=[f"folder:{suite}"], editors=["identity", "oracle"], out=out))
    cells = _cells(out)
    assert float(cells[("oracle", "psnr", "all")]["mean"]) == 100.0
    assert float(cells[("identity", "psnr", "all")]["mean"]) < 20
    assert cells[("oracle", "psnr", "all")]["reference"] == "True"
    assert cells[("identity", "l1", "level=L1")]["n"] == "3"
    assert float(cells[("identity", "psnr", "all")]["coverage"]) == 1.0
    records = list(read_jsonl(out / "records.jsonl", RunRecord))
    assert len(records) == 6 * 2 * 7
    manifest = (out / "manifest.json").read_text()
    assert "size_policy" in manifest and "fingerprints" in manifest and "packages" in manifest
    assert summary.counters.edits_computed == 12
    # every image referenced is in the content-addressed store
    for edit in read_jsonl(out / "edits.jsonl", EditRecord):
        assert (out / "images" / edit.edited_hash[:2] / f"{edit.edited_hash}.png").exists()


def test_an_editor_raising_on_one_sample_yields_one_error_and_the_run_continues(tmp_path):
    suite = write_folder_suite(tmp_path / "data")
    for name in ("raises-on-third", "batch-raiser"):
        out = tmp_path / name
        run_evaluation(RunConfig(suites=[f"folder:{suite}"], editors=[name], out=out, metrics=["psnr"]))
        edits = {e.sample_id: e for e in read_jsonl(out / "edits.jsonl", EditRecord)}
        failed = [sid for sid, e in edits.items() if e.status == "error"]
        assert len(edits) == 6 and len(failed) == 1
        assert "boom on item-2" in edits["item-2"].error or "cannot do item-1" in edits["item-1"].error
        cell = _cells(out)[(name, "psnr", "all")]
        assert float(cell["coverage"]) == pytest.approx(5 / 6)
        assert float(cell["strict_mean"]) < float(cell["mean"])


def test_a_failed_edit_is_not_applicable_under_a_metric_its_sample_cannot_take(tmp_path):
    """synth_exact needs a target scene, which folder samples lack: item-2's failed edit counts
    against psnr (coverage 5/6) and is not_applicable under synth_exact, which gets no cell."""
    suite = write_folder_suite(tmp_path / "data")
    out = tmp_path / "run"
    run_evaluation(
        RunConfig(
            suites=[f"folder:{suite}"], editors=["raises-on-third"], out=out, metrics=["psnr", "synth_exact"]
        )
    )
    records = {(r.sample_id, r.metric): r for r in read_jsonl(out / "records.jsonl", RunRecord)}
    assert records[("item-2", "psnr")].status == "error"
    failed = records[("item-2", "synth_exact")]
    assert failed.status == "not_applicable" and "target_scene" in failed.error and "boom" in failed.error
    assert {records[(f"item-{i}", "synth_exact")].status for i in range(6)} == {"not_applicable"}
    cells = _cells(out)
    assert float(cells[("raises-on-third", "psnr", "all")]["coverage"]) == pytest.approx(5 / 6)
    assert not [key for key in cells if key[1] == "synth_exact"]


def test_the_leaderboard_ranks_by_a_metric_the_suite_can_take(tmp_path):
    """Asked for synth_exact first, a folder suite (no scenes) is ranked by psnr, with its rows."""
    suite = write_folder_suite(tmp_path / "data", n=3)
    out = tmp_path / "run"
    run_evaluation(
        RunConfig(suites=[f"folder:{suite}"], editors=["identity"], out=out, metrics=["synth_exact", "psnr"])
    )
    board = (out / "leaderboard.md").read_text(encoding="utf-8")
    assert "Ranked by strict `psnr`." in board
    assert any(line.startswith("| identity |") for line in board.splitlines())


def test_a_corrupt_image_is_one_error_record_naming_its_path(tmp_path):
    suite = write_folder_suite(tmp_path / "data", n=3)
    (suite / "s1.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    out = tmp_path / "run"
    run_evaluation(RunConfig(suites=[f"folder:{suite}"], editors=["identity"], out=out, metrics=["psnr"]))
    records = {r.sample_id: r for r in read_jsonl(out / "records.jsonl", RunRecord)}
    assert records["item-1"].status == "error"
    assert "s1.png" in records["item-1"].error
    assert records["item-0"].status == records["item-2"].status == "ok"


def test_unwritable_out_is_one_clear_error(tmp_path):
    suite = write_folder_suite(tmp_path / "data", n=1)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(RunError, match="cannot write to --out"):
        run_evaluation(RunConfig(suites=[f"folder:{suite}"], editors=["identity"], out=blocker / "run"))
    result = CliRunner().invoke(app, ["run", "--suite", f"folder:{suite}", "--editors", "identity",
                                      "--out", str(blocker / "run")])  # fmt: skip
    assert result.exit_code == 2
    assert "cannot write to --out" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--suite", "synth-edti"], "Did you mean 'synth-edit'"),
        (["--editors", "oracel"], "Did you mean 'oracle'"),
        (["--metrics", "pnsr"], "Did you mean 'psnr'"),
    ],
)
def test_unknown_names_exit_2_with_did_you_mean(tmp_path, args, expected):
    result = CliRunner().invoke(app, ["run", *args, "--out", str(tmp_path / "run")])
    assert result.exit_code == 2, result.output
    assert expected in result.output


def test_cached_edits_and_scores_are_reused_across_run_directories(tmp_path):
    suite = write_folder_suite(tmp_path / "data")
    config = dict(suites=[f"folder:{suite}"], editors=["raises-on-third"], metrics=["psnr", "ssim"])
    first = run_evaluation(RunConfig(out=tmp_path / "a", **config))
    second = run_evaluation(RunConfig(out=tmp_path / "b", **config))
    assert first.counters.edits_computed == 6 and first.counters.scores_computed == 10
    # ok edits come from the cache; the transient error is retried, never cached
    assert (second.counters.edits_reused, second.counters.edits_computed) == (5, 1)
    assert (second.counters.scores_reused, second.counters.scores_computed) == (10, 0)
    assert (tmp_path / "a" / "leaderboard.csv").read_text() == (
        tmp_path / "b" / "leaderboard.csv"
    ).read_text()


def test_ls_json_lists_components_with_availability():
    import json

    result = CliRunner().invoke(app, ["ls", "--json"])
    assert result.exit_code == 0
    listing = json.loads(result.stdout)
    assert set(listing) >= {"suites", "editors", "metrics"}
    editors = {e["name"]: e for e in listing["editors"]}
    assert editors["identity"]["available"] is True
    assert all({"name", "available", "reason"} <= set(e) for e in listing["suites"])


def test_shards_merge_into_the_single_run_leaderboard(tmp_path):
    suite = write_folder_suite(tmp_path / "data", n=7)
    base = dict(suites=[f"folder:{suite}"], editors=["identity", "oracle"], use_cache=False)
    run_evaluation(RunConfig(out=tmp_path / "single", **base))
    for k in (1, 2, 3):
        run_evaluation(RunConfig(out=tmp_path / f"shard{k}", shard=(k, 3), **base))
    result = CliRunner().invoke(app, ["merge", *(str(tmp_path / f"shard{k}") for k in (1, 2, 3)),
                                      "--out", str(tmp_path / "merged")])  # fmt: skip
    assert result.exit_code == 0, result.output
    single = (tmp_path / "single" / "leaderboard.csv").read_text()
    assert (tmp_path / "merged" / "leaderboard.csv").read_text() == single
    assert os.path.getsize(tmp_path / "shard1" / "records.jsonl") < os.path.getsize(
        tmp_path / "single" / "records.jsonl"
    )


def test_identity_floor_is_not_perfect_on_random_content(tmp_path):
    suite = write_folder_suite(tmp_path / "data", n=2)
    run_evaluation(RunConfig(suites=[f"folder:{suite}"], editors=["identity"], out=tmp_path / "r",
                             metrics=["edit_region_psnr"]))  # fmt: skip
    value = float(_cells(tmp_path / "r")[("identity", "edit_region_psnr", "all")]["mean"])
    assert value < 10 and np.isfinite(value)


class BreaksAfterTwo:
    name = "breaks-after-two"
    version = "1"
    splits = ("test",)
    default_metrics = ("psnr",)

    def __init__(self, **_):
        pass

    def fingerprint(self):
        return {"name": self.name}

    def samples(self, split, limit=None):
        from harness.types import Sample

        image = np.zeros((16, 16, 3), np.uint8)
        yield Sample(id="a", source=image, instruction="x", target=image)
        yield Sample(id="b", source=image, instruction="x", target=image)
        raise OSError("disk went away")


registry.suites.register("breaks-after-two", BreaksAfterTwo)


def test_a_loader_that_raises_ends_its_suite_with_a_recorded_error(tmp_path):
    out = tmp_path / "run"
    run_evaluation(RunConfig(suites=["breaks-after-two"], editors=["identity"], out=out))
    records = {r.sample_id: r for r in read_jsonl(out / "records.jsonl", RunRecord)}
    assert records["a"].status == records["b"].status == "ok"
    broken = [r for sid, r in records.items() if sid not in ("a", "b")]
    assert len(broken) == 1 and broken[0].status == "error" and "disk went away" in broken[0].error


class FailsDeterministically(RaisesOnThird):
    name = "fails-deterministically"
    failures_are_final = True


registry.editors.register("fails-deterministically", FailsDeterministically)


def test_editors_with_final_failures_have_their_errors_cached(tmp_path):
    suite = write_folder_suite(tmp_path / "data")
    config = dict(suites=[f"folder:{suite}"], editors=["fails-deterministically"], metrics=["psnr"])
    run_evaluation(RunConfig(out=tmp_path / "a", **config))
    second = run_evaluation(RunConfig(out=tmp_path / "b", **config))
    assert (second.counters.edits_reused, second.counters.edits_computed) == (6, 0)
    errors = [e for e in read_jsonl(tmp_path / "b" / "edits.jsonl", EditRecord) if e.status == "error"]
    assert len(errors) == 1 and "boom on item-2" in errors[0].error and errors[0].cached


class RefusesOdd(BaseEditor):
    name = "refuses-odd"

    def __init__(self, **_):
        pass

    def edit_one(self, request: EditRequest) -> EditResult:
        if int(request.sample_id.split("-")[1]) % 2:
            return EditResult(status="refused", refusal_code="content_policy", error="refused by provider")
        return EditResult(status="ok", image=request.source)


registry.editors.register("refuses-odd", RefusesOdd)


def test_leaderboard_counts_refusals_and_failures_per_editor(tmp_path):
    suite = write_folder_suite(tmp_path / "data")
    out = tmp_path / "run"
    run_evaluation(RunConfig(suites=[f"folder:{suite}"], editors=["refuses-odd", "identity"], out=out,
                             metrics=["psnr"]))  # fmt: skip
    cells = _cells(out)
    refusing = cells[("refuses-odd", "psnr", "all")]
    assert (refusing["refused"], refusing["failed"], refusing["coverage"]) == ("3", "3", "0.500000")
    assert cells[("identity", "psnr", "all")]["refused"] == "0"
    markdown = (out / "leaderboard.md").read_text()
    assert "| refuses-odd | 0.500 | 3 |" in markdown


def test_from_dir_scores_outputs_made_elsewhere_and_suite_export_cli(tmp_path):
    import shutil

    from PIL import Image

    exported = tmp_path / "exported"
    result = CliRunner().invoke(app, ["suite", "export", "synth-edit", "--split", "test", "--n", "3",
                                      "--out", str(exported)])  # fmt: skip
    assert result.exit_code == 0, result.output
    outputs = tmp_path / "outputs"
    for path in (exported / "target").glob("*.png"):  # a perfect editor's outputs, named by sample id
        sample_id = path.stem.replace("__", "/")
        (outputs / sample_id).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, outputs / f"{sample_id}.png")
    missing = sorted(outputs.rglob("*.png"))[0]
    missing.unlink()
    Image.new("RGB", (8, 8)).save(tmp_path / "unused.png")
    out = tmp_path / "run"
    run_evaluation(RunConfig(suites=["synth-edit"], editors=[f"from-dir:{outputs}"], limit=3, out=out,
                             metrics=["synth_exact"]))  # fmt: skip
    records = list(read_jsonl(out / "records.jsonl", RunRecord))
    assert sorted(r.status for r in records) == ["ok", "ok", "skipped"]
    assert all(r.value == 1.0 for r in records if r.status == "ok")


def test_a_suite_ranks_by_the_declared_metric_when_it_has_values():
    from harness.aggregate import Cell, ranking_metric

    def cell(metric, mean):
        return Cell("photo-ops", "e", metric, "all", 6, 1.0, mean, mean, mean, mean, True, False)

    cells = [cell("psnr", 30.0), cell("synth_exact", float("nan")), cell("l1", 0.1)]
    assert ranking_metric(cells, "psnr") == "psnr"
    assert ranking_metric(cells, "synth_exact") == "l1"  # declared, but no value here: first scored
    assert ranking_metric(cells, None) == "l1"
    assert ranking_metric([cell("ssim", float("nan")), cell("dino", float("nan"))], "clip") == "dino"


def test_the_console_summary_and_leaderboard_md_rank_by_the_same_metric(tmp_path, monkeypatch):
    import io

    from rich.console import Console

    from harness import aggregate
    from harness.aggregate import Cell
    from harness.cli import core_commands

    def cell(editor, metric, mean, higher_is_better):
        return Cell("s", editor, metric, "all", 6, 1.0, mean, mean, mean, mean, higher_is_better, False)

    # psnr ranks b first; l1 (lower is better, and first by name) would rank a first
    cells = [cell("a", "psnr", 30.0, True), cell("b", "psnr", 40.0, True),
             cell("a", "l1", 0.1, False), cell("b", "l1", 0.2, False)]  # fmt: skip
    buffer = io.StringIO()
    monkeypatch.setattr(core_commands, "stdout", Console(file=buffer, width=200))
    core_commands.print_summary(cells, tmp_path, {"s": "psnr"})
    console_rows = [
        line.split()[1] for line in buffer.getvalue().splitlines() if line.split()[1:2] in (["a"], ["b"])
    ]
    aggregate.write_markdown(cells, tmp_path / "leaderboard.md", {"s": "psnr"})
    markdown = (tmp_path / "leaderboard.md").read_text()
    markdown_rows = [
        line.split("|")[1].strip()
        for line in markdown.splitlines()
        if line.startswith("| a") or line.startswith("| b")
    ]
    assert console_rows == markdown_rows == ["b", "a"]
    assert "Ranked by strict `psnr`" in markdown
