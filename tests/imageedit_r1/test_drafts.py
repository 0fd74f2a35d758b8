"""Rule drafts: the classical grammar's reading as a prompt line, trained on and carried by the
checkpoint, so every reader of the policy (editor, benches, GRPO) builds the prompt it learned."""

import json
import math
import random

import pytest

from imageedit_r1.drafts import (
    OBSERVATION_FILE,
    draft_line,
    instruction_of,
    reads_drafts,
    with_draft,
    write_observation,
)
from imageedit_r1.training.sft import SFTConfig, training_texts

PROMPT = "instruction: Delete the hexagon.\nregions: o1 red hexagon 3 4\nplan:"


def test_draft_line_is_the_rule_grammars_reading_sentence_by_sentence():
    two = (
        "Please take out the purple triangle. Lastly, could you shift the yellow triangle to where "
        "the purple triangle was?"
    )
    assert (
        draft_line(two)
        == "remove the purple triangle | move the yellow triangle -> where the purple triangle was"
    )
    # read from structure: a new object and a referenced one, no place -> a replacement
    assert draft_line("I want a circle in place of the green square.") == "replace the green square -> circle"
    assert draft_line("Hello there.") == "none"
    assert len(draft_line("Delete the hexagon. " * 200)) == 400


def test_with_draft_puts_the_line_before_the_plan_cue_once():
    drafted = with_draft(PROMPT)
    assert drafted == (
        "instruction: Delete the hexagon.\nregions: o1 red hexagon 3 4\ndraft: remove the hexagon\nplan:"
    )
    assert with_draft(drafted) == drafted
    assert instruction_of(drafted) == "Delete the hexagon."
    # not an observation prompt: left alone
    assert with_draft("regions: o1\nplan:") == "regions: o1\nplan:"
    assert with_draft("instruction: Delete it.\nregions: none") == "instruction: Delete it.\nregions: none"


def test_the_checkpoint_marker_round_trips_and_refuses_what_it_does_not_know(tmp_path):
    assert reads_drafts(tmp_path) is False
    write_observation(tmp_path, False)
    assert not (tmp_path / OBSERVATION_FILE).exists()
    write_observation(tmp_path, True)
    assert reads_drafts(tmp_path) is True
    (tmp_path / OBSERVATION_FILE).write_text(json.dumps({"draft": "llm"}))
    with pytest.raises(ValueError, match="unknown draft kind 'llm'"):
        reads_drafts(tmp_path)
    (tmp_path / OBSERVATION_FILE).write_text("{not json")
    with pytest.raises(ValueError, match="not readable JSON"):
        reads_drafts(tmp_path)


def test_sft_texts_draft_each_prompt_from_its_own_noisy_instruction(synth_examples):
    config = SFTConfig(output_dir="unused", word_noise=0.5, noise_variants=2, rule_draft=True)
    prompts, completions = training_texts(synth_examples, config, random.Random(3))
    n = len(synth_examples)
    assert len(prompts) == len(completions) == 3 * n
    assert completions == [e.completion for e in synth_examples] * 3
    for prompt in prompts:
        head, _, rest = prompt.partition("\n")
        regions, draft, cue = rest.split("\n")
        assert draft == "draft: " + draft_line(instruction_of(prompt)) and cue == "plan:"
    # the clean copies carry the clean instruction's draft; noise changed some instructions, and
    # without drafts the same draws give the same prompts less their draft line
    assert prompts[:n] == [with_draft(e.prompt) for e in synth_examples]
    assert any(
        instruction_of(p) != instruction_of(q) for p, q in zip(prompts[n : 2 * n], prompts[:n], strict=True)
    )
    plain, _ = training_texts(
        synth_examples, SFTConfig(output_dir="unused", word_noise=0.5), random.Random(3)
    )
    assert prompts == [with_draft(p) for p in plain]


def test_clean_drafts_show_the_noise_free_reading_beside_the_noisy_instruction(synth_examples):
    config = SFTConfig(
        output_dir="unused", word_noise=0.5, noise_variants=2, rule_draft=True, draft_from="clean"
    )
    prompts, _ = training_texts(synth_examples, config, random.Random(3))
    n = len(synth_examples)
    clean = [draft_line(instruction_of(e.prompt)) for e in synth_examples]
    assert [p.split("\n")[2] for p in prompts] == ["draft: " + d for d in clean * 3]
    plain, _ = training_texts(
        synth_examples, SFTConfig(output_dir="unused", word_noise=0.5), random.Random(3)
    )
    assert [instruction_of(p) for p in prompts] == [instruction_of(p) for p in plain]
    assert any(instruction_of(p) != instruction_of(q) for p, q in zip(plain[n:], plain[:n] * 2, strict=True))
    with pytest.raises(ValueError, match="unknown draft source 'typed'"):
        training_texts(
            synth_examples,
            SFTConfig(output_dir="unused", rule_draft=True, draft_from="typed"),
            random.Random(0),
        )


