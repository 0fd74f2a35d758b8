import json

from typer.testing import CliRunner

from harness.cli.main import app
from imageedit_r1.training.logs import last_json


def test_train_commands_are_registered():
    result = CliRunner().invoke(app, ["train", "--help"])
    assert result.exit_code == 0
    for command in ("sft", "grpo", "eval", "pipeline"):
        assert command in result.output


def test_grpo_with_a_missing_checkpoint_fails_with_one_line(tmp_path):
    missing = tmp_path / "nowhere"
    result = CliRunner().invoke(
        app,
        [
            "train",
            "grpo",
            "--init",
            str(missing),
            "--out",
            str(tmp_path / "out"),
            "--synth",
            "2",
            "--photo",
            "0",
            "--workers",
            "1",
            "--steps",
            "1",
        ],
    )
    assert result.exit_code == 2
    assert f"no checkpoint at {missing}" in result.output


def test_sft_with_an_unknown_schedule_or_no_decay_steps_fails_with_one_line(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["train", "sft", "--lr-schedule", "linear", "--out", str(out)])
    assert result.exit_code == 2
    assert "error: --lr-schedule must be one of cosine, wsd, got 'linear'" in result.output
    result = CliRunner().invoke(
        app, ["train", "sft", "--lr-schedule", "wsd", "--decay-steps", "0", "--out", str(out)]
    )
    assert result.exit_code == 2 and "error: --decay-steps must be at least 1, got 0" in result.output
    assert not out.exists()


def test_sft_with_an_unknown_objective_fails_with_one_line(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["train", "sft", "--objective", "reverse", "--out", str(out)])
    assert result.exit_code == 2
    assert "error: --objective must be one of plan, channel, got 'reverse'" in result.output
    assert not out.exists()  # refused before any data is built


def test_noise_shares_outside_zero_to_one_fail_with_one_line(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["train", "sft", "--cue-words", "1.5", "--out", str(out)])
    assert result.exit_code == 2
    assert "error: --cue-words must lie between 0 and 1, got 1.5" in result.output
    result = CliRunner().invoke(app, ["train", "pipeline", "--grpo-cue-words", "-0.1", "--out", str(out)])
    assert result.exit_code == 2
    assert "error: --grpo-cue-words must lie between 0 and 1, got -0.1" in result.output
    result = CliRunner().invoke(app, ["train", "pipeline", "--grpo-scale-rewards", "std", "--out", str(out)])
    assert result.exit_code == 2
    assert "error: --grpo-scale-rewards must be one of group, batch, none, got 'std'" in result.output
    assert not out.exists()


