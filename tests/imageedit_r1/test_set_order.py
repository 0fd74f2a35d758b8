"""Goal (L4) plans in region-list order: same sub-edits, same end state, other plans untouched."""

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.suites.synth_edit.generator import generate_edit
from harness.suites.synth_edit.matching import scenes_equivalent
from harness.suites.synth_edit.program import apply_program
from imageedit_r1.data import PlanExample, in_reading_order, order_sets
from imageedit_r1.plan import SubEdit, format_plan
from imageedit_r1.training.corpus import graph_examples, graph_regions


def _example(level: str, subedits: list[SubEdit]) -> PlanExample:
    return PlanExample(
        "p", " " + format_plan(subedits), "synth-edit/train/00000", "synth-edit", level, tuple(subedits)
    )


def test_a_goal_plan_is_written_in_handle_order():
    plan = [
        SubEdit("recolor", "o10", "red"),
        SubEdit("recolor", "o2", "red"),
        SubEdit("recolor", "o5", "red"),
    ]
    ordered = in_reading_order(_example("L4", plan))
    assert [s.subject for s in ordered.reference] == ["o2", "o5", "o10"]
    assert ordered.completion == " " + format_plan(list(ordered.reference))


@pytest.mark.parametrize(
    ("level", "plan"),
    [
        ("L3", [SubEdit("remove", "o4", ""), SubEdit("remove", "o1", "")]),  # the text gives the order
        ("L4", [SubEdit("recolor", "o4", "red"), SubEdit("remove", "o1", "")]),  # two actions
        ("L4", [SubEdit("recolor", "o4", "red"), SubEdit("recolor", "o1", "blue")]),  # two goals
        ("L4", [SubEdit("swap", "o4", "o1"), SubEdit("swap", "o3", "o1")]),  # not a per-region edit
        ("L4", [SubEdit("recolor", "o4", "red"), SubEdit("recolor", "o4", "red")]),  # one region twice
    ],
)
def test_other_plans_keep_their_order(level, plan):
    example = _example(level, plan)
    assert in_reading_order(example) == example


def test_reordered_goal_programs_reach_the_same_target():
    """Executed on the scene graph in the new order, every reordered train goal plan still ends at
    the generator's target."""
    examples, _ = graph_examples(160, "train", workers=1)
    goals = [e for e in examples if e.level == "L4"]
    changed = 0
    for example in goals:
        ordered = in_reading_order(example)
        if ordered == example:
            continue
        changed += 1
        index = int(example.sample_id.rsplit("/", 1)[1])
        edit = generate_edit(0, "train", index, "L4")
        handle_of = {r["id"]: r["handle"] for r in graph_regions(edit.source)}
        rank = {s.subject: i for i, s in enumerate(ordered.reference)}
        program = sorted(edit.program, key=lambda step: rank[handle_of[step.subject.id]])
        assert scenes_equivalent(apply_program(edit.source, program), edit.target)
    assert changed >= 10


def test_program_order_is_the_identity_and_an_unknown_order_fails():
    examples, _ = graph_examples(8, "train", workers=1)
    assert order_sets(examples, "program") == examples
    with pytest.raises(ValueError, match="unknown set order"):
        order_sets(examples, "alphabetical")


def test_sft_with_an_unknown_set_order_fails_with_one_line(tmp_path):
    result = CliRunner().invoke(
        app, ["train", "sft", "--out", str(tmp_path), "--synth", "4", "--photo", "0", "--set-order", "x"]
    )
    assert result.exit_code == 2
    assert "--set-order must be one of program, reading" in result.output