def test_the_command_refuses_an_unknown_draft_source(tmp_path):
    from typer.testing import CliRunner

    from harness.cli.main import app

    result = CliRunner().invoke(
        app, ["train", "sft", "--rule-draft", "--draft-from", "typed", "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "--draft-from" in result.output and "typed" in result.output


pytest.importorskip("peft")
pytest.importorskip("trl")


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory, synth_examples):
    import torch

    from imageedit_r1.policy import Policy, build_model, build_tokenizer

    torch.manual_seed(0)
    texts = [with_draft(e.prompt) + e.completion for e in synth_examples]
    tokenizer = build_tokenizer(texts, vocab_size=300)
    path = tmp_path_factory.mktemp("base")
    Policy(build_model(tokenizer, "micro"), tokenizer).save(path)
    return path


def lora_sft(tmp_path, base_dir, **changes) -> SFTConfig:
    """Two steps of a rank-4 adapter over the micro base, a checkpoint after each."""
    settings = dict(
        output_dir=str(tmp_path / "sft"), base_model=str(base_dir), lora_rank=4, max_steps=2, batch_size=2
    )
    return SFTConfig(**{**settings, "save_every": 1, **changes})


def test_a_drafted_checkpoint_is_read_with_drafts_through_sft_grpo_export_and_editor(
    tmp_path, synth_examples, synth_samples, base_dir, one_grpo_step
):
    from harness.types import EditRequest
    from imageedit_r1.editor import ImageEditR1Editor
    from imageedit_r1.policy import Policy, export_checkpoint, load_policy
    from imageedit_r1.training.sft import train_sft

    sft = train_sft(synth_examples, lora_sft(tmp_path, base_dir, rule_draft=True))
    assert sft["rule_draft"] is True and math.isfinite(sft["final_loss"])
    assert reads_drafts(tmp_path / "sft" / "final") and reads_drafts(tmp_path / "sft" / "checkpoint-1")
    assert not reads_drafts(base_dir)
    policy = load_policy(tmp_path / "sft" / "final", device="cpu")
    assert policy.draft and policy.observe(PROMPT) == with_draft(PROMPT)
    # generation reads every prompt through the draft: the same as an undrafted reader given drafts
    plain = Policy(policy.model, policy.tokenizer)
    prompts = [e.prompt for e in synth_examples[:2]]
    assert policy.generate(prompts, max_new_tokens=6) == plain.generate(
        [with_draft(p) for p in prompts], max_new_tokens=6
    )

    grpo = one_grpo_step(
        synth_examples, tmp_path / "sft" / "final", tmp_path / "grpo", max_completion_length=8
    )
    assert grpo["rule_draft"] is True and reads_drafts(tmp_path / "grpo" / "final")
    shipped = export_checkpoint(tmp_path / "grpo" / "final", tmp_path / "export", {"stages": ["sft", "grpo"]})
    assert reads_drafts(shipped)

    editor = ImageEditR1Editor(arg=str(shipped), device="cpu", max_new_tokens=8, replans=0)
    assert editor.config()["rule_draft"] is True
    sample = synth_samples[1]
    result = editor.edit([EditRequest(sample.id, sample.source, sample.instruction)])[0]
    plan_step = next(step for step in result.trace if step.tool == "plan")
    assert plan_step.arguments["rule_draft"] == draft_line(sample.instruction)


def test_resuming_sft_with_another_prompt_format_is_refused(tmp_path, synth_examples, base_dir):
    from imageedit_r1.training.sft import train_sft

    config = lora_sft(tmp_path, base_dir)
    train_sft(synth_examples, config)
    from imageedit_r1.editor import ImageEditR1Editor

    # an undrafted checkpoint's editor config is as before drafts existed (its cache keys hold)
    assert "rule_draft" not in ImageEditR1Editor(arg=str(tmp_path / "sft" / "final")).config()
    resumed = SFTConfig(**{**config.__dict__, "resume_from": str(tmp_path / "sft" / "checkpoint-1")})
    with pytest.raises(ValueError, match="without rule drafts; resume it without --rule-draft"):
        train_sft(synth_examples, SFTConfig(**{**resumed.__dict__, "rule_draft": True}))
    with pytest.raises(ValueError, match="channel model reads none"):
        train_sft(
            synth_examples, SFTConfig(**{**config.__dict__, "objective": "channel", "rule_draft": True})
        )


def test_a_corrupt_marker_is_a_load_error(tmp_path, base_dir):
    import shutil

    from imageedit_r1.policy import PolicyLoadError, load_policy

    copy = tmp_path / "model"
    shutil.copytree(base_dir, copy)
    (copy / OBSERVATION_FILE).write_text("[")
    with pytest.raises(PolicyLoadError, match="not readable JSON"):
        load_policy(copy, device="cpu")