def test_pipeline_into_a_run_with_other_settings_fails_with_one_line(tmp_path):
    import json
    from dataclasses import asdict

    from imageedit_r1.training.pipeline import PipelineConfig

    out = tmp_path / "run"
    out.mkdir()
    # the command's defaults, but with GRPO's learning rate at 1e-4
    defaults = dict(grpo_lr=1e-4, grpo_samples=600, prompts_per_step=8, rewards=("exact",), baselines=())
    earlier = asdict(PipelineConfig(out=str(out), **defaults))
    results = {"config": earlier, "stages": {"data": {"sft_plans": 1}}}
    (out / "results.json").write_text(json.dumps(results))
    recorded = (out / "results.json").read_text()
    command = ["train", "pipeline", "--out", str(out), "--reward", "exact", "--baseline", "none"]
    result = CliRunner().invoke(app, [*command, "--grpo-lr", "0.001"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0] == (
        f"error: {out} holds a pipeline run with other settings (grpo_lr: 0.0001 -> 0.001); "
        "rerun with its settings to resume it, or use another --out"
    )
    assert (out / "results.json").read_text() == recorded  # the earlier record is untouched


def test_sft_resume_latest_continues_from_the_newest_checkpoint(tmp_path):
    from safetensors.torch import load_file

    out = tmp_path / "sft"
    args = ["train", "sft", "--out", str(out), "--model-size", "micro", "--synth", "24", "--photo", "0"]
    args += ["--max-steps", "6", "--batch-size", "4", "--word-noise", "0.2", "--workers", "1"]
    args += ["--save-every", "2", "--keep-checkpoints", "1", "--resume", "latest"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "no complete checkpoint in --out: fresh start" in first.output
    # the printed summary is kept with the run, with what a rerun has to match
    kept = json.loads((out / "summary.json").read_text())
    assert (
        kept == last_json(first.output) and kept["steps"] == 6 and "torch" in kept["environment"]["packages"]
    )
    # checkpoints at steps 2 and 4; only the newest is kept
    assert sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-4"]
    whole = load_file(out / "final" / "model.safetensors")

    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0
    assert f"already finished: {out / 'final'}" in again.output

    # as if killed after step 4: the rerun resumes there and ends where the whole run ended
    import shutil

    shutil.rmtree(out / "final")
    resumed = CliRunner().invoke(app, args)
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming from {out / 'checkpoint-4'}" in resumed.output
    again_weights = load_file(out / "final" / "model.safetensors")
    assert whole.keys() == again_weights.keys()
    for name, tensor in whole.items():
        assert (tensor == again_weights[name]).all(), name


def test_sft_export_writes_the_shipped_form_with_its_options_on_the_card(tmp_path):
    from safetensors.torch import load_file

    from imageedit_r1.editor import ImageEditR1Editor
    from imageedit_r1.policy import load_policy

    out, export = tmp_path / "sft", tmp_path / "ship"
    args = ["train", "sft", "--out", str(out), "--model-size", "micro", "--synth", "24", "--photo", "0"]
    args += ["--max-steps", "2", "--batch-size", "4", "--workers", "1", "--seed", "3"]
    args += ["--export", str(export), "--resume", "latest"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert f"exported {export} (" in result.output
    weights = load_file(export / "model.safetensors")
    assert weights and {str(t.dtype) for t in weights.values()} == {"torch.float16"}
    assert not list(export.glob("*.pt"))  # no optimizer or trainer state
    card = json.loads((export / "imageedit_r1.json").read_text())
    assert card["stages"] == ["sft"] and card["smoke"] is True  # the micro size is a smoke-test model
    assert card["config"]["max_steps"] == 2 and card["config"]["seed"] == 3
    assert not {"out", "export", "resume", "workers"} & set(card["config"])
    # the exported copy holds the final weights (to float16 precision) and loads as an editor
    final = load_file(out / "final" / "model.safetensors")
    for name, tensor in weights.items():
        assert (tensor.float() - final[name].float()).abs().max() <= 1e-2 * final[name].abs().max() + 1e-6
    assert load_policy(export, device="cpu") is not None
    assert ImageEditR1Editor.unavailable_reason(str(export)) is None
    # its edits carry the card's smoke tag, which keeps them off leaderboards
    from harness.suites.synth_edit.suite import make_sample
    from harness.types import EditRequest

    sample = make_sample(0, "test", 0)
    editor = ImageEditR1Editor(arg=str(export), device="cpu", max_new_tokens=8, replans=0)
    edited = editor.edit([EditRequest(sample.id, sample.source, sample.instruction)])[0]
    assert edited.smoke is True and edited.status in ("ok", "error")

    # a finished run exports on a rerun when the copy is missing, and trains nothing
    import shutil

    shutil.rmtree(export)
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert f"already finished: {out / 'final'}" in again.output and (export / "imageedit_r1.json").is_file()


def test_the_pipelines_sft_stage_is_ieval_train_sft_with_the_same_options(tmp_path):
    """Same data, order, noise and seed: on the CPU the two paths end with identical weights, so a
    difference between GPU runs of one recipe is the GPU's arithmetic, not the code path."""
    from safetensors.torch import load_file

    common = ["--model-size", "micro", "--word-noise", "0.4", "--keep-relations", "--workers", "1"]
    common += ["--seed", "5"]
    alone = ["train", "sft", "--out", str(tmp_path / "alone"), "--synth", "24", "--photo", "4"]
    alone += ["--max-steps", "3", "--batch-size", "4", "--lr", "1e-3", *common]
    piped = ["train", "pipeline", "--out", str(tmp_path / "piped"), "--sft-synth", "24", "--sft-photo", "4"]
    piped += ["--sft-steps", "3", "--sft-batch", "4", "--sft-lr", "1e-3", *common]
    piped += ["--reward", "none", "--baseline", "none", "--test-synth", "4", "--test-photo", "0"]
    piped += ["--grpo-synth", "4"]
    for args in (alone, piped):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    first = load_file(tmp_path / "alone" / "final" / "model.safetensors")
    second = load_file(tmp_path / "piped" / "sft" / "final" / "model.safetensors")
    assert first.keys() == second.keys()
    for name, tensor in first.items():
        assert tensor.equal(second[name]), name
