"""The agents over the real classical toolbox, driven by scripted policy outputs."""

import numpy as np

from imageedit_r1.agents import AgentSystem
from imageedit_r1.data import reference_subedits
from imageedit_r1.editor import ImageEditR1Editor
from imageedit_r1.plan import format_plan
from imageedit_r1.toolbox import default_toolbox


def _scripted(outputs):
    return lambda prompts: [outputs[i % len(outputs)] for i in range(len(prompts))]


def test_ground_truth_plan_reproduces_the_target(synth_samples):
    sample = synth_samples[0]  # L1
    agents = AgentSystem(default_toolbox, verify=False)
    env, prompt = agents.observe(sample.source, sample.instruction, seed=0)
    assert prompt.startswith(f"instruction: {sample.instruction}\nregions: o1 ")
    plan = reference_subedits(sample, env.regions())
    _, episode = agents.execute(env, " " + format_plan(plan))
    assert episode.invalid_calls == 0 and episode.end_reason == "finish"
    from harness.registry import metrics
    from harness.types import ScoreInput

    record = metrics.create("synth_exact").score([ScoreInput(sample, episode.image)])[0]
    assert record.status == "ok" and record.value == 1.0


def test_unparseable_output_is_a_recorded_failure(synth_samples):
    sample = synth_samples[1]
    agents = AgentSystem(default_toolbox, _scripted(["recolor it please"]), verify=False)
    run = agents.run([(sample.source, sample.instruction, 0)])[0]
    assert run.plan.error == "no JSON array in the policy output"
    assert [s.status for s in run.episode.trace][-1] == "invalid"
    assert np.array_equal(run.episode.image, sample.source)


def test_bad_arguments_are_invalid_steps_not_crashes(synth_samples):
    sample = synth_samples[0]
    bad = '[{"action":"recolor","subject":"r99","goal":"blue"},{"action":"resize","subject":"r1","goal":7}]'
    agents = AgentSystem(default_toolbox, _scripted([bad]), verify=False)
    run = agents.run([(sample.source, sample.instruction, 0)])[0]
    statuses = {step.tool: step.status for step in run.episode.trace}
    assert statuses["recolor"] == "invalid"
    assert run.episode.invalid_calls >= 1


def test_missing_checkpoint_makes_the_editor_unavailable_and_edits_fail_with_the_reason(
    tmp_path, synth_samples
):
    missing = str(tmp_path / "nowhere")
    reason = ImageEditR1Editor.unavailable_reason(missing)
    assert reason.startswith(f"no checkpoint at {missing}")
    from harness.types import EditRequest

    sample = synth_samples[0]
    result = ImageEditR1Editor(arg=missing).edit([EditRequest(sample.id, sample.source, sample.instruction)])[
        0
    ]
    assert result.status == "error" and "cannot load" in result.error and missing in result.error


def test_grounded_prompt_matches_the_scene_graph_description(synth_samples):
    """SFT prompts are built from scene graphs; they must read like the grounding tool's."""
    from harness.suites.synth_edit.scene import Scene
    from imageedit_r1.environment import format_observation
    from imageedit_r1.training.corpus import graph_regions

    agents = AgentSystem(default_toolbox, verify=False)
    for sample in synth_samples:
        _, prompt = agents.observe(sample.source, sample.instruction, seed=0)
        scene = Scene.from_dict(sample.metadata["source_scene"])
        assert prompt == format_observation(sample.instruction, graph_regions(scene))


def test_size_words_of_the_tool_vocabulary_edit_like_the_canonical_sizes(synth_samples):
    """'little' / 'big' / 'medium-sized' are read as the tool layer's size classes (the classic
    pipeline's referring vocabulary), so the same plan written either way gives the same image."""
    sample = synth_samples[0]
    agents = AgentSystem(default_toolbox, verify=False)

    def run(resize_to: str, add_what: str) -> np.ndarray:
        env, _ = agents.observe(sample.source, sample.instruction, seed=0)
        plan = (
            f'[{{"action":"resize","subject":"o1","goal":"{resize_to}"}},'
            f'{{"action":"add","subject":"image","goal":"{add_what} at center"}}]'
        )
        _, episode = agents.execute(env, " " + plan)
        assert episode.invalid_calls == 0, [s.message for s in episode.trace if s.status != "ok"]
        return episode.image

    canonical = run("large", "small magenta hexagon")
    assert np.array_equal(run("big", "little magenta hexagon"), canonical)
    assert not np.array_equal(run("large", "magenta hexagon"), canonical)  # default size is medium
    assert np.array_equal(run("medium", "medium-sized magenta hexagon"), run("medium", "magenta hexagon"))
    env, _ = agents.observe(sample.source, sample.instruction, seed=0)
    _, episode = agents.execute(env, ' [{"action":"resize","subject":"o1","goal":"enormous"}]')
    failed = [step for step in episode.trace if step.status == "invalid"]
    assert episode.invalid_calls == 1 and "unknown size 'enormous'" in failed[0].message


