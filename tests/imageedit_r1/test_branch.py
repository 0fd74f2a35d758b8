"""`ieval train branch`: a long SFT arm, a short arm from its checkpoint K, GRPO for the seconds
left; resumable stage by stage, with one-line errors for settings that cannot branch."""

import json

import pytest

pytest.importorskip("trl")

from typer.testing import CliRunner  # noqa: E402

from harness.cli.main import app  # noqa: E402

SFT = "--model-size micro --synth 8 --photo 0 --batch-size 4 --workers 1"
GRPO = "--synth 4 --photo 0 --prompts-per-step 2 --generations 2 --steps 3 --workers 1"


def branch(out, *extra, grpo=GRPO):
    command = ["train", "branch", "--out", str(out), "--max-steps", "8", "--branch-at", "4"]
    command += ["--decay-steps", "2", "--save-every", "2", "--sft", SFT, "--grpo", grpo, *extra]
    return CliRunner().invoke(app, command)


def state(path):
    import torch

    return torch.load(path / "trainer_state.pt", map_location="cpu", weights_only=False)


LONGER = 2.0


@pytest.fixture
def slower_long_arm(monkeypatch):
    """The long arm's final checkpoint reads LONGER seconds later than recorded: micro steps take
    milliseconds, so on a busy host the real seconds could put the short arm behind the long one."""
    import imageedit_r1.training.branch as branch_module

    real = branch_module.checkpoint_seconds

    def seconds(path):
        return real(path) + (LONGER if path.parent.name == "long" and path.name == "final" else 0.0)

    monkeypatch.setattr(branch_module, "checkpoint_seconds", seconds)


