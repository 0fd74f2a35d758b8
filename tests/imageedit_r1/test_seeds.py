"""`ieval train seeds`: several seeds of one training command, each in its own run directory."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from imageedit_r1.training.seeds import SeedsError, check_stage_args, parse_seeds, slots, stage_command


def test_seed_lists_slots_and_owned_options():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("5, 1,1-2") == [1, 2, 5]
    with pytest.raises(SeedsError, match="written like 0,1,2 or 0-3"):
        parse_seeds("one")
    assert slots(2, 2) == ["0", "0", "1", "1"] and slots(0, 3) == ["", "", ""]
    with pytest.raises(SeedsError, match="at least 1"):
        slots(1, 0)
    # runs of several GPUs each (branch --parallel-arms): whole groups, a left-over GPU stays idle
    assert slots(4, 1, 2) == ["0,1", "2,3"] and slots(5, 1, 2) == ["0,1", "2,3"]
    assert slots(0, 1, 2) == [""]
    with pytest.raises(SeedsError, match="needs at least as many GPUs; 1 given"):
        slots(1, 1, 2)
    with pytest.raises(SeedsError, match="not both"):
        slots(4, 2, 2)
    with pytest.raises(SeedsError, match="--seed is set per seed"):
        check_stage_args("sft", ["--synth", "8", "--seed", "3"])
    with pytest.raises(SeedsError, match="--out is set per seed"):
        check_stage_args("pipeline", ["--out=/tmp/x"])
    with pytest.raises(SeedsError, match="stage must be one of sft, grpo, pipeline"):
        check_stage_args("eval", [])
    # each seed's shippable copy goes to its own directory, in either spelling of the option
    exported = stage_command("sft", ["--export", "/ship", "--synth", "8"], 4, Path("/r/seed_4"))
    assert exported[5:8] == ["--export", "/ship/seed_4", "--synth"]
    assert stage_command("sft", ["--export=/ship"], 2, Path("/r/seed_2"))[5] == "--export=/ship/seed_2"
    command = stage_command("sft", ["--synth", "8"], 4, Path("/r/seed_4"))
    assert command[1:] == [
        "-m",
        "harness.cli.main",
        "train",
        "sft",
        "--synth",
        "8",
        "--seed",
        "4",
        "--out",
        "/r/seed_4",
    ]


def test_seeds_run_side_by_side_and_a_rerun_skips_finished_ones(tmp_path):
    """Two micro SFT seeds on the CPU (their data, 24 plans with the noisy copies, is smaller than
    one batch of 64): both finish, their weights differ, and the same command again skips both."""
    from safetensors.torch import load_file

    out = tmp_path / "sweep"
    stage = ["--synth", "8", "--photo", "0", "--model-size", "micro", "--max-steps", "2", "--workers", "1"]
    stage += ["--export", str(tmp_path / "ship")]
    command = ["train", "seeds", "sft", "--seeds", "0-1", "--gpus", "0", "--per-gpu", "2", "--out", str(out)]
    result = CliRunner().invoke(app, [*command, "--", *stage])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "seeds.json").read_text())
    assert [(r["seed"], r["status"], r["returncode"]) for r in summary["runs"]] == [
        (0, "ok", 0),
        (1, "ok", 0),
    ]
    assert summary["args"] == stage
    weights = [load_file(out / f"seed_{s}" / "final" / "model.safetensors") for s in (0, 1)]
    assert any(not weights[0][name].equal(weights[1][name]) for name in weights[0])
    cards = [json.loads((tmp_path / "ship" / f"seed_{s}" / "imageedit_r1.json").read_text()) for s in (0, 1)]
    assert [card["config"]["seed"] for card in cards] == [0, 1]
    stamp = (out / "seed_0" / "final" / "model.safetensors").stat().st_mtime_ns

    again = CliRunner().invoke(app, [*command, "--", *stage])
    assert again.exit_code == 0
    rerun = json.loads((out / "seeds.json").read_text())["runs"]
    assert [r["status"] for r in rerun] == ["skipped"] * 2
    # the summary still says how long each finished seed took
    assert [r["seconds"] for r in rerun] == [r["seconds"] for r in summary["runs"]]
    assert all(r["seconds"] > 0 for r in rerun)
    assert (out / "seed_0" / "final" / "model.safetensors").stat().st_mtime_ns == stamp


def test_a_failing_seed_is_recorded_and_the_sweep_exits_non_zero(tmp_path):
    out = tmp_path / "sweep"
    command = ["train", "seeds", "sft", "--seeds", "7", "--gpus", "0", "--out", str(out)]
    result = CliRunner().invoke(app, [*command, "--", "--objective", "reverse"])
    assert result.exit_code == 1
    assert "error: 1 of 1 seeds failed; see their logs" in result.output
    run = json.loads((out / "seeds.json").read_text())["runs"][0]
    assert (run["seed"], run["status"], run["returncode"]) == (7, "failed", 2)
    assert "--objective must be one of plan, channel" in (out / "seed_7.log").read_text()
    assert not (out / "seed_7" / ".done").exists()
    # a retry runs the seed again and adds to its log: the first attempt's error stays readable
    CliRunner().invoke(app, [*command, "--", "--objective", "backwards"])
    log = (out / "seed_7.log").read_text()
    assert log.count("=== ") == 2 and "--seed 7" in log.splitlines()[0]
    assert "got 'reverse'" in log and "got 'backwards'" in log


def test_bad_seed_arguments_are_one_line_and_exit_2(tmp_path):
    out = tmp_path / "sweep"
    result = CliRunner().invoke(app, ["train", "seeds", "sft", "--seeds", "x", "--out", str(out)])
    assert result.exit_code == 2 and "error: seeds are written like 0,1,2 or 0-3; got 'x'" in result.output
    result = CliRunner().invoke(
        app, ["train", "seeds", "sft", "--seeds", "0", "--out", str(out), "--", "--seed", "1"]
    )
    assert result.exit_code == 2 and "error: --seed is set per seed by the launcher" in result.output
    result = CliRunner().invoke(
        app,
        [
            "train",
            "seeds",
            "branch",
            "--seeds",
            "0-1",
            "--out",
            str(out),
            "--gpus",
            "1",
            "--gpus-per-run",
            "2",
        ],
    )
    assert result.exit_code == 2
    assert result.output == "error: --gpus-per-run 2 needs at least as many GPUs; 1 given\n"
    assert not out.exists()
