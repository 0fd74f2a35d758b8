"""photo-ops and a fixture benchmark through the real runner: exact oracle, skipped missing data,
invalid samples recorded while the rest run, official aggregation group."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness.runner import RunConfig, run_evaluation
from tests.suites.benchmark_fixtures import image, write_json, write_png


def _cell(summary, suite: str, editor: str, metric: str, group: str = "all"):  # noqa: ANN001, ANN202
    return next(
        c for c in summary.cells if (c.suite, c.editor, c.metric, c.group) == (suite, editor, metric, group)
    )


def test_photo_ops_runs_with_missing_benchmarks_skipped(data_dir: Path, tmp_path: Path) -> None:
    config = RunConfig(
        suites=["photo-ops", "gedit-bench", "magicbrush"],
        editors=["identity", "oracle"],
        limit=12,
        out=tmp_path / "run",
        cache_dir=tmp_path / "cache",
    )
    summary = run_evaluation(config)
    assert {c.suite for c in summary.cells} == {"photo-ops"}
    oracle, identity = (
        _cell(summary, "photo-ops", "oracle", "psnr"),
        _cell(summary, "photo-ops", "identity", "psnr"),
    )
    assert oracle.mean == 100.0 and oracle.n == 12 and oracle.coverage == 1.0
    assert identity.mean < 30.0
    assert _cell(summary, "photo-ops", "oracle", "l1", "level=L3").mean == 0.0
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert "gedit-bench" in json.dumps(manifest) and "ieval data fetch gedit-bench" in json.dumps(manifest)


def test_pie_bench_fixture_through_runner_records_invalid_sample(data_dir: Path, tmp_path: Path) -> None:
    root = data_dir / "pie-bench"
    write_png(root / "annotation_images" / "a.png", image(1, (512, 512)))
    write_png(root / "annotation_images" / "small.png", image(2, (64, 64)))
    entry = {
        "image_path": "a.png",
        "original_prompt": "a cat",
        "editing_prompt": "a [dog]",
        "editing_instruction": "make it a dog",
        "editing_type_id": "1",
        "blended_word": "cat dog",
        "mask": [512 * 200, 512 * 50],
    }
    write_json(
        root / "mapping_file.json", {"000": entry, "001": dict(entry, image_path="small.png"), "002": entry}
    )
    summary = run_evaluation(
        RunConfig(
            suites=["pie-bench"],
            editors=["identity"],
            metrics=["preserve_psnr"],
            out=tmp_path / "run",
            cache_dir=tmp_path / "cache",
        )
    )
    cell = _cell(summary, "pie-bench", "identity", "preserve_psnr")
    assert cell.n == 3 and cell.coverage == 2 / 3 and cell.mean == 100.0
    lines = [json.loads(line) for line in (tmp_path / "run" / "records.jsonl").read_text().splitlines()]
    failed = [r for r in lines if r["status"] != "ok"]
    assert len(failed) == 1 and failed[0]["sample_id"] == "001"
    assert "the PIE-Bench protocol is 512x512" in failed[0]["error"]
    assert np.isclose(summary.counters.invalid_samples, 1)
