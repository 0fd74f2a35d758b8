from typer.testing import CliRunner

from harness.cli.main import app


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
    assert not out.exists()
