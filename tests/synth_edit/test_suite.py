"""Structure of the suite: levels, categories, phrasing splits, fields, masks, programs, export."""

from __future__ import annotations

import json
import re
from collections import Counter

import numpy as np
import pytest

from harness.export import export_suite
from harness.images import load_image
from harness.suites.synth_edit.generator import CATEGORY_GOAL, CATEGORY_MULTI_STEP, L1_ACTIONS, L2_ACTIONS
from harness.suites.synth_edit.phrasing import FAMILIES, HELD_OUT_FAMILIES, TRAIN_FAMILIES
from harness.suites.synth_edit.program import apply_program, program_from_json
from harness.suites.synth_edit.render import render_scene
from harness.suites.synth_edit.scene import Scene, scene_fits
from harness.suites.synth_edit.suite import SynthEditSuite

INDIRECT = {"relation", "superlative", "ordinal", "analogy"}


def test_suite_declares_protocol_attributes() -> None:
    suite = SynthEditSuite()
    assert suite.name == "synth-edit" and suite.splits == ("train", "test")
    assert suite.default_metrics == (
        "synth_exact",
        "synth_partial",
        "psnr",
        "ssim",
        "preserve_psnr",
        "edit_region_psnr",
        "l1",
    )
    assert SynthEditSuite.unavailable_reason() is None
    with pytest.raises(ValueError, match="splits"):
        next(suite.samples("validation"))


def test_default_test_split_has_100_per_level_with_documented_categories(default_test_split) -> None:
    levels = Counter(sample.level for sample in default_test_split)
    assert levels == {"L1": 100, "L2": 100, "L3": 100, "L4": 100}
    by_level: dict[str, set[str]] = {}
    for sample in default_test_split:
        by_level.setdefault(sample.level, set()).add(sample.category)
    assert by_level["L1"] == set(L1_ACTIONS)  # all eight operations occur
    assert by_level["L2"] == set(L2_ACTIONS)
    assert by_level["L3"] == {CATEGORY_MULTI_STEP} and by_level["L4"] == {CATEGORY_GOAL}
    assert len({sample.id for sample in default_test_split}) == 400


def test_levels_use_their_reference_kinds(default_test_split) -> None:
    seen: Counter[str] = Counter()
    for sample in default_test_split:
        kinds = set(sample.metadata["reference_types"])
        program = sample.metadata["program"]
        if sample.level == "L1":
            assert kinds <= {"attribute"} and len(program) == 1
        elif sample.level == "L2":
            assert kinds & INDIRECT and len(program) == 1
            seen.update(kinds & INDIRECT)
        elif sample.level == "L3":
            assert 2 <= len(program) <= 4
            seen.update(kinds)
        else:
            assert sample.metadata["goal"]["name"] and len(program) >= 1
    assert set(seen) >= INDIRECT | {"where_was"}
    assert min(seen[kind] for kind in INDIRECT) >= 10
    order_sensitive = [s for s in default_test_split if s.level == "L3" and s.metadata["order_matters"]]
    assert len(order_sensitive) >= 40


def test_test_split_uses_only_held_out_phrasings(default_test_split, train_samples) -> None:
    assert {s.metadata["phrasing_family"] for s in default_test_split} == set(HELD_OUT_FAMILIES)
    assert {s.metadata["phrasing_family"] for s in train_samples} == set(TRAIN_FAMILIES)
    # held-out families never say "shape(s)" for an object; train families do
    assert not any(re.search(r"\bshapes?\b", s.instruction) for s in default_test_split)
    assert any(re.search(r"\bshapes?\b", s.instruction) for s in train_samples)


def test_train_and_held_out_templates_are_disjoint() -> None:
    def templates(names: tuple[str, ...]) -> set[str]:
        found = set()
        for name in names:
            family = FAMILIES[name]
            for options in family.actions.values():
                found.update(options)
            found.update(family.goals.values())
        return found

    assert templates(TRAIN_FAMILIES).isdisjoint(templates(HELD_OUT_FAMILIES))


def test_sample_fields_are_consistent(default_test_split) -> None:
    for sample in default_test_split[:120]:
        metadata = sample.metadata
        json.dumps(metadata)  # JSON-able
        source_scene = Scene.from_dict(metadata["source_scene"])
        target_scene = Scene.from_dict(metadata["target_scene"])
        assert scene_fits(source_scene) and scene_fits(target_scene)
        assert np.array_equal(render_scene(source_scene), sample.source)
        assert np.array_equal(render_scene(target_scene), sample.target)
        program = program_from_json(metadata["program"])
        assert apply_program(source_scene, program) == target_scene
        assert apply_program(source_scene, program, by_reference=True) == target_scene
        assert sample.mask.dtype == bool and sample.mask.shape == sample.source.shape[:2]
        differing = np.any(sample.source != sample.target, axis=2)
        assert differing.any() and not (differing & ~sample.mask).any()
        if source_scene.background == target_scene.background:
            assert sample.mask.mean() < 0.6


def test_export_writes_folder_dataset(tmp_path) -> None:
    out = export_suite("synth-edit", split="test", n=4, out=tmp_path, seed=0)
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [row["id"] for row in rows] == [f"synth-edit/test/{i:05d}" for i in range(4)]
    reference = list(SynthEditSuite().samples("test", limit=4))
    for row, sample in zip(rows, reference, strict=True):
        assert {"id", "instruction", "source", "target", "mask", "category", "level", "metadata"} <= set(row)
        assert np.array_equal(load_image(tmp_path / row["source"]), sample.source)
        assert np.array_equal(load_image(tmp_path / row["target"]), sample.target)
        assert np.array_equal(load_image(tmp_path / row["mask"])[..., 0] > 127, sample.mask)
        assert row["metadata"]["target_scene"] == sample.metadata["target_scene"]


def test_generator_invariants_over_many_seeds() -> None:
    from harness.suites.synth_edit.generator import LEVELS, generate_edit
    from harness.suites.synth_edit.matching import scenes_equivalent

    for seed in range(60):
        for level in LEVELS:
            split = "train" if seed % 2 else "test"
            edit = generate_edit(seed, split, seed * 7 + 3, level)
            assert edit.family in (TRAIN_FAMILIES if split == "train" else HELD_OUT_FAMILIES)
            assert scene_fits(edit.source) and scene_fits(edit.target)
            assert 3 <= len(edit.source.objects) <= 6
            assert not scenes_equivalent(edit.source, edit.target)
            assert apply_program(edit.source, edit.program, by_reference=True) == edit.target
            assert edit.instruction.strip() and "{" not in edit.instruction and "  " not in edit.instruction
            if level in ("L1", "L2"):
                assert len(edit.program) == 1 and edit.category == edit.program[0].action
            elif level == "L3":
                assert 2 <= len(edit.program) <= 4
