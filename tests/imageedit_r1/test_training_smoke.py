"""A few-step SFT then GRPO on CPU with a micro model built from a config: loss and reward finite,
checkpoints written as safetensors, and the GRPO checkpoint loads back as the imageedit-r1 editor."""

import json
import math

import pytest

pytest.importorskip("trl")
pytest.importorskip("datasets")

from harness.types import EditRequest  # noqa: E402
from imageedit_r1.editor import ImageEditR1Editor  # noqa: E402
from imageedit_r1.rollouts import RolloutPool  # noqa: E402
from imageedit_r1.toolbox import default_toolbox  # noqa: E402
from imageedit_r1.training.grpo import GRPORunConfig, train_grpo  # noqa: E402
from imageedit_r1.training.pipeline import unsolved_first  # noqa: E402
from imageedit_r1.training.sft import SFTConfig, train_sft  # noqa: E402


def test_sft_then_grpo_smoke(tmp_path, synth_samples, synth_examples):
    examples = synth_examples
    sft = train_sft(
        examples,
        SFTConfig(
            output_dir=str(tmp_path / "sft"),
            model_size="micro",
            max_steps=3,
            batch_size=4,
            warmup_steps=1,
            log_every=1,
            vocab_size=400,
        ),
    )
    assert math.isfinite(sft["final_loss"])
    sft_dir = tmp_path / "sft" / "final"
    assert (sft_dir / "model.safetensors").exists() and (sft_dir / "trainer_state.pt").exists()
    # a micro model is a smoke-test model: its checkpoint says so, and so does every edit made with it
    assert json.loads((sft_dir / "imageedit_r1.json").read_text()) == {"stages": ["sft"], "smoke": True}
    assert (tmp_path / "sft" / "sft_curve.png").exists()

    pool = RolloutPool({s.id: s for s in synth_samples}, default_toolbox, workers=0)
    # the GRPO prompt filter: every prompt the greedy plan gets wrong stays, no solved one does
    kept, summary = unsolved_first(str(sft_dir), pool, examples, keep_solved=0.0, seed=0)
    assert summary["prompts"] == len(examples)
    assert summary["kept"] == len(kept) == len(examples) - summary["solved_greedily"]
    grpo = train_grpo(
        examples,
        pool,
        GRPORunConfig(
            output_dir=str(tmp_path / "grpo"),
            init_checkpoint=str(sft_dir),
            max_steps=2,
            prompts_per_step=2,
            num_generations=2,
            num_iterations=2,  # the second step reuses the first step's generations (GRPO's mu)
            max_completion_length=16,
            logging_steps=1,
        ),
    )
    assert grpo["steps"] == 2 and math.isfinite(grpo["last_reward"])
    records = [json.loads(line) for line in (tmp_path / "grpo" / "metrics.jsonl").read_text().splitlines()]
    assert any(math.isfinite(r.get("reward", math.nan)) for r in records)
    # every logged step says where its time went: sampling, reward, update; they add up to the step
    timed = [r for r in records if "step_seconds" in r]
    assert [r["step"] for r in timed] == [1, 2]
    for r in timed:
        parts = r["sample_seconds"] + r["reward_seconds"] + r["update_seconds"]
        assert min(r["sample_seconds"], r["reward_seconds"], r["update_seconds"]) >= 0
        assert parts == pytest.approx(r["step_seconds"], rel=1e-6)
    assert timed[0]["sample_seconds"] > 0 and timed[0]["reward_seconds"] > 0
    assert timed[1]["sample_seconds"] == timed[1]["reward_seconds"] == 0  # mu = 2 reuses step 1's plans
    final = tmp_path / "grpo" / "final"
    assert (final / "model.safetensors").exists()

    assert ImageEditR1Editor.unavailable_reason(str(final)) is None
    editor = ImageEditR1Editor(arg=str(final), device="cpu", max_new_tokens=16)
    sample = synth_samples[0]
    result = editor.edit([EditRequest(sample.id, sample.source, sample.instruction)])[0]
    # a 3-step micro model rarely writes a valid plan: either way the outcome is recorded, not raised
    assert result.status in ("ok", "error")
    assert result.smoke is True  # GRPO from a smoke checkpoint stays smoke
    assert json.loads((final / "imageedit_r1.json").read_text())["stages"] == ["sft", "grpo-harness"]
    assert result.trace and result.trace[0].tool == "plan"
    if result.status == "error":
        assert result.error
    # rejected plans are re-sampled with the request's seed alone: the same edit alone or in a batch
    rejected = [step for step in result.trace if step.status == "rejected"]
    assert len(rejected) <= editor.replans and all(s.tool == "plan" and s.message for s in rejected)
    other = synth_samples[1]
    batch = editor.edit(
        [
            EditRequest(other.id, other.source, other.instruction),
            EditRequest(sample.id, sample.source, sample.instruction),
        ]
    )
    assert [(s.status, s.message) for s in batch[1].trace] == [(s.status, s.message) for s in result.trace]
