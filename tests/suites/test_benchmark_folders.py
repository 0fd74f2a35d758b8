"""Loaders over JSON + image folders (ImgEdit, PIE-Bench, KRIS-Bench, RISEBench) and the pair tables
(PSR, RealEdit, UltraEdit), from fixtures in the upstream layout."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from harness.data.fetch import finish
from harness.suites.benchmarks.imgedit import ImgEditSuite
from harness.suites.benchmarks.pairs import (
    HQEditSuite,
    PSRSuite,
    RealEditSuite,
    UltraEditSuite,
    seeded_positions,
)
from harness.suites.benchmarks.pie_bench import PieBenchSuite, decode_rle, plain_prompt
from harness.suites.benchmarks.reasoning import KrisBenchSuite, RiseBenchSuite
from harness.types import InvalidSample
from tests.suites.benchmark_fixtures import (
    image,
    image_cell,
    mask_png,
    png,
    write_json,
    write_png,
    write_table,
)


def test_imgedit_basic_types_alias_and_missing_image(data_dir: Path) -> None:
    root = data_dir / "imgedit"
    images = root / "Benchmark" / "singleturn"  # unpacked from Benchmark.tar
    write_png(images / "animal" / "a.jpg", image(1))
    write_png(images / "style" / "b.jpg", image(2))
    write_png(images / "daily object" / "d.jpg", image(4))
    write_json(
        root / "basic_edit.json",  # copied from the GitHub repository
        {
            "1": {"id": "animal/a.jpg", "prompt": "add a bird", "edit_type": "add"},
            "2": {"id": "style/b.jpg", "prompt": "combine edits", "edit_type": "compose"},
            "3": {"id": "daily object/d.jpg", "prompt": "make it blue", "edit_type": "alter"},
            "4": {"id": "missing/c.jpg", "prompt": "remove it", "edit_type": "remove"},
        },
    )
    write_png(root / "Benchmark" / "UGE" / "u1.png", image(3))
    write_json(root / "UGE_edit.json", {"u1": {"id": "u1.png", "prompt": "edit the thing"}})
    items = list(ImgEditSuite().samples("basic"))
    assert [i.category for i in items] == ["add", "compose", "adjust", "remove"]
    assert np.array_equal(items[0].source, image(1)) and items[0].instruction == "add a bird"
    assert np.array_equal(items[2].source, image(4)) and items[2].metadata["edit_type"] == "alter"
    assert (
        isinstance(items[3], InvalidSample)
        and "cannot read" in items[3].reason
        and "missing/c.jpg" in items[3].reason
    )
    (uge,) = ImgEditSuite().samples("uge")
    assert uge.category == "uge" and uge.id == "uge-u1" and np.array_equal(uge.source, image(3))


def test_pie_rle_decoding_is_start_length_row_major() -> None:
    mask = decode_rle([0, 3, 512 * 2 + 5, 2, 512 * 512 - 1, 10])
    assert mask.shape == (512, 512) and mask.sum() == 3 + 2 + 1
    assert mask[0, :3].all() and not mask[0, 3]
    assert mask[2, 5] and mask[2, 6] and not mask[2, 7]
    assert mask[511, 511]
    assert plain_prompt("a [red] cat on  a [sofa]") == "a red cat on a sofa"


def test_pie_bench_samples_masks_and_protocol_size(data_dir: Path) -> None:
    root = data_dir / "pie-bench"
    write_png(root / "annotation_images" / "0_random_140" / "000.jpg", image(1, (512, 512)))
    write_png(root / "annotation_images" / "1_change_object_80" / "100.jpg", image(2, (256, 256)))
    entry = {
        "image_path": "0_random_140/000.jpg",
        "original_prompt": "a cat sitting on a wooden chair",
        "editing_prompt": "a [dog] sitting on a wooden chair",
        "editing_instruction": "Make the cat a dog",
        "editing_type_id": "0",
        "blended_word": "cat dog",
        "mask": [512 * 100 + 100, 50, 512 * 101 + 100, 50],
    }
    bad = dict(entry, image_path="1_change_object_80/100.jpg", editing_type_id="1")
    write_json(root / "mapping_file.json", {"000000000000": entry, "100000000000": bad})
    good, small = list(PieBenchSuite().samples("test"))
    assert (
        good.category == "random" and good.mask.sum() == 100 and good.mask[100, 100] and not good.mask[0, 0]
    )
    assert good.captions == {
        "source": "a cat sitting on a wooden chair",
        "output": "a dog sitting on a wooden chair",
    }
    assert isinstance(small, InvalidSample) and small.category == "change_object"
    assert "256x256; the PIE-Bench protocol is 512x512" in small.reason


def test_kris_bench_tasks_knowledge_types_and_multi_image(data_dir: Path) -> None:
    root = data_dir / "kris-bench" / "KRIS_Bench"
    write_png(root / "color_change" / "1.jpg", image(1))
    write_png(root / "color_change" / "1_gt.jpg", image(4))
    write_json(
        root / "color_change" / "annotation.json",
        {"1": {"ori_img": "1.jpg", "gt_img": "1_gt.jpg", "ins_en": "paint it blue"}},
    )
    write_png(root / "multi-element_composition" / "a.jpg", image(2))
    write_png(root / "multi-element_composition" / "b.jpg", image(3))
    write_json(
        root / "multi-element_composition" / "annotation.json",
        {
            "5": {
                "ori_img": ["a.jpg", "b.jpg"],
                "ins_en": "put the cup on the table",
                "explain_en": "cups rest on tables",
            }
        },
    )
    assert KrisBenchSuite.unavailable_reason() is None
    color, multi = sorted(KrisBenchSuite().samples("test"), key=lambda s: s.id)
    assert color.metadata["knowledge_type"] == "factual" and np.array_equal(color.target, image(4))
    assert multi.metadata["knowledge_type"] == "procedural" and multi.metadata["extra_images"] == ["b.jpg"]
    assert multi.metadata["knowledge_hint"] == "cups rest on tables" and "cups" not in multi.instruction


def test_risebench_zip_is_unpacked_by_fetch_and_subset_read(data_dir: Path) -> None:
    root = data_dir / "risebench"
    root.mkdir()
    entries = [
        {
            "index": "t1",
            "category": "temporal_reasoning",
            "instruction": "show it in 10 years",
            "image": "temporal_reasoning_images/t1.png",
        },
        {
            "index": "c1",
            "category": "causal_reasoning",
            "instruction": "drop the glass",
            "image": "causal_reasoning_images/c1.png",
            "reference": "it shatters",
        },
        {
            "index": "x1",
            "category": "mystery",
            "instruction": "?",
            "image": "temporal_reasoning_images/t1.png",
        },
    ]
    with zipfile.ZipFile(root / "data.zip", "w") as zf:
        zf.writestr("data/data_total.json", __import__("json").dumps(entries))
        zf.writestr("data/temporal_reasoning_images/t1.png", png(image(1)))
        zf.writestr("data/causal_reasoning_images/c1.png", png(image(2)))
    assert RiseBenchSuite.unavailable_reason() is not None
    result = finish(RiseBenchSuite, root, "8fe8396031ec419ea2cc405e2f09348920ffa2c1")
    assert result.counts["full"] == 3 and RiseBenchSuite.unavailable_reason() is None
    t1, c1, bad = RiseBenchSuite().samples("full")
    assert (t1.category, c1.category) == ("temporal", "causal") and c1.metadata[
        "reference_answer"
    ] == "it shatters"
    assert isinstance(bad, InvalidSample) and "unknown RISEBench category 'mystery'" in bad.reason
    write_json(root / "subset64" / "data_total.json", entries[:1])
    write_png(root / "subset64" / "temporal_reasoning_images" / "t1.png", image(1))
    assert [s.id for s in RiseBenchSuite().samples("subset64")] == ["t1"]


def test_psr_one_sample_per_request(data_dir: Path) -> None:
    write_table(
        data_dir / "psr" / "data" / "train-00000-of-00001.parquet",
        {
            "post_id": ["p1", "p1", "p2"],
            "instruction": ["remove the person behind me", "remove the person behind me", "make it brighter"],
            "simplified_instruction": ["remove person", "remove person", "brighten"],
            "model": ["human", "gpt", "human"],
            "creativity_index": [0.1, 0.1, 0.5],
            "source_image": [image_cell(png(image(1))), image_cell(png(image(1))), image_cell(png(image(2)))],
            "ai_edited_image": [image_cell(png(image(3)))] * 3,
            "human_edited_image": [
                image_cell(png(image(4))),
                image_cell(png(image(4))),
                image_cell(png(image(5))),
            ],
        },
        ("source_image", "ai_edited_image", "human_edited_image"),
    )
    samples = list(PSRSuite().samples("test"))
    assert [s.id for s in samples] == ["p1", "p2"]
    assert (
        np.array_equal(samples[0].target, image(4))
        and samples[0].metadata["simplified_instruction"] == "remove person"
    )


def test_realedit_jsonl_with_relative_paths(data_dir: Path) -> None:
    root = data_dir / "realedit"
    write_png(root / "in" / "a.png", image(1))
    write_png(root / "out" / "a.png", image(2))
    (root / "test.jsonl").write_text(
        '{"id": "a", "instruction": "fix the lighting", "input_image": "in/a.png", "output_image": "out/a.png"}\n'
        '{"id": "b", "instruction": "remove the car", "input_image": "in/b.png", "output_image": "out/b.png"}\n',
        encoding="utf-8",
    )
    good, missing = RealEditSuite().samples("test")
    assert np.array_equal(good.target, image(2))
    assert isinstance(missing, InvalidSample) and "in/b.png" in missing.reason


def test_ultraedit_seeded_subset_is_deterministic(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 12
    mask = np.zeros((8, 8), bool)
    mask[:2] = True
    write_table(
        data_dir / "ultraedit" / "data" / "FreeForm_0-00000-of-00001.parquet",
        {
            "idx": list(range(n)),
            "edit_prompt": [f"edit {i}" for i in range(n)],
            "edit_object": ["cat"] * n,
            "source_caption": ["a"] * n,
            "target_caption": ["b"] * n,
            "source_image": [image_cell(png(image(i))) for i in range(n)],
            "edited_image": [image_cell(png(image(i + 1))) for i in range(n)],
            "mask_image": [image_cell(mask_png(mask)) if i % 2 else None for i in range(n)],
        },
        ("source_image", "edited_image", "mask_image"),
    )
    monkeypatch.setattr(UltraEditSuite, "subset_size", 5)
    first = [s.id for s in UltraEditSuite(seed=3).samples("test")]
    assert first == [s.id for s in UltraEditSuite(seed=3).samples("test")]
    assert first == [str(i) for i in sorted(seeded_positions(n, 5, 3))]
    assert first != [s.id for s in UltraEditSuite(seed=4).samples("test")]
    by_id = {s.id: s for s in UltraEditSuite(seed=3).samples("test")}
    odd = next(s for s in by_id.values() if int(s.id) % 2)
    assert odd.category == "region-based" and odd.mask.sum() == 16
    assert UltraEditSuite(seed=3).fingerprint()["subset"] == {"n": 5, "seed": 3}


def test_seeded_subset_count_comes_from_file_metadata(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_table(
        data_dir / "hq-edit" / "data" / "train-00000-of-00001.parquet",
        {
            "input": ["a"] * 7,
            "input_image": [image_cell(png(image(i))) for i in range(7)],
            "edit": [f"edit {i}" for i in range(7)],
            "inverse_edit": ["undo"] * 7,
            "output": ["b"] * 7,
            "output_image": [image_cell(png(image(i + 1))) for i in range(7)],
        },
        ("input_image", "output_image"),
    )
    assert HQEditSuite().count("test") == 7  # fewer rows than the 1,000-sample subset
    monkeypatch.setattr(HQEditSuite, "subset_size", 4)
    assert HQEditSuite().count("test") == 4 == len(list(HQEditSuite().samples("test")))
    sample = next(iter(HQEditSuite().samples("test")))
    assert sample.captions == {"input": "a", "output": "b"} and sample.metadata["inverse_edit"] == "undo"
