"""Training cut short resumes without redoing finished work: SFT and GRPO continue from their newest
complete checkpoint with their step count, time and metrics log; the one-process pipeline, killed
with SIGKILL during GRPO, keeps its finished stages on a rerun and refuses other settings."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import pytest

pytest.importorskip("trl")
pytest.importorskip("datasets")

from imageedit_r1.rollouts import RolloutPool  # noqa: E402
from imageedit_r1.toolbox import default_toolbox  # noqa: E402
from imageedit_r1.training.checkpoints import PROGRESS_FILE, latest_checkpoint, read_progress  # noqa: E402
from imageedit_r1.training.grpo import GRPORunConfig, train_grpo  # noqa: E402
from imageedit_r1.training.pipeline import PipelineConfig, PipelineMismatch, run_pipeline  # noqa: E402
from imageedit_r1.training.sft import STATE_FILE, SFTConfig, train_sft  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _records(run_dir):
    return [json.loads(line) for line in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]


def _steps(run_dir, key="loss"):
    """The steps of the log's per-step records (those with ``key``; not the end-of-run summary)."""
    return [r["step"] for r in _records(run_dir) if key in r]


def _sft_config(out, **changes):
    base = dict(
        output_dir=str(out),
        model_size="micro",
        max_steps=6,
        batch_size=4,
        warmup_steps=1,
        log_every=1,
        vocab_size=400,
        save_every=2,
        keep_checkpoints=1,
    )
    return SFTConfig(**{**base, **changes})


def test_sft_resumed_from_its_newest_checkpoint_ends_where_the_whole_run_ends(tmp_path, synth_examples):
    import torch

    run = tmp_path / "sft"
    # with word noise: 12 rows (4 plans, 2 noisy copies each), 3 steps to a pass of batches of 4
    noisy = dict(word_noise=0.3, learning_rate=1e-2)
    train_sft(synth_examples, _sft_config(run, **noisy))
    assert sorted(p.name for p in run.iterdir() if p.name.startswith("checkpoint-")) == ["checkpoint-4"]
    checkpoint = latest_checkpoint(run, STATE_FILE)
    state = torch.load(checkpoint / STATE_FILE, weights_only=False)
    assert state["step"] == 4 and state["seconds"] > 0
    assert len(state["order"]) == 12 - 4  # step 4 took the first batch of the second pass
    assert _steps(run) == [1, 2, 3, 4, 5, 6]
    losses = [r["loss"] for r in _records(run)]
    whole = _weights_of(run / "final", "model.safetensors")

    # as after a kill during step 6: the log has every step, the resumed run writes 5 and 6 again
    summary = train_sft(synth_examples, _sft_config(run, resume_from=str(checkpoint), **noisy))
    assert summary["steps"] == 6
    assert summary["seconds"] >= state["seconds"]  # the run's time goes on from the checkpoint's
    assert _steps(run) == [1, 2, 3, 4, 5, 6]
    # the same noisy rows, the rest of the same pass, the same random state: the same steps 5-6
    assert [r["loss"] for r in _records(run)] == losses
    assert _same(_weights_of(run / "final", "model.safetensors"), whole)
    assert not _same(_weights_of(checkpoint, "model.safetensors"), whole)  # steps 5-6 changed it
    # a fresh run into the same directory starts a fresh log instead of appending to the old one
    train_sft(synth_examples, _sft_config(run, max_steps=2, save_every=0))
    assert _steps(run) == [1, 2]


def _weights_of(directory, name):
    from safetensors.torch import load_file

    return load_file(Path(directory) / name)


def _weights(directory):
    return _weights_of(directory, "adapter_model.safetensors")


def _same(a, b):
    import torch

    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_each_pass_over_the_prompts_has_its_own_seeded_order():
    from trl.trainer.utils import RepeatSampler

    from imageedit_r1.training.grpo import order_passes_by_seed

    def order(sampler):
        return list(sampler)[::2]  # each index comes twice in a row (the group size)

    sampler = order_passes_by_seed(RepeatSampler(range(10), mini_repeat_count=2, batch_size=5, seed=3))
    first_by_trl = order(RepeatSampler(range(10), mini_repeat_count=2, batch_size=5, seed=3))
    sampler.set_epoch(0)
    assert order(sampler) == first_by_trl  # the first pass is trl's own
    sampler.set_epoch(1)
    second = order(sampler)
    assert sorted(second) == list(range(10)) and second != first_by_trl
    sampler.set_epoch(1)  # as after a resume in the second pass: the same order again
    assert order(sampler) == second
    plain = RepeatSampler(range(10), mini_repeat_count=2, shuffle=False)
    assert order_passes_by_seed(plain) is plain and not hasattr(plain, "set_epoch")


