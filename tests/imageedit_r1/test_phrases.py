"""Phrase subjects resolved by the grounding agent, and regions that follow their objects."""

import pytest

from harness.registry import metrics
from harness.suites.synth_edit.generator import generate_edit
from harness.suites.synth_edit.program import apply_step
from harness.suites.synth_edit.suite import make_sample
from harness.types import ScoreInput
from imageedit_r1.agents import AgentSystem, episode_seed
from imageedit_r1.data import phrase_subjects, reference_subedits
from imageedit_r1.phrases import PHRASE_TYPES, PhraseError, canonical_phrase, is_phrase
from imageedit_r1.plan import SubEdit, format_plan
from imageedit_r1.toolbox import default_toolbox
from imageedit_r1.training.corpus import graph_examples


def _exact(sample, image) -> float:
    return metrics.create("synth_exact").score([ScoreInput(sample, image)])[0].value


def _run(sample, plan_text):
    agents = AgentSystem(default_toolbox, verify=False)
    env, _ = agents.observe(sample.source, sample.instruction, episode_seed(sample.id))
    return env, agents.execute(env, plan_text)[1]


@pytest.mark.parametrize(
    ("ref", "phrase"),
    [
        ({"type": "attribute", "shape": "circle", "colour": "red", "size": None}, "the red circle"),
        ({"type": "attribute", "shape": None, "colour": None, "size": "small"}, "the small object"),
        (
            {"type": "relation", "relation": "left_of", "anchor": {"shape": "star", "colour": "blue"}},
            "the object left of the blue star",
        ),
        ({"type": "superlative", "property": "largest", "filter": None}, "the largest object"),
        (
            {"type": "ordinal", "index": 2, "from": "top", "filter": {"shape": "circle", "colour": None}},
            "the second circle from the top",
        ),
        (
            {"type": "analogy", "attribute": "colour", "anchor": {"shape": "square", "colour": "cyan"}},
            "the object with the same colour as the cyan square",
        ),
    ],
)
def test_canonical_phrases(ref, phrase):
    assert canonical_phrase(ref) == phrase and is_phrase(phrase)


def test_a_reference_without_a_phrase_is_an_error():
    with pytest.raises(PhraseError):
        canonical_phrase({"type": "quantified", "filter": None})


def test_every_generated_reference_reads_back_to_its_object():
    """Each phrase the converter writes, read by the grounding tool's grammar and resolved on the
    scene as it stands at that step, denotes exactly the generator's object (train and test)."""
    from baselines.tools.classical.referring import parse_reference, words_of
    from baselines.tools.classical.scene_tools import resolve_reference

    checked = 0
    for split in ("train", "test"):
        for index in range(0, 90):
            level = ("L1", "L2", "L3", "L4")[index % 4]
            if level == "L4":
                continue
            edit = generate_edit(0, split, index, level)
            scene = edit.source
            for step in edit.program:
                for subject in (step.subject, step.arguments.get("other")):
                    if subject is None or (subject.ref or {}).get("type") not in PHRASE_TYPES:
                        continue
                    words = words_of(canonical_phrase(subject.ref))
                    reference = parse_reference(words)
                    assert reference is not None and reference.end == len(words)
                    assert [o.id for o in resolve_reference(scene, reference.ref)] == [subject.id]
                    checked += 1
                scene = apply_step(scene, step)
    assert checked > 150


def test_goal_plans_keep_handles_and_other_levels_take_phrases():
    assert phrase_subjects("phrases", "L2") and not phrase_subjects("phrases", "L4")
    assert not phrase_subjects("handles", "L2")
    with pytest.raises(ValueError, match="unknown subject form"):
        phrase_subjects("names", "L1")
    examples, _ = graph_examples(8, "train", workers=1, subjects="phrases")
    by_level = {e.level: e for e in examples}
    assert all(s.subject.startswith("o") for s in by_level["L4"].reference)
    assert any(is_phrase(s.subject) for e in examples if e.level != "L4" for s in e.reference)


