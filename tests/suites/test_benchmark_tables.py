"""Loaders over Hub tables (MagicBrush, Emu Edit, GEdit-Bench, Complex-Edit), read through ``datasets``
from fixtures written in the upstream schema, including malformed rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.suites.benchmarks.complex_edit import ComplexEditSuite
from harness.suites.benchmarks.emu_edit import EmuEditSuite
from harness.suites.benchmarks.gedit import GEditBenchSuite
from harness.suites.benchmarks.magicbrush import MagicBrushSuite
from harness.types import InvalidSample, Sample
from tests.suites.benchmark_fixtures import (
    image,
    image_cell,
    mask_png,
    png,
    write_json,
    write_png,
    write_table,
)


def _magicbrush_dev(root: Path) -> None:
    mask = np.zeros((8, 8), bool)
    mask[2:5, 3:6] = True
    rows = [
        ("100", 1, image(1), mask, "put a hat on the dog", image(2)),
        ("100", 2, image(2), mask, "make the hat red", image(3)),
        ("200", 1, image(5), mask, "add a boat", image(6)),
    ]
    write_table(
        root / "magicbrush" / "data" / "dev-00000-of-00001.parquet",
        {
            "img_id": [r[0] for r in rows],
            "turn_index": [r[1] for r in rows],
            "source_img": [image_cell(png(r[2])) for r in rows],
            "mask_img": [image_cell(mask_png(r[3])) for r in rows],
            "instruction": [r[4] for r in rows],
            "target_img": [image_cell(png(r[5])) for r in rows],
        },
        ("source_img", "mask_img", "target_img"),
    )


def test_magicbrush_dev_single_turn_masks_and_history(data_dir: Path) -> None:
    _magicbrush_dev(data_dir)
    assert MagicBrushSuite.unavailable_reason() is None
    samples = list(MagicBrushSuite().samples("dev"))
    assert [s.id for s in samples] == ["100-turn1", "100-turn2", "200-turn1"]
    second = samples[1]
    assert isinstance(second, Sample)
    assert np.array_equal(second.source, image(2)) and np.array_equal(second.target, image(3))
    assert second.mask.sum() == 9 and second.mask[2, 3] and not second.mask[0, 0]
    assert second.metadata["history"] == ["put a hat on the dog"]
    assert samples[2].metadata["history"] == [] and second.level == "turn2"


def test_magicbrush_dev_multiturn_sessions(data_dir: Path) -> None:
    _magicbrush_dev(data_dir)
    sessions = list(MagicBrushSuite().samples("dev-multiturn"))
    assert [s.id for s in sessions] == ["100", "200"]
    first = sessions[0]
    assert first.turns == ("put a hat on the dog", "make the hat red")
    assert first.instruction == "make the hat red"
    assert np.array_equal(first.source, image(1)) and np.array_equal(first.target, image(3))
    assert first.category == "multi-turn" and first.metadata["setting"] == "final-turn"


def test_magicbrush_test_folder_with_global_and_local_captions(data_dir: Path) -> None:
    test = data_dir / "magicbrush" / "test"
    for name, value in (("7-input.png", 1), ("7-output1.png", 2), ("7-output2.png", 3)):
        write_png(test / "images" / "7" / name, image(value))
    mask = np.zeros((8, 8), np.uint8)
    mask[:4] = 255
    write_png(test / "images" / "7" / "7-mask1.png", np.repeat(mask[:, :, None], 3, axis=2))
    write_png(test / "images" / "7" / "7-mask2.png", np.repeat(mask[:, :, None], 3, axis=2))
    turns = [
        {
            "input": "7-input.png",
            "mask": "7-mask1.png",
            "output": "7-output1.png",
            "instruction": "add a kite",
        },
        {
            "input": "7-output1.png",
            "mask": "7-mask2.png",
            "output": "7-output2.png",
            "instruction": "make it blue",
        },
    ]
    write_json(test / "edit_sessions.json", {"7": turns})
    write_json(
        test / "global_description.json", {"7": {"7-input.png": "a park", "7-output1.png": "a park, a kite"}}
    )
    write_json(
        test / "local_descriptions.json", {"7": {"7-output1.png": "a kite", "7-output2.png": "a blue kite"}}
    )
    single = list(MagicBrushSuite().samples("test"))
    assert single[0].captions == {"global": "a park, a kite", "local": "a kite", "input": "a park"}
    assert single[1].captions == {"local": "a blue kite", "input": "a park, a kite"}
    assert single[1].mask[:4].all() and not single[1].mask[4:].any()
    (session,) = MagicBrushSuite().samples("test-multiturn")
    assert session.turns == ("add a kite", "make it blue") and np.array_equal(session.target, image(3))


def test_malformed_rows_become_invalid_samples_and_the_rest_load(data_dir: Path) -> None:
    good_mask = mask_png(np.ones((8, 8), bool))
    write_table(
        data_dir / "magicbrush" / "data" / "dev-00000-of-00001.parquet",
        {
            "img_id": ["1", "2", "3", "4"],
            "turn_index": [1, 1, 1, 1],
            "source_img": [
                image_cell(png(image(1))),
                image_cell(b"not an image"),
                image_cell(png(image(3))),
                image_cell(png(image(4))),
            ],
            "mask_img": [
                image_cell(good_mask),
                image_cell(good_mask),
                image_cell(mask_png(np.ones((4, 4), bool))),
                image_cell(good_mask),
            ],
            "instruction": ["fine", "bad bytes", "small mask", None],
            "target_img": [image_cell(png(image(9)))] * 4,
        },
        ("source_img", "mask_img", "target_img"),
    )
    items = list(MagicBrushSuite().samples("dev"))
    assert [type(i).__name__ for i in items] == ["Sample", "InvalidSample", "InvalidSample", "InvalidSample"]
    bad_bytes, small_mask, no_text = items[1:]
    assert bad_bytes.id == "2-turn1" and "magicbrush sample 2-turn1" in bad_bytes.reason
    assert "source_img: cannot decode image" in bad_bytes.reason
    assert "mask_img is 4x4, the image is 8x8" in small_mask.reason
    assert "missing field 'instruction'" in no_text.reason


def test_emu_edit_captions_exclusions_and_split_mapping(data_dir: Path) -> None:
    rows = {
        "instruction": ["make the sky pink", "remove the dog", "add snow"],
        "image": [image_cell(png(image(i))) for i in range(3)],
        "task": ["global", "remove", "add"],
        "split": ["test", "test", "test"],
        "idx": [0, 1, 2],
        "hash": ["h0", "h1", "h2"],
        "input_caption": ["a beach", "a dog on grass", "a street"],
        "output_caption": ["a pink beach", "A dog  on grass", ""],
    }
    write_table(data_dir / "emu-edit" / "data" / "test-00000-of-00001.parquet", rows, ("image",))
    write_table(data_dir / "emu-edit" / "data" / "validation-00000-of-00001.parquet", rows, ("image",))
    samples = list(EmuEditSuite().samples("test"))
    assert [s.category for s in samples] == ["global", "remove", "add"]
    assert samples[0].captions == {"input": "a beach", "output": "a pink beach"} and samples[0].target is None
    assert samples[1].captions == {} and "identical" in samples[1].metadata["caption_exclusion"]
    assert samples[2].metadata["caption_exclusion"] == "output caption is empty"
    assert (
        samples[0].metadata["generations_split"] == "validation" and samples[0].metadata["hf_split"] == "test"
    )
    assert samples[0].id == "test-0"


def test_gedit_languages_intersection_and_groups(data_dir: Path) -> None:
    columns = {
        "task_type": ["background_change", "subject-add", "background_change", "made_up_group"],
        "key": ["k1", "k2", "k1", "k3"],
        "instruction": ["change the background to a beach", "add a cat", "把背景换成海滩", "x"],
        "instruction_language": ["en", "en", "cn", "en"],
        "input_image": [image_cell(png(image(i))) for i in range(4)],
        "Intersection_exist": [True, False, True, False],
    }
    write_table(data_dir / "gedit-bench" / "train", columns, ("input_image",), fmt="arrow")
    assert GEditBenchSuite.unavailable_reason() is None
    en = list(GEditBenchSuite().samples("en"))
    assert [s.id for s in en] == ["en-k1", "en-k2", "en-k3"]
    assert en[0].category == "background_change" and en[0].language == "en"
    assert isinstance(en[2], InvalidSample) and "unknown task_type 'made_up_group'" in en[2].reason
    (cn,) = GEditBenchSuite().samples("cn")
    assert cn.language == "zh" and cn.metadata["instruction_language"] == "cn"
    assert [s.id for s in GEditBenchSuite().samples("en-intersection")] == ["en-k1"]


def test_complex_edit_levels_per_image(data_dir: Path) -> None:
    edits = [
        {
            "atomic_instructions": ["add a hat", "make it red", "add snow"],
            "compound_instructions": [
                {"complexity": k, "compound_instruction": text, "reasoning": ""}
                for k, text in ((1, "add a hat"), (2, "add a red hat"), (3, "add a red hat in the snow"))
            ],
        },
        {"atomic_instructions": [], "compound_instructions": []},
    ]
    write_table(
        data_dir / "complex-edit" / "data" / "test_real-00000-of-00001.parquet",
        {"id": [10, 11], "image": [image_cell(png(image(1))), image_cell(png(image(2)))], "edit": edits},
        ("image",),
    )
    items = list(ComplexEditSuite().samples("real"))
    assert [i.id for i in items] == ["real-10-C1", "real-10-C2", "real-10-C3", "real-11"]
    assert [i.level for i in items[:3]] == ["C1", "C2", "C3"]
    assert items[2].instruction == "add a red hat in the snow" and items[2].category == "real"
    assert items[2].metadata["atomic_instructions"] == ["add a hat", "make it red", "add snow"]
    assert isinstance(items[3], InvalidSample) and "compound_instructions" in items[3].reason


def test_mask_convention_transparent_or_bright_pixels() -> None:
    from harness.suites.benchmarks.reading import mask_field

    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3] = 200
    rgba[..., 3] = 255
    rgba[:3, :, 3] = 0  # DALL-E 2 style: transparent = region to edit
    transparent = mask_field({"bytes": png(rgba), "path": None}, "mask_img", (8, 8))
    assert transparent[:3].all() and not transparent[3:].any()
    grey = np.zeros((8, 8), np.uint8)
    grey[:, 6:] = 255
    bright = mask_field({"bytes": png(grey), "path": None}, "mask_img", (8, 8))
    assert bright[:, 6:].all() and not bright[:, :6].any()


def test_unreadable_data_file_ends_the_stream_with_one_clear_invalid_sample(data_dir: Path) -> None:
    path = data_dir / "emu-edit" / "data" / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not parquet")
    (item,) = list(EmuEditSuite().samples("test"))
    assert isinstance(item, InvalidSample) and item.id == "test:unreadable"
    assert item.reason.startswith("emu-edit test: cannot read") and "emu-edit/data" in item.reason


def test_missing_manual_test_split_is_reported_not_raised(data_dir: Path) -> None:
    _magicbrush_dev(data_dir)
    (item,) = list(MagicBrushSuite().samples("test"))
    assert isinstance(item, InvalidSample) and "password-protected zip" in item.reason