def test_two_arms_from_one_checkpoint_with_the_seconds_matched_and_a_resume_per_stage(
    tmp_path, slower_long_arm
):
    from imageedit_r1.editor import checkpoint_problem
    from imageedit_r1.policy import read_card

    out = tmp_path / "run"
    result = branch(out)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "branch.json").read_text())
    stages = summary["stages"]
    assert state(out / "long" / "final")["step"] == 8 and state(out / "short" / "final")["step"] == 6
    # of the long arm's checkpoints only the shared one stays once the arm is final
    assert sorted(p.name for p in (out / "long").glob("checkpoint-*")) == ["checkpoint-4"]
    assert (out / "long" / "checkpoint-4" / "trainer_state.pt").is_file()
    assert stages["short"]["branched_from"] == str(out / "long" / "checkpoint-4")
    # the long arm built the training plans, the short arm read them back
    assert f"read from {out / 'sft_plans.pkl'})" in (out / "short.log").read_text()
    assert "read from" not in (out / "long.log").read_text()
    # both arms count their seconds from the shared checkpoint's
    at_branch = state(out / "long" / "checkpoint-4")["seconds"]
    assert stages["long"]["seconds_at_branch"] == at_branch
    long_after = state(out / "long" / "final")["seconds"] + LONGER - at_branch
    assert stages["long"]["after_branch"] == pytest.approx(long_after)
    assert stages["short"]["after_branch"] == pytest.approx(
        state(out / "short" / "final")["seconds"] - at_branch
    )
    # GRPO gets what the long arm spent after the branch beyond the short SFT (it stops at the
    # first step that ends past it, so it trains at least one step)
    budget = stages["long"]["after_branch"] - stages["short"]["after_branch"]
    assert stages["grpo"]["seconds_budget"] == pytest.approx(budget)
    assert stages["grpo"]["steps"] >= 1 and stages["grpo"]["seconds"] > 0
    assert summary["after_branch"]["sft_alone"] == stages["long"]["after_branch"]
    for arm in ("long", "short", "grpo"):
        exported = out / "export" / arm
        assert checkpoint_problem(str(exported)) is None
        assert read_card(exported)["smoke"] is True  # a micro model
    assert read_card(out / "export" / "grpo")["stages"] == ["sft", "grpo"]
    line = json.loads(result.output.strip().splitlines()[-1])
    assert line["summary"] == str(out / "branch.json") and line["sft_alone"] == stages["long"]["after_branch"]

    # a rerun finds every stage recorded and trains nothing
    weights = out / "export" / "grpo" / "model.safetensors"
    before = weights.stat().st_mtime_ns
    again = branch(out)
    assert again.exit_code == 0, again.output
    assert weights.stat().st_mtime_ns == before
    assert json.loads((out / "branch.json").read_text())["stages"] == stages

    # killed during GRPO: the SFT arms are kept, GRPO runs again and is recorded
    summary["stages"].pop("grpo")
    (out / "branch.json").write_text(json.dumps(summary))
    resumed = branch(out)
    assert resumed.exit_code == 0, resumed.output
    assert json.loads((out / "branch.json").read_text())["stages"]["grpo"]["steps"] >= 1
    assert (out / "long.log").read_text().count("\n=== ") == 1  # the long arm ran once
    assert (out / "grpo.log").read_text().count("\n=== ") == 2

    # other settings into the same directory: refused, nothing run
    other = branch(out, "--seed", "1")
    assert other.exit_code == 2 and "holds a branch run with other settings" in other.output


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--branch-at", "3"], "--branch-at 3 is no multiple of --save-every 2"),
        (["--decay-steps", "4"], "--branch-at 4 + --decay-steps 4 must stay below --max-steps 8"),
        (["--sft", "--max-steps 5"], "--max-steps is set by the branch; leave it out of --sft"),
        (["--sft", "--data-cache /tmp/x"], "--data-cache is set by the branch; leave it out of --sft"),
        (["--grpo", "--seconds=5"], "--seconds is set by the branch; leave it out of --grpo"),
        (["--grpo-seconds", "0"], "--grpo-seconds must be positive"),
        (["--parallel-arms"], "--parallel-arms needs --grpo-seconds: GRPO starts while the long arm trains"),
    ],
)
def test_settings_that_cannot_branch_are_one_line_errors(tmp_path, extra, message):
    result = branch(tmp_path / "run", *extra)
    assert result.exit_code == 2
    assert result.output == f"error: {message}" + result.output.split(message, 1)[1]
    assert result.output.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_a_sweep_accepts_the_branch_stage():
    from imageedit_r1.training.seeds import SeedsError, check_stage_args

    check_stage_args("branch", ["--max-steps", "8", "--branch-at", "4"])
    with pytest.raises(SeedsError, match="--seed is set per seed"):
        check_stage_args("branch", ["--seed", "3"])


def test_grpo_seconds_may_be_set_on_a_rerun_while_grpo_has_not_run(tmp_path, monkeypatch):
    """An arm that leaves no seconds stops with one line; a rerun with --grpo-seconds finishes it,
    keeping both SFT arms."""
    import imageedit_r1.training.branch as branch_module

    real = branch_module.checkpoint_seconds
    # the short SFT reads as slower than the long arm's last steps (as on a busy host)
    monkeypatch.setattr(
        branch_module,
        "checkpoint_seconds",
        lambda path: real(path) + (100.0 if path.parent.name == "short" else 0.0),
    )
    out = tmp_path / "run"
    unbounded = GRPO.replace("--steps 3 ", "")  # no step count: the seconds alone bound GRPO
    stopped = branch(out, grpo=unbounded)
    assert stopped.exit_code == 2 and "no seconds are left for GRPO" in stopped.output
    assert set(json.loads((out / "branch.json").read_text())["stages"]) == {"long", "short"}
    finished = branch(out, "--grpo-seconds", "0.5", grpo=unbounded)
    assert finished.exit_code == 0, finished.output
    summary = json.loads((out / "branch.json").read_text())
    assert summary["config"]["grpo_seconds"] == 0.5 and summary["stages"]["grpo"]["seconds_budget"] == 0.5
    assert (out / "long.log").read_text().count("\n=== ") == 1
    command = (out / "grpo.log").read_text().split("\n=== ", 1)[1].splitlines()[0]
    assert " --steps 1000000 " in command and command.endswith(
        f"--seconds 0.500 --seed 0 --out {out / 'grpo'}"
    )
    # once GRPO has run, its seconds are part of the record
    changed = branch(out, "--grpo-seconds", "0.7", grpo=unbounded)
    assert changed.exit_code == 2 and "other settings" in changed.output


