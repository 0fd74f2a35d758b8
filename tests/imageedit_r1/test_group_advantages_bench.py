"""bench/r1_group_advantages.py: trl's advantages under its three scalings, and where an update's
weight and length push come from."""

from __future__ import annotations

import json
import math

import pytest

from ..conftest import load_bench

bench = load_bench("r1_group_advantages")


def test_advantages_follow_trl_for_each_scaling():
    groups = [[1.0, 0.0, 0.0, 0.0], [0.1, 0.1, 0.0, 0.1]]
    none = bench.advantages(groups, "none")
    assert none[0] == pytest.approx([0.75, -0.25, -0.25, -0.25])
    assert none[1] == pytest.approx([0.025, 0.025, -0.075, 0.025])
    group = bench.advantages(groups, "group")
    # each group divided by its own sample standard deviation (0.5 and 0.05), plus trl's 1e-4
    assert group[0] == pytest.approx([0.75 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001, -0.25 / 0.5001])
    assert group[1] == pytest.approx([0.025 / 0.0501, 0.025 / 0.0501, -0.075 / 0.0501, 0.025 / 0.0501])
    # the format-only group weighs as much as the group with a success once scaled per group
    assert sum(map(abs, group[1])) == pytest.approx(sum(map(abs, group[0])), rel=0.01)
    batch = bench.advantages(groups, "batch")
    std = bench.sample_std([r for g in groups for r in g])
    assert batch[1][2] == pytest.approx(-0.075 / (std + 1e-4))
    assert bench.advantages([[0.3, 0.3]], "group") == [[0.0, 0.0]]
    with pytest.raises(ValueError, match="scaling must be one of group, batch, none"):
        bench.advantages(groups, "std")


def test_correlation_and_its_undefined_cases():
    assert bench.correlation([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert bench.correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert bench.correlation([1, 1, 1], [1, 2, 3]) is None
    assert bench.correlation([1], [1]) is None


def test_summary_splits_weight_and_length_push_by_kind_of_group():
    groups = [
        # L4, no right plan: the two well-formed plans (0.1) are the shorter ones
        {"level": "L4", "rewards": [0.1, 0.1, 0.0, 0.0], "right": [False] * 4, "lengths": [2, 2, 4, 5]},
        # L1, one right plan of the same length as the others
        {
            "level": "L1",
            "rewards": [1.0, 0.1, 0.1, 0.1],
            "right": [True, False, False, False],
            "lengths": [1] * 4,
        },
    ]
    table = bench.summarise(groups)
    group, none = table["group"], table["none"]
    assert group["L4"]["none_right"]["groups"] == 1 and group["L4"]["none_right"]["plans"] == 4
    # per-group scaling: the format-only group carries more than half the update (its sample
    # standard deviations: 0.0577 against 0.45); unscaled, an eighth of it (0.2 of 0.2 + 1.35)
    format_only, success = 4 * 0.05 / (math.sqrt(0.01 / 3) + 1e-4), 2 * 0.675 / (0.45 + 1e-4)
    assert group["all"]["none_right"]["weight"] == pytest.approx(format_only / (format_only + success))
    assert group["all"]["none_right"]["weight"] == pytest.approx(0.5355, abs=1e-4)
    assert none["all"]["none_right"]["weight"] == pytest.approx(0.2 / 1.55)
    # there, the advantage falls as plans get longer
    assert group["L4"]["none_right"]["length_corr"] < -0.9
    assert group["L1"]["with_right"]["length_corr"] is None  # all plans as long
    assert group["L4"]["none_right"]["unparsed"] == 0.0
    assert math.isclose(sum(row["weight"] for row in group["all"].values()), 1.0)
    lines = bench.markdown(table).splitlines()
    assert lines[2] == "| L1 | 1 / 0 | 0.00 / 0.00 / 0.00 |  | None | None |"
    assert lines[3].startswith("| L4 | 0 / 1 | 0.54 / ")


def test_unparsed_plans_count_apart_from_the_length_push():
    # an unparsed plan (length 0) earns nothing; among the plans that parse, longer earns more
    group = {"level": "L3", "rewards": [0.0, 0.05, 0.1, 0.1], "right": [False] * 4, "lengths": [0, 3, 4, 4]}
    row = bench.summarise([group])["group"]["L3"]["none_right"]
    assert row["unparsed"] == 0.25 and row["length_corr"] == pytest.approx(1.0)


def test_a_missing_checkpoint_or_a_foreign_file_is_one_line(tmp_path, run_bench):
    done = run_bench("r1_group_advantages.py", "--checkpoint", tmp_path / "absent", expect=2)
    assert done.stdout.startswith("error: ") and len(done.stdout.strip().splitlines()) == 1
    done = run_bench("r1_group_advantages.py", expect=2)
    assert done.stdout.strip() == "error: give --checkpoint or --groups"
    foreign = tmp_path / "paired.json"
    foreign.write_text(json.dumps({"columns": []}))
    done = run_bench("r1_group_advantages.py", "--groups", foreign, expect=2)
    assert done.stdout.startswith(f"error: {foreign}: not a file this script wrote with --out")


def test_saved_groups_are_summarised_again_without_sampling(tmp_path, run_bench):
    groups = [{"level": "L2", "rewards": [1.0, 0.1], "right": [True, False], "lengths": [2, 1]}]
    saved = tmp_path / "adv.json"
    saved.write_text(json.dumps({"settings": {"checkpoint": "CKPT"}, "groups": groups}))
    out = tmp_path / "again.json"
    done = run_bench("r1_group_advantages.py", "--groups", saved, "--out", out)
    assert "| L2 | 1 / 0 | 0.00 / 0.00 / 0.00 |  | None | 1.0 |" in done.stdout
    again = json.loads(out.read_text())
    assert again["settings"] == {"checkpoint": "CKPT"} and again["groups"] == groups
    assert again["table"]["group"]["L2"]["with_right"]["weight"] == pytest.approx(1.0)


def test_groups_are_sampled_and_scored_on_grpo_prompts(micro_policy_dir):
    """The sampling path end to end with a random micro policy (its plans are noise, so this checks
    the groups' shape and the reward's values, not what a trained policy would show)."""
    import argparse

    args = argparse.Namespace(
        checkpoint=str(micro_policy_dir), synth=4, offset=20000, generations=3, temperature=1.5,
        reward="exact", noise=0.5, size_synonyms=0.0, keep_relations=True, cue_words=0.0,
        max_new_tokens=24, seed=0, workers=0,
    )  # fmt: skip
    groups = bench.sample_groups(args)
    # four train samples (L1-L4) and one noisy copy of each
    assert len(groups) == 8
    assert sorted(g["level"] for g in groups) == ["L1", "L1", "L2", "L2", "L3", "L3", "L4", "L4"]
    assert {g["sample_id"] for g in groups} == {f"synth-edit/train/{20000 + i:05d}" for i in range(4)}
    for group in groups:
        assert len(group["rewards"]) == len(group["right"]) == len(group["lengths"]) == 3
    # the micro policy's plans do not parse: no format reward, and the GRPO reward's penalty for
    # one invalid call (0.05), as trl would have received them
    assert {r for g in groups for r in g["rewards"]} == {-0.05}
    assert not any(right for g in groups for right in g["right"])
    assert {k for g in groups for k in g["lengths"]} == {0}
    table = bench.summarise(groups)
    assert table["group"]["all"]["none_right"]["groups"] == 8
    assert table["group"]["all"]["none_right"]["unparsed"] == 1.0
