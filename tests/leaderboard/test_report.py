"""The HTML report without a browser: content, escaping, and only the needed images copied."""

from __future__ import annotations

import json
import re

import pytest

from leaderboard.bundle import pack_bundle
from leaderboard.report import write_report
from leaderboard.rundir import RunDirError
from leaderboard.store import Board
from tests.leaderboard.toy import ToyEditor, fails_every, identity, noisy, write_run

HOSTILE_EDITOR = "<script>window.__pwned=1</script>"
HOSTILE_INSTRUCTION = '<img src=x onerror="window.__pwned=1"> '


def hostile_run(root):
    editors = [
        ToyEditor("good", noisy(3), trace=True),
        ToyEditor(HOSTILE_EDITOR, fails_every(4, "refused", identity)),
    ]
    return write_run(root, editors, instruction_prefix=HOSTILE_INSTRUCTION, count=8)


def gallery_data(html: str) -> list[dict]:
    match = re.search(r'<script type="application/json" id="gallery-data">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def test_report_has_ranking_breakdowns_plots_and_gallery(run_dir, tmp_path):
    index = write_report(run_dir, tmp_path / "site")
    html = index.read_text()
    ranking = html.split('<section id="plots">')[0]
    assert re.findall(r'<tr class="rank-row[^"]*" data-editor="([^"]+)"', ranking)[:5] == [
        "good", "good-twin", "identity", "flaky", "oracle",
    ]  # fmt: skip
    assert "random-weights" not in html  # smoke never shown
    assert html.count("<svg") == 2  # score vs cost, score by level for the primary metric
    assert 'data-by="level"' in html and 'data-by="category"' in html
    items = gallery_data(html)
    assert len(items) == 5 * 12
    failed = [i for i in items if i["failed"]]
    assert len(failed) == 4 and {i["editor"] for i in failed} == {"flaky"}
    assert items[0]["failed"]  # failures come first
    traced = next(i for i in items if i["editor"] == "good")
    assert [s["tool"] for s in traced["trace"]] == ["segment", "recolor"]
    assert all(s["image"].startswith("img/") for s in traced["trace"])


def test_only_the_needed_images_are_copied(run_dir, tmp_path):
    index = write_report(run_dir, tmp_path / "site")
    items = gallery_data(index.read_text())
    referenced = {i[k] for i in items for k in ("source", "edited", "target") if i[k]}
    referenced |= {s["image"] for i in items for s in i["trace"] if s["image"]}
    copied = {f"img/{p.name}" for p in (tmp_path / "site" / "img").iterdir()}
    assert copied == referenced
    assert len(list((run_dir / "images").glob("*/*.png"))) > len(copied)  # smoke outputs and masks stay out


def test_hostile_names_and_instructions_are_text(tmp_path):
    index = write_report(hostile_run(tmp_path / "run"), tmp_path / "site")
    html = index.read_text()
    assert "<script>window.__pwned" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html  # ranking cell, escaped
    items = gallery_data(html)  # and the JSON still round-trips to the exact text
    assert {i["editor"] for i in items} == {"good", HOSTILE_EDITOR}
    assert items[0]["instruction"].startswith(HOSTILE_INSTRUCTION)


def test_report_from_a_board(run_dir, tmp_path):
    pack_bundle(run_dir, tmp_path / "b.zip")
    Board(tmp_path / "board").add(tmp_path / "b.zip")
    index = write_report(tmp_path / "board", tmp_path / "site")
    html = index.read_text()
    assert 'class="prov-re-scored"' in html
    items = gallery_data(html)
    assert all(i["source"] and i["target"] for i in items)  # re-created by the board
    assert all((tmp_path / "site" / i["source"]).is_file() for i in items)


def test_report_on_a_wrong_path_is_one_line(tmp_path):
    with pytest.raises(RunDirError, match="neither a run directory"):
        write_report(tmp_path, tmp_path / "site")


def test_large_images_are_shrunk_for_display(tmp_path):
    import numpy as np
    from PIL import Image

    def big(sample, i):
        return np.kron(sample.target, np.ones((40, 40, 1), dtype=np.uint8))  # 960 x 1280

    run = write_run(tmp_path / "run", [ToyEditor("upscaler", big)], count=2)
    index = write_report(run, tmp_path / "site")
    items = gallery_data(index.read_text())
    with Image.open(tmp_path / "site" / items[0]["edited"]) as shown:
        assert shown.size == (512, 384)
    with Image.open(tmp_path / "site" / items[0]["source"]) as shown:
        assert shown.size == (32, 24)  # small images are copied as they are


def test_samples_the_suite_could_not_load_show_up_as_failures(run_dir, tmp_path):
    from harness.records import JsonlLog, RunRecord, SampleRecord

    with JsonlLog(run_dir / "samples.jsonl") as log:
        log.append(SampleRecord("lb-toy", "test", "broken-1", "", status="invalid", error="bad image bytes"))
    with JsonlLog(run_dir / "records.jsonl") as log:
        log.append(
            RunRecord(
                "lb-toy",
                "1",
                "test",
                "broken-1",
                "",
                "",
                "good",
                "fp-good",
                "lb-toy-accuracy",
                "x",
                True,
                0.0,
                status="error",
                edit_status="error",
                score_status="error",
                error="invalid sample: bad image bytes",
            )  # fmt: skip
        )
    items = gallery_data(write_report(run_dir, tmp_path / "site").read_text())
    broken = [i for i in items if i["sample"] == "broken-1"]
    assert (
        len(broken) == 1 and broken[0]["failed"] and broken[0]["error"] == "invalid sample: bad image bytes"
    )


def test_cost_axis_starts_at_zero_and_says_when_nothing_cost_anything():
    from leaderboard.report.plots import Point, scatter_svg

    free = scatter_svg([Point("a", 0.0, 0.5), Point("b", 0.0, 0.7)], title="t", x_label="x", y_label="y")
    assert "no costs recorded" in free and ">-0." not in free
    paid = scatter_svg([Point("a", 0.02, 0.5), Point("b", 0.05, 0.7)], title="t", x_label="x", y_label="y")
    assert "no costs recorded" not in paid and 'text-anchor="middle">0</text>' in paid


def test_a_declared_ranking_metric_with_no_rows_in_a_suite_is_not_used():
    """A run asked for synth_exact first over photo-ops (not applicable there): the page ranks that
    suite by a metric it has rows for."""
    from types import SimpleNamespace

    from leaderboard.cells import BoardTable
    from leaderboard.report.site import primary_metrics

    rows = [
        SimpleNamespace(suite="photo-ops", metric="psnr", value=30.0),
        SimpleNamespace(suite="synth-edit", metric="synth_exact", value=0.5),
        SimpleNamespace(suite="synth-edit", metric="psnr", value=28.0),
        SimpleNamespace(suite="folder", metric="ssim", value=None),  # no value anywhere
        SimpleNamespace(suite="folder", metric="l1", value=None),
    ]
    run = SimpleNamespace(
        manifest={"primary_metrics": {"photo-ops": "synth_exact", "synth-edit": "synth_exact"}}
    )
    assert primary_metrics([run], BoardTable(rows, {})) == {
        "photo-ops": "psnr",
        "synth-edit": "synth_exact",
        "folder": "l1",
    }