def test_lora_grpo_resumed_from_a_timed_checkpoint_ends_where_the_whole_run_ends(
    tmp_path, synth_samples, synth_examples
):
    # a base that has learnt the four plans, then a LoRA adapter on it: GRPO's groups then mix
    # valid and invalid plans, so its steps change the adapter
    base = tmp_path / "base"
    train_sft(
        synth_examples, _sft_config(base, max_steps=150, learning_rate=1e-2, save_every=0, log_every=50)
    )
    sft = tmp_path / "sft"
    adapter = _sft_config(sft, base_model=str(base / "final"), lora_rank=4, max_steps=1, save_every=0)
    train_sft(synth_examples, replace(adapter, learning_rate=1e-4))
    pool = RolloutPool({s.id: s for s in synth_samples}, default_toolbox, workers=0)
    run = tmp_path / "grpo"
    config = GRPORunConfig(
        output_dir=str(run),
        init_checkpoint=str(sft / "final"),
        max_steps=6,  # four steps to a pass over the eight prompts: resumed in the second pass
        prompts_per_step=2,
        num_generations=2,
        max_completion_length=120,
        learning_rate=1e-3,
        logging_steps=1,
        save_steps=10_000,  # no step-based checkpoint: every one below is a timed save
        save_seconds=1e-6,  # a checkpoint after every step
        keep_checkpoints=2,
    )
    prompts = synth_examples * 2  # eight prompts: four steps to a pass
    whole = train_grpo(prompts, pool, config)
    assert whole["steps"] == 6 and "resumed_from" not in whole
    kept = sorted(p.name for p in run.iterdir() if p.name.startswith("checkpoint-"))
    assert kept == ["checkpoint-5", "checkpoint-6"]  # the older ones rotated away
    progress = read_progress(run / "checkpoint-5")
    assert progress["step"] == 5 and 0 < progress["seconds"] <= whole["seconds"]
    assert latest_checkpoint(run, PROGRESS_FILE) == run / "checkpoint-6"
    rewards = [r["reward"] for r in _records(run) if "reward" in r]
    whole_final = _weights(run / "final")
    # steps 1-5 and step 6 both changed the adapter, so the comparison below can tell a resumed
    # run from one that restarted at the SFT adapter or skipped the last step
    assert not _same(_weights(run / "checkpoint-5"), _weights(sft / "final"))
    assert not _same(whole_final, _weights(run / "checkpoint-5"))

    resumed = train_grpo(prompts, pool, replace(config, resume_from=str(run / "checkpoint-5")))
    pool.close()
    assert resumed["steps"] == 6
    assert resumed["resumed_from"] == str(run / "checkpoint-5")
    assert resumed["seconds_before_resume"] == progress["seconds"]
    assert resumed["seconds"] >= progress["seconds"]
    assert _steps(run, "reward") == [1, 2, 3, 4, 5, 6]  # step 6 dropped, then written again
    # resumed with the checkpoint's adapter, optimiser and random state, and the second pass's
    # prompt order, step 6 is the whole run's step 6
    assert [r["reward"] for r in _records(run) if "reward" in r] == rewards
    assert _same(_weights(run / "final"), whole_final)