@pytest.mark.parametrize("index", [1, 2, 5, 6, 10, 14])
def test_phrase_plans_reach_the_target(index):
    """Ground-truth plans written with phrase subjects, executed by the agents (grounding resolves
    each phrase on the current image), pass the exact checker: L2 and L3 test samples."""
    sample = make_sample(0, "test", index)
    agents = AgentSystem(default_toolbox, verify=False)
    env, _ = agents.observe(sample.source, sample.instruction, episode_seed(sample.id))
    plan = reference_subedits(sample, env.regions(), "phrases")
    assert any(is_phrase(s.subject) for s in plan)
    _, episode = agents.execute(env, " " + format_plan(plan))
    assert episode.invalid_calls == 0 and _exact(sample, episode.image) == 1.0


def test_a_handle_follows_its_object_after_a_move():
    """test/00014 (L3): remove the square, move the green triangle to where the square was, remove
    the green object. The last sub-edit names the moved triangle by its handle."""
    sample = make_sample(0, "test", 14)
    env, _ = AgentSystem(default_toolbox, verify=False).observe(sample.source, sample.instruction, 0)
    plan = reference_subedits(sample, env.regions(), "handles")
    moved = next(s.subject for s in plan if s.action == "move")
    assert [s.subject for s in plan].count(moved) == 2
    env, episode = _run(sample, " " + format_plan(plan))
    assert episode.errors == [] and _exact(sample, episode.image) == 1.0


def test_unreadable_and_ambiguous_phrases_are_invalid_sub_edits():
    sample = make_sample(0, "test", 1)
    env, episode = _run(sample, " " + format_plan([SubEdit("remove", "the purple banana", "")]))
    assert episode.invalid_calls == 1 and "cannot read 'the purple banana'" in episode.errors[0]
    env, episode = _run(sample, " " + format_plan([SubEdit("remove", "the object", "")]))
    assert episode.invalid_calls == 1 and "matches" in episode.errors[0] and "not one" in episode.errors[0]


def test_phrase_grounding_does_not_shift_the_handles_of_added_objects():
    """A region grounded for a phrase is not a new object: o(N+1) still names the first added one."""
    sample = make_sample(0, "test", 0)
    agents = AgentSystem(default_toolbox, verify=False)
    env, _ = agents.observe(sample.source, sample.instruction, 0)
    before = env.regions()
    kinds = [(r["color"], r["shape"]) for r in before]
    colour, shape = next(kind for kind in kinds if kinds.count(kind) == 1)
    phrase = f"the {colour} {shape}"
    plan = [
        SubEdit("recolor", phrase, "cyan"),
        SubEdit("add", "image", "small red star at top-left"),
    ]
    env.execute_plan(plan)
    after = env.regions()
    assert len(after) == len(before) + 1 and after[-1]["handle"] == f"o{len(before) + 1}"
    assert after[-1]["shape"] == "star"


def test_sft_with_an_unknown_subject_form_fails_with_one_line(tmp_path):
    from typer.testing import CliRunner

    from harness.cli.main import app

    result = CliRunner().invoke(
        app, ["train", "sft", "--out", str(tmp_path), "--synth", "4", "--photo", "0", "--subjects", "names"]
    )
    assert result.exit_code == 2 and "--subjects must be one of handles, phrases" in result.output


@pytest.mark.parametrize(("index", "subjects"), [(182, "handles"), (26, "handles"), (366, "phrases")])
def test_where_an_object_was_is_its_place_before_its_latest_move_or_removal(index, subjects):
    """test/00182: an object moved twice, then named as a place; test/00026: a swap does not change
    "where it was"; test/00366 with phrases: edits made through a phrase move the handle's region
    too, so "where the magenta object used to be" is where it was removed."""
    sample = make_sample(0, "test", index)
    agents = AgentSystem(default_toolbox, verify=False)
    env, _ = agents.observe(sample.source, sample.instruction, episode_seed(sample.id))
    plan = reference_subedits(sample, env.regions(), subjects)
    _, episode = agents.execute(env, " " + format_plan(plan))
    assert episode.errors == [] and _exact(sample, episode.image) == 1.0