def test_parallel_arms_run_the_short_arm_and_grpo_on_the_second_device(tmp_path, monkeypatch):
    """With --parallel-arms each arm's stages see their own device; the records are those of the
    sequential design, with GRPO's seconds as given."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")  # no such GPUs here: the stages run on the CPU
    out = tmp_path / "run"
    result = branch(out, "--parallel-arms", "--grpo-seconds", "0.5")
    assert result.exit_code == 0, result.output
    assert "parallel arms on devices 5 and 7" in result.output
    summary = json.loads((out / "branch.json").read_text())
    stages = summary["stages"]
    assert summary["config"]["parallel_arms"] is True
    assert set(stages) == {"long", "short", "grpo"} and stages["grpo"]["seconds_budget"] == 0.5
    assert state(out / "long" / "final")["step"] == 8 and state(out / "short" / "final")["step"] == 6
    assert sorted(p.name for p in (out / "long").glob("checkpoint-*")) == ["checkpoint-4"]
    at_branch = state(out / "long" / "checkpoint-4")["seconds"]
    assert stages["short"]["after_branch"] == pytest.approx(
        state(out / "short" / "final")["seconds"] - at_branch
    )
    assert stages["long"]["after_branch"] == pytest.approx(
        state(out / "long" / "final")["seconds"] - at_branch
    )
    for stage, device in (("long", "5"), ("short", "7"), ("grpo", "7")):
        header = (out / f"{stage}.log").read_text().split("\n=== ", 1)[1].splitlines()[0]
        assert f" CUDA_VISIBLE_DEVICES={device} " in header
    assert all((out / "export" / arm / "model.safetensors").is_file() for arm in ("long", "short", "grpo"))
    # a rerun finds every stage recorded; the sequential design on the same --out is another setting
    assert branch(out, "--parallel-arms", "--grpo-seconds", "0.5").exit_code == 0
    assert (out / "long.log").read_text().count("\n=== ") == 1
    other = branch(out, "--grpo-seconds", "0.5")
    assert other.exit_code == 2 and "holds a branch run with other settings" in other.output


def test_the_other_arm_waits_for_the_checkpoint_not_for_the_long_arm(tmp_path):
    import subprocess
    import sys

    from imageedit_r1.training.branch import wait_for_checkpoint

    marker = tmp_path / "checkpoint-4" / "trainer_state.pt"
    write_then_train = (
        "import pathlib, sys, time; time.sleep(0.3); p = pathlib.Path(sys.argv[1]); "
        "p.parent.mkdir(); p.write_text('x'); time.sleep(30)"
    )
    process = subprocess.Popen([sys.executable, "-c", write_then_train, str(marker)])
    try:
        assert wait_for_checkpoint(process, marker, poll=0.05) is True
        assert process.poll() is None  # the long arm still trains
    finally:
        process.kill()
        process.wait()
    # a long arm that ends without writing it: False, no hang
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    assert wait_for_checkpoint(ended, tmp_path / "never" / "trainer_state.pt", poll=0.05) is False


def test_arm_devices_take_the_first_two_visible_devices():
    from imageedit_r1.training.branch import arm_devices

    assert arm_devices("3, 1,2", 3) == ("3", "1")
    assert arm_devices(None, 2) == ("0", "1")
    assert arm_devices("2", 1) == (None, None)  # one device: both arms share it
    assert arm_devices(None, 0) == (None, None)  # the CPU


def test_a_failing_grpo_arm_stops_the_long_arm_beside_it(tmp_path):
    """With --parallel-arms, GRPO failing ends the command with one line and stops the long arm,
    which a rerun would resume from its newest checkpoint."""
    out = tmp_path / "run"
    command = ["train", "branch", "--out", str(out), "--max-steps", "20000", "--branch-at", "100"]
    command += ["--decay-steps", "2", "--save-every", "100", "--parallel-arms", "--grpo-seconds", "1"]
    command += ["--sft", SFT, "--grpo", GRPO + " --reward no-such-reward"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1
    assert f"error: grpo stage failed (exit 1); see {out / 'grpo.log'}" in result.output
    # the long arm (20,000 micro steps) was stopped long before its end, and is not recorded
    assert not (out / "long" / "final").exists()
    assert (out / "long" / "checkpoint-100" / "trainer_state.pt").is_file()
    assert set(json.loads((out / "branch.json").read_text())["stages"]) == {"short"}


def test_a_stage_that_ran_out_of_gpu_memory_says_so_and_how_to_go_on(tmp_path):
    from imageedit_r1.training.branch import _failed

    log = tmp_path / "short.log"
    log.write_text(
        "step 20 ...\n"
        * 3000  # a long log: the sign is read from its end
        + "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 30.00 MiB. GPU 0 has a total "
        "capacity of 139.80 GiB of which 21.19 MiB is free.\n",
        encoding="utf-8",
    )
    error = _failed(["sft", "--max-steps", "400"], 1, log)
    assert error.exit_code == 1
    assert str(error) == (
        f"sft stage failed (exit 1); see {log}: the GPU ran out of memory (other runs on it hold memory "
        "too); start fewer runs on it at once or allow --oom-retries, then run this command again to resume from "
        "the newest checkpoints"
    )
    other = tmp_path / "grpo.log"
    other.write_text("ValueError: unknown reward\n", encoding="utf-8")
    assert str(_failed(["grpo"], 1, other)) == f"grpo stage failed (exit 1); see {other}"
    assert str(_failed(["grpo"], 1, tmp_path / "missing.log")).endswith("missing.log")


def test_last_json_finds_the_summary_not_an_object_nested_in_it():
    from imageedit_r1.training.logs import last_json

    summary = {"steps": 3, "environment": {"device": {"gpus": ["X"]}, "packages": {"torch": "2"}}}
    printed = "GRPO on 4 prompts\n{ not json\n" + json.dumps(summary, indent=1) + "\n"
    assert last_json(printed) == summary
    # a later one-line object (what `ieval train branch` prints last) is the last one
    assert last_json(printed + '{"summary": "OUT/branch.json"}\n') == {"summary": "OUT/branch.json"}
    assert last_json(json.dumps(summary, indent=1)) == summary  # at the very start of the text
    # after a progress bar that ended without a newline (stderr and stdout in one log)
    assert last_json("shards: 100%|###| 1/1" + json.dumps(summary, indent=1)) == summary
    assert last_json("no summary\n[1, 2]\n") == {}


OUT_OF_MEMORY_LINE = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 18.00 MiB."


@pytest.fixture
def out_of_memory_once(monkeypatch):
    """The first start of each named stage (by its --out: long, short, grpo) prints what torch prints
    when the GPU is full and exits 1, as a stage beside other runs on one GPU can; later starts run."""
    import sys
    from pathlib import Path

    import imageedit_r1.training.branch as branch_module

    real = branch_module._header
    failing: set[str] = set()

    def header(argv, device):
        command, text = real(argv, device)
        stage = Path(argv[list(argv).index("--out") + 1]).name
        if stage in failing:
            failing.discard(stage)
            command = [sys.executable, "-c", f"print({OUT_OF_MEMORY_LINE!r}); raise SystemExit(1)"]
        return command, text

    monkeypatch.setattr(branch_module, "_header", header)
    return failing


def test_stages_that_ran_out_of_gpu_memory_start_again_when_retries_are_allowed(
    tmp_path, slower_long_arm, out_of_memory_once
):
    out = tmp_path / "run"
    out_of_memory_once.update({"short", "grpo"})
    result = branch(out, "--oom-retries", "1", "--oom-wait", "0")
    assert result.exit_code == 0, result.output
    for stage in ("the short arm", "GRPO"):
        assert (
            f"{stage} ran out of GPU memory; starting it again in 0 s from its newest checkpoint (retry 1 of 1)"
            in result.output
        )
    summary = json.loads((out / "branch.json").read_text())
    assert set(summary["stages"]) == {"long", "short", "grpo"}
    assert summary["config"]["oom_retries"] == 1 and summary["config"]["oom_wait"] == 0.0
    assert state(out / "short" / "final")["step"] == 6 and summary["stages"]["grpo"]["steps"] >= 1
    for stage in ("short", "grpo"):
        log = (out / f"{stage}.log").read_text()
        assert log.count("\n=== ") == 2 and log.count(OUT_OF_MEMORY_LINE) == 1
    assert (out / "long.log").read_text().count("\n=== ") == 1
    # the retry settings are not part of the design: a rerun with others finds every stage recorded
    again = branch(out, "--oom-retries", "3")
    assert again.exit_code == 0, again.output
    assert (out / "short.log").read_text().count("\n=== ") == 2


def test_the_long_arm_beside_the_other_starts_again_after_running_out_of_memory(
    tmp_path, monkeypatch, out_of_memory_once
):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "5,7")  # no such GPUs here: the stages run on the CPU
    out = tmp_path / "run"
    out_of_memory_once.add("long")
    result = branch(out, "--parallel-arms", "--grpo-seconds", "0.5", "--oom-retries", "1", "--oom-wait", "0")
    assert result.exit_code == 0, result.output
    assert "the long arm ran out of GPU memory; starting it again in 0 s" in result.output
    assert state(out / "long" / "final")["step"] == 8
    assert (out / "long.log").read_text().count("\n=== ") == 2
    assert set(json.loads((out / "branch.json").read_text())["stages"]) == {"long", "short", "grpo"}


def test_without_retries_or_when_they_are_spent_the_stage_error_ends_the_branch(
    tmp_path, slower_long_arm, out_of_memory_once
):
    out = tmp_path / "run"
    out_of_memory_once.add("grpo")
    result = branch(out)  # retries are off by default
    assert result.exit_code == 1
    assert "grpo stage failed (exit 1)" in result.output and "the GPU ran out of memory" in result.output
    assert "starting it again" not in result.output
    # retried after running out of memory, GRPO fails for another reason: that is the error, and it
    # is not reported as running out of memory, though the log still holds the first start's report
    out_of_memory_once.add("grpo")
    bad = tmp_path / "bad"
    failing = branch(bad, "--oom-retries", "2", "--oom-wait", "0", grpo=GRPO + " --reward no-such-reward")
    assert failing.exit_code == 1
    assert (
        "GRPO ran out of GPU memory; starting it again in 0 s from its newest checkpoint (retry 1 of 2)"
        in (failing.output)
    )
    assert f"grpo stage failed (exit 1); see {bad / 'grpo.log'}" in failing.output
    assert "the GPU ran out of memory" not in failing.output.split("grpo stage failed", 1)[1]
    assert "retry 2 of 2" not in failing.output
    assert (bad / "grpo.log").read_text().count(OUT_OF_MEMORY_LINE) == 1


def test_negative_retry_settings_are_one_line_errors(tmp_path):
    result = branch(tmp_path / "run", "--oom-retries", "-1")
    assert result.exit_code == 2
    assert result.output == "error: --oom-retries and --oom-wait must not be negative\n"