def test_a_pipeline_killed_during_grpo_resumes_from_its_checkpoint(tmp_path, micro_pipeline):
    out = tmp_path / "run"
    config = micro_pipeline(out, grpo_steps=8, grpo_save_seconds=1e-6)  # a checkpoint after every step
    code = (
        "import json, sys\n"
        "from imageedit_r1.training.pipeline import PipelineConfig, run_pipeline\n"
        "run_pipeline(PipelineConfig(**json.loads(sys.argv[1])))\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, json.dumps(asdict(config))],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    grpo_dir = out / "grpo_exact"
    deadline = time.monotonic() + 600
    try:
        while latest_checkpoint(grpo_dir, PROGRESS_FILE) is None:
            assert child.poll() is None, "the pipeline ended before its first GRPO checkpoint"
            assert time.monotonic() < deadline, "no GRPO checkpoint within 10 minutes"
            time.sleep(0.02)
    finally:
        os.killpg(child.pid, signal.SIGKILL)  # the pipeline and its rollout workers
        child.wait()
    before = json.loads((out / "results.json").read_text())
    assert "grpo:exact" not in before["stages"] and "eval:sft" in before["stages"]
    sft_final = out / "sft" / "final" / "model.safetensors"
    sft_written = sft_final.stat().st_mtime_ns
    checkpoint = latest_checkpoint(grpo_dir, PROGRESS_FILE)
    seconds_done = read_progress(checkpoint)["seconds"]

    # other settings in the same directory would make the kept stages describe another run
    with pytest.raises(PipelineMismatch, match="grpo_lr"):
        run_pipeline(PipelineConfig(**{**asdict(config), "grpo_lr": 1e-3}))

    # the same settings resume it; the number of workers may differ
    finished = run_pipeline(PipelineConfig(**{**asdict(config), "workers": 2}))
    stages = finished["stages"]
    assert finished["resumed"] == 1
    assert stages["eval:sft"] == before["stages"]["eval:sft"]  # kept, not recomputed
    assert sft_final.stat().st_mtime_ns == sft_written  # SFT not trained again
    grpo = stages["grpo:exact"]
    assert grpo["resumed_from"] == str(checkpoint)
    assert grpo["seconds_before_resume"] == seconds_done
    assert grpo["steps"] == 8
    assert _steps(grpo_dir, "reward") == [5, 8]  # every 5 steps and the last, each once
    assert stages["eval:grpo_exact"]["levels"]["synth-edit"]["all"]["n"] == 4


def test_an_earlier_record_is_compared_setting_by_setting(tmp_path, micro_pipeline):
    from imageedit_r1.training.pipeline import earlier_results

    out = tmp_path / "run"
    config = micro_pipeline(out)
    assert earlier_results(out, config) == {}  # nothing there yet
    out.mkdir()
    recorded = json.loads(json.dumps(asdict(config)))
    del recorded["grpo_save_seconds"]  # a record made before the setting existed: its default
    (out / "results.json").write_text(json.dumps({"config": recorded, "stages": {"data": {}}}))
    assert earlier_results(out, replace(config, workers=3))["stages"] == {"data": {}}
    with pytest.raises(PipelineMismatch, match=r"grpo_save_seconds: 60.0 -> 5.0"):
        earlier_results(out, replace(config, grpo_save_seconds=5.0))
    with pytest.raises(PipelineMismatch, match=r"seed: 0 -> 1, sft_steps: 2 -> 3\)"):
        earlier_results(out, replace(config, seed=1, sft_steps=3))
    (out / "results.json").write_text('{"config": ')  # torn: refused, not overwritten
    with pytest.raises(PipelineMismatch, match="cannot be read"):
        earlier_results(out, config)


def test_lr_factor_wsd_shares_its_curve_between_run_lengths_and_cosine_does_not():
    from imageedit_r1.training.sft import lr_factor

    assert [lr_factor(s, 10, 2, "wsd", 3) for s in range(10)][:7] == [0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    assert lr_factor(9, 10, 2, "wsd", 3) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 2 / 3)))
    assert lr_factor(10, 10, 2, "wsd", 3) == pytest.approx(0.1)
    assert all(lr_factor(s, 2045, 50, "wsd") == lr_factor(s, 3465, 50, "wsd") for s in range(1645))
    assert lr_factor(1000, 2045, 50) != lr_factor(1000, 3465, 50)  # cosine depends on the run's length
    assert lr_factor(50, 2045, 50) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'linear'"):
        lr_factor(60, 100, 50, "linear")


def test_a_wsd_run_branched_from_a_shorter_runs_checkpoint_equals_the_longer_run(tmp_path, synth_examples):
    """Arms of a paired comparison (e.g. more SFT against GRPO) can start from one checkpoint."""
    wsd = dict(lr_schedule="wsd", decay_steps=2, learning_rate=1e-2)
    short, long, branch = tmp_path / "short", tmp_path / "long", tmp_path / "branch"
    train_sft(synth_examples, _sft_config(short, **wsd))  # 6 steps: the peak until step 4, then decay
    train_sft(synth_examples, _sft_config(long, max_steps=8, **wsd))
    assert [r["lr"] for r in _records(short)][:4] == [r["lr"] for r in _records(long)][:4]
    assert [r["loss"] for r in _records(short)][:4] == [r["loss"] for r in _records(long)][:4]
    train_sft(
        synth_examples, _sft_config(branch, max_steps=8, resume_from=str(short / "checkpoint-4"), **wsd)
    )
    assert _steps(branch) == [5, 6, 7, 8]
    assert [r["lr"] for r in _records(branch)] == [r["lr"] for r in _records(long)][4:8]
    assert _same(
        _weights_of(branch / "final", "model.safetensors"), _weights_of(long / "final", "model.safetensors")
    )
    # with the default cosine schedule the two lengths part at once
    cosine_short, cosine_long = tmp_path / "cos6", tmp_path / "cos8"
    train_sft(synth_examples, _sft_config(cosine_short, learning_rate=1e-2))
    train_sft(synth_examples, _sft_config(cosine_long, max_steps=8, learning_rate=1e-2))
    assert [r["lr"] for r in _records(cosine_short)][2] != [r["lr"] for r in _records(cosine_long)][2]