def test_position_words_of_the_tool_vocabulary_edit_like_the_named_positions(synth_samples):
    """'lower-right', 'upper middle', 'the middle' are read as the named positions (the classic
    pipeline's position words); a position with no position word stays an invalid call."""
    sample = synth_samples[0]
    agents = AgentSystem(default_toolbox, verify=False)

    def run(move_to: str, add_at: str) -> tuple[np.ndarray, int]:
        env, _ = agents.observe(sample.source, sample.instruction, seed=0)
        plan = (
            f'[{{"action":"move","subject":"o1","goal":"{move_to}"}},'
            f'{{"action":"add","subject":"image","goal":"small magenta hexagon at {add_at}"}}]'
        )
        _, episode = agents.execute(env, " " + plan)
        return episode.image, episode.invalid_calls

    canonical, invalid = run("bottom-right", "top")
    assert invalid == 0
    for move_to, add_at in (("lower-right", "upper middle"), ("lower right corner", "upper-middle")):
        image, invalid = run(move_to, add_at)
        assert invalid == 0 and np.array_equal(image, canonical), (move_to, add_at)
    assert np.array_equal(run("the middle", "top")[0], run("center", "top")[0])
    assert not np.array_equal(run("bottom-left", "top")[0], canonical)
    _, invalid = run("somewhere nice", "top")
    assert invalid == 1


def test_a_rejected_plan_goes_back_for_sampled_alternatives(synth_samples):
    """Verification rejects an unparseable plan and one with an invalid call; the first sampled plan
    the tools accept is executed, and both rejected plans stay in the run with their reasons."""
    sample = synth_samples[0]
    agents = AgentSystem(default_toolbox, verify=False)
    env, _ = agents.observe(sample.source, sample.instruction, seed=0)
    good = " " + format_plan(reference_subedits(sample, env.regions()))
    bad = '[{"action":"recolor","subject":"o99","goal":"blue"}]'
    asked = []

    def resample(prompt, seed):
        asked.append((prompt.split("\n")[0], seed))
        return [bad, good, "never tried"]

    agents = AgentSystem(default_toolbox, _scripted(["recolor it please"]), verify=False, resample=resample)
    run = agents.run([(sample.source, sample.instruction, 7)])[0]
    assert asked == [(f"instruction: {sample.instruction}", 7)]
    assert run.completion == good and run.episode.invalid_calls == 0
    assert [text for text, _ in run.rejected] == ["recolor it please", bad]
    assert run.rejected[0][1] == "no JSON array in the policy output" and "o99" in run.rejected[1][1]


def test_an_accepted_plan_is_not_resampled_and_all_rejected_keeps_the_first(synth_samples):
    sample = synth_samples[0]
    agents = AgentSystem(default_toolbox, verify=False)
    env, _ = agents.observe(sample.source, sample.instruction, seed=0)
    good = " " + format_plan(reference_subedits(sample, env.regions()))

    def refuse(prompt, seed):
        raise AssertionError("an accepted plan must not be resampled")

    accepted = AgentSystem(default_toolbox, _scripted([good]), verify=False, resample=refuse)
    assert accepted.run([(sample.source, sample.instruction, 0)])[0].rejected == ()
    stubborn = AgentSystem(
        default_toolbox, _scripted(["no plan"]), verify=False, resample=lambda p, s: ["still none", "[]"]
    )
    run = stubborn.run([(sample.source, sample.instruction, 0)])[0]
    assert run.completion == "no plan" and not run.plan.ok
    assert [text for text, _ in run.rejected] == ["still none", "[]"]
