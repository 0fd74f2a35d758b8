"""GRPO prompts restricted to chosen levels (``--grpo-levels``)."""

from typer.testing import CliRunner

from harness.cli.main import app
from imageedit_r1.training.corpus import graph_examples
from imageedit_r1.training.pipeline import at_levels


def test_only_prompts_of_the_chosen_levels_stay_in_their_order():
    examples, _ = graph_examples(12, "train", workers=1)
    kept = at_levels(examples, ("L2", "L4"))
    assert [e.sample_id for e in kept] == [e.sample_id for e in examples if e.level in ("L2", "L4")]
    assert len(kept) == 6  # the generator assigns level L(index % 4 + 1)
    assert at_levels(examples, ()) == examples


def test_an_unknown_grpo_level_fails_with_one_line(tmp_path):
    result = CliRunner().invoke(app, ["train", "pipeline", "--out", str(tmp_path), "--grpo-levels", "L2,L5"])
    assert result.exit_code == 2
    assert "--grpo-levels must be one of L1, L2, L3, L4, got 'L5'" in result.output
    assert not any(tmp_path.iterdir())


def test_level_weights_repeat_the_prompts_of_a_level():
    from imageedit_r1.training.pipeline import parse_level_weights, weighted

    examples, _ = graph_examples(8, "train", workers=1)
    weights = parse_level_weights("L1,L2, L3:2,L4:3", ("L1", "L2", "L3", "L4"))
    assert weights == {"L1": 1, "L2": 1, "L3": 2, "L4": 3}
    mixed = weighted(examples, weights)
    counts = {level: sum(e.level == level for e in mixed) for level in weights}
    assert counts == {"L1": 2, "L2": 2, "L3": 4, "L4": 6}
    assert weighted(examples, {}) == examples


def test_a_bad_level_weight_fails_with_one_line(tmp_path):
    result = CliRunner().invoke(
        app, ["train", "pipeline", "--out", str(tmp_path), "--grpo-levels", "L2,L3:0"]
    )
    assert result.exit_code == 2
    assert "--grpo-levels weight must be a positive integer, got 'L3:0'" in result.output
    assert not any(tmp_path.iterdir())