def test_the_branch_recipe_through_the_cli_ends_where_the_longer_run_ends(tmp_path):
    """docs/RESULTS.md, 'Reproduce / continue': `ieval train sft --resume RUN/checkpoint-K
    --max-steps M --out OTHER` under `--lr-schedule wsd` continues as the M-step run would have."""
    from typer.testing import CliRunner

    from harness.cli.main import app

    common = ["--synth", "8", "--photo", "0", "--model-size", "micro", "--workers", "1", "--batch-size", "4"]
    common += ["--lr-schedule", "wsd", "--decay-steps", "2", "--save-every", "2", "--lr", "1e-2"]
    runs = {
        "short": ["--max-steps", "6"],
        "long": ["--max-steps", "8"],
        "branch": ["--max-steps", "8", "--resume", str(tmp_path / "short" / "checkpoint-4")],
    }
    for name, extra in runs.items():  # in this order: the branch needs the short run's checkpoint
        result = CliRunner().invoke(app, ["train", "sft", "--out", str(tmp_path / name), *common, *extra])
        assert result.exit_code == 0, result.output
    long_final = _weights_of(tmp_path / "long" / "final", "model.safetensors")
    assert _same(_weights_of(tmp_path / "branch" / "final", "model.safetensors"), long_final)
    assert not _same(_weights_of(tmp_path / "short" / "final", "model.safetensors"), long_final)


SETUP_DELAY = 1.0  # seconds added to a stage's setup below; micro training steps take milliseconds


def test_sft_seconds_leave_out_tokenising_the_data_also_on_resume(tmp_path, synth_examples, monkeypatch):
    """A branch from a checkpoint is charged its training time only (`ieval train branch`)."""
    import imageedit_r1.training.sft as sft_module

    tokenise = sft_module.pretokenize

    def slow_pretokenize(*args, **kwargs):
        time.sleep(SETUP_DELAY)
        return tokenise(*args, **kwargs)

    monkeypatch.setattr(sft_module, "pretokenize", slow_pretokenize)
    run = tmp_path / "sft"
    train_sft(synth_examples, _sft_config(run, max_steps=4, save_every=2))
    at_two = torch_state(run / "checkpoint-2")["seconds"]
    assert 0 < at_two < SETUP_DELAY  # two micro steps, without the second of tokenising
    began = time.perf_counter()
    resumed = train_sft(synth_examples, _sft_config(run, max_steps=4, resume_from=str(run / "checkpoint-2")))
    # the resumed run's own seconds exclude its tokenising too: they go on from the checkpoint's
    assert time.perf_counter() - began - (resumed["seconds"] - at_two) >= SETUP_DELAY
    assert resumed["seconds"] >= at_two


def torch_state(checkpoint):
    import torch

    return torch.load(checkpoint / STATE_FILE, map_location="cpu", weights_only=False)


def test_grpo_seconds_and_time_budget_start_with_training_not_with_building_the_trainer(
    tmp_path, synth_samples, synth_examples, monkeypatch
):
    from trl import GRPOTrainer

    sft = tmp_path / "sft"
    train_sft(synth_examples, _sft_config(sft, max_steps=1, save_every=0))
    build = GRPOTrainer.__init__

    def slow_init(self, *args, **kwargs):
        time.sleep(SETUP_DELAY)
        build(self, *args, **kwargs)

    monkeypatch.setattr(GRPOTrainer, "__init__", slow_init)
    pool = RolloutPool({s.id: s for s in synth_samples}, default_toolbox, workers=0)
    config = GRPORunConfig(
        output_dir=str(tmp_path / "grpo"),
        init_checkpoint=str(sft / "final"),
        max_steps=50,
        prompts_per_step=2,
        num_generations=2,
        max_completion_length=16,
        logging_steps=1,
        time_budget_s=SETUP_DELAY / 2,  # spent by the setup alone if the clock started before it
    )
    began = time.perf_counter()
    summary = train_grpo(synth_examples, pool, config)
    pool.close()
    assert time.perf_counter() - began - summary["seconds"] >= SETUP_DELAY
    # the budget is counted from the first step: training ran past step 1 or took the whole budget
    assert summary["steps"] > 1 or summary["seconds"] >= SETUP_DELAY / 2
