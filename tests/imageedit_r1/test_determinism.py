"""Deterministic kernels: on for the length of a training stage when asked, the process's own
settings back afterwards, recorded in the stage's summary; the repeatability bench."""

import json
import os

import pytest
import torch

from imageedit_r1.training import sft as sft_module
from imageedit_r1.training.determinism import (
    CUBLAS_VARIABLE,
    CUBLAS_WORKSPACE,
    deterministic_kernels,
    prepare_environment,
)
from imageedit_r1.training.sft import SFTConfig, train_sft


def _settings():
    return (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.benchmark,
        torch.backends.cudnn.deterministic,
        os.environ.get(CUBLAS_VARIABLE),
    )


def test_kernels_are_deterministic_inside_and_restored_after(monkeypatch):
    monkeypatch.delenv(CUBLAS_VARIABLE, raising=False)
    before = _settings()
    assert before[0] is False and before[4] is None
    with deterministic_kernels(True):
        assert _settings() == (True, False, False, True, CUBLAS_WORKSPACE)
    assert _settings() == before


def test_restored_after_an_error_and_a_set_workspace_is_kept(monkeypatch):
    monkeypatch.setenv(CUBLAS_VARIABLE, ":16:8")
    torch.use_deterministic_algorithms(True, warn_only=True)  # the process had its own setting
    try:
        with pytest.raises(RuntimeError, match="inside"):
            with deterministic_kernels(True):
                assert _settings()[:2] == (True, False)
                assert os.environ[CUBLAS_VARIABLE] == ":16:8"
                raise RuntimeError("inside")
        assert _settings()[:2] == (True, True)
        assert os.environ[CUBLAS_VARIABLE] == ":16:8"
    finally:
        torch.use_deterministic_algorithms(False)


def test_disabled_changes_nothing(monkeypatch):
    monkeypatch.delenv(CUBLAS_VARIABLE, raising=False)
    before = _settings()
    with deterministic_kernels(False):
        assert _settings() == before
    prepare_environment(False)
    assert CUBLAS_VARIABLE not in os.environ
    prepare_environment(True)
    assert os.environ[CUBLAS_VARIABLE] == CUBLAS_WORKSPACE


def _record_flag_per_batch(monkeypatch) -> list[bool]:
    seen: list[bool] = []
    collate = sft_module.collate

    def recording(batch, pad_id):
        seen.append(torch.are_deterministic_algorithms_enabled())
        return collate(batch, pad_id)

    monkeypatch.setattr(sft_module, "collate", recording)
    return seen


@pytest.mark.parametrize("deterministic", [True, False])
def test_sft_trains_with_the_setting_asked_for(tmp_path, monkeypatch, synth_examples, deterministic):
    seen = _record_flag_per_batch(monkeypatch)
    config = SFTConfig(
        output_dir=str(tmp_path / "sft"),
        model_size="micro",
        max_steps=3,
        batch_size=4,
        warmup_steps=1,
        vocab_size=400,
        deterministic=deterministic,
    )
    summary = train_sft(synth_examples, config)
    assert seen == [deterministic] * 3  # every training batch
    assert summary["deterministic"] is deterministic
    assert torch.are_deterministic_algorithms_enabled() is False  # the process's setting again
    # what a rerun has to match: code, packages (training ones too), machine
    stack = summary["environment"]
    assert stack["packages"]["torch"] == torch.__version__.split("+")[0]  # the wheel's local tag left out
    assert {"transformers", "peft", "accelerate"} <= stack["packages"].keys()
    assert stack["code"]["ieval"] and stack["device"]["cpu_count"] == os.cpu_count()


def test_grpo_trains_with_deterministic_kernels(tmp_path, monkeypatch, synth_samples, synth_examples):
    pytest.importorskip("trl")
    from imageedit_r1 import rewards
    from imageedit_r1.rollouts import RolloutPool
    from imageedit_r1.toolbox import default_toolbox
    from imageedit_r1.training.grpo import GRPORunConfig, train_grpo

    sft_dir = tmp_path / "sft"
    train_sft(
        synth_examples,
        SFTConfig(output_dir=str(sft_dir), model_size="micro", max_steps=2, batch_size=4, vocab_size=400),
    )
    seen: list[bool] = []
    call = rewards.MultiSuiteReward.__call__

    def recording(self, *args, **kwargs):
        seen.append(torch.are_deterministic_algorithms_enabled())
        return call(self, *args, **kwargs)

    monkeypatch.setattr(rewards.MultiSuiteReward, "__call__", recording)
    pool = RolloutPool({s.id: s for s in synth_samples}, default_toolbox, workers=0)
    config = GRPORunConfig(
        output_dir=str(tmp_path / "grpo"),
        init_checkpoint=str(sft_dir / "final"),
        max_steps=2,
        prompts_per_step=2,
        num_generations=2,
        max_completion_length=8,
        logging_steps=1,
        deterministic=True,
    )
    summary = train_grpo(synth_examples, pool, config)
    assert summary["steps"] == 2 and summary["deterministic"] is True
    assert "trl" in summary["environment"]["packages"]
    assert seen == [True, True]  # the reward of each step ran inside the deterministic block
    assert torch.are_deterministic_algorithms_enabled() is False


def test_repeatability_bench_compares_runs_of_each_mode(tmp_path, run_bench):
    report_path = tmp_path / "report.json"
    sft = ["--model-size", "micro", "--synth", "24", "--photo", "0", "--max-steps", "3"]
    sft += ["--batch-size", "4", "--workers", "1"]
    run_bench("r1_repeatability.py", "--out", tmp_path / "runs", "--json", report_path, "--", *sft)
    report = json.loads(report_path.read_text())
    assert set(report["modes"]) == {"default", "deterministic"}
    for mode in report["modes"].values():
        # on the CPU both modes repeat exactly: same losses, same weights
        (comparison,) = mode["against_first"]
        assert comparison["identical"] is True and comparison["max_abs_diff"] == 0.0
        assert comparison["first_loss_difference"] is None and comparison["loss_steps_compared"] == 1
        assert len(mode["seconds"]) == 2 and mode["final_loss"][0] == mode["final_loss"][1]
    assert report["deterministic_over_default_seconds"] > 0
    # the plans were built once and read by the other three runs
    assert (tmp_path / "runs" / "plans.pkl").is_file()
    assert sorted(p.name for p in (tmp_path / "runs").iterdir() if p.is_dir()) == [
        "default_1",
        "default_2",
        "deterministic_1",
        "deterministic_2",
    ]


def test_repeatability_bench_refuses_options_it_sets(tmp_path, run_bench):
    done = run_bench("r1_repeatability.py", "--out", tmp_path, "--", "--seed", "3", expect=2)
    assert "--seed is set by the bench" in done.stderr
    done = run_bench("r1_repeatability.py", "--out", tmp_path, "--runs", "1", expect=2)
    assert "--runs must be at least 2" in done.stderr
