"""GRPO sampling with the LoRA adapter merged: the same function while merged, and the frozen base
restored bit for bit afterwards, however often it is merged."""

import json
import math

import pytest

pytest.importorskip("peft")
pytest.importorskip("trl")

from imageedit_r1.editor import checkpoint_problem  # noqa: E402
from imageedit_r1.policy import Policy, add_lora, build_model, build_tokenizer  # noqa: E402
from imageedit_r1.training.logs import last_json  # noqa: E402
from imageedit_r1.training.merged_sampling import MergedSampling, lora_base_layers  # noqa: E402


@pytest.fixture
def lora_policy(synth_examples):
    """A micro Llama with a rank-4 adapter whose B matrices are not zero (a fresh adapter's are,
    which would make merging a no-op)."""
    import torch

    torch.manual_seed(0)
    texts = [e.prompt + e.completion for e in synth_examples]
    tokenizer = build_tokenizer(texts, vocab_size=300)
    policy = add_lora(Policy(build_model(tokenizer, "micro"), tokenizer), rank=4, base="unused")
    with torch.no_grad():
        for name, parameter in policy.model.named_parameters():
            if "lora_B" in name:
                parameter.normal_(0.0, 0.5)
    policy.model.eval()
    return policy


def _base_weights(model):
    return {name: layer.weight.detach().clone() for name, layer in lora_base_layers(model).items()}


def test_merged_policy_computes_the_same_function_and_the_base_comes_back_bit_for_bit(lora_policy):
    import torch

    model = lora_policy.model
    ids = torch.tensor([[3, 17, 42, 8, 99, 5]])
    before = _base_weights(model)
    assert len(before) == 7 * model.config.num_hidden_layers  # q k v o gate up down in every block
    with torch.no_grad():
        reference = model(ids).logits
    merging = MergedSampling(model)
    assert merging.active and merging.merges == 0
    for _ in range(3):  # merged again and again, as every GRPO step does
        with merging.merged(), torch.no_grad():
            merged = _base_weights(model)
            assert all(not torch.equal(merged[n], before[n]) for n in before)  # the adapter is folded in
            assert torch.allclose(model(ids).logits, reference, atol=1e-5)
        after = _base_weights(model)
        assert all(torch.equal(after[n], before[n]) for n in before)
        assert not any(layer.merged for layer in _lora_modules(model))
        with torch.no_grad():
            assert torch.equal(model(ids).logits, reference)
    assert merging.merges == 3


def test_merged_greedy_plans_equal_the_unmerged_ones(lora_policy):
    import torch

    model, tokenizer = lora_policy.model, lora_policy.tokenizer
    ids = torch.tensor([[3, 17, 42, 8, 99, 5], [11, 12, 13, 14, 15, 16]])
    settings = dict(max_new_tokens=10, do_sample=False, pad_token_id=tokenizer.pad_token_id or 0)
    with torch.no_grad():
        plain = model.generate(input_ids=ids, **settings)
        with MergedSampling(model).merged():
            merged = model.generate(input_ids=ids, **settings)
    assert torch.equal(plain, merged)


def test_an_error_inside_still_restores_the_base(lora_policy):
    import torch

    model = lora_policy.model
    before = _base_weights(model)
    with pytest.raises(RuntimeError, match="generation failed"), MergedSampling(model).merged():
        raise RuntimeError("generation failed")
    assert all(torch.equal(w, before[n]) for n, w in _base_weights(model).items())


def test_a_model_without_an_adapter_is_left_alone(synth_examples):
    import torch

    tokenizer = build_tokenizer([e.prompt for e in synth_examples], vocab_size=300)
    model = build_model(tokenizer, "micro")
    weights = {n: p.detach().clone() for n, p in model.named_parameters()}
    merging = MergedSampling(model)
    assert not merging.active
    with merging.merged():
        pass
    assert all(torch.equal(p, weights[n]) for n, p in model.named_parameters())


def test_grpo_trains_with_merged_sampling_through_the_command_line(tmp_path, synth_examples):
    import torch
    from safetensors.torch import load_file
    from typer.testing import CliRunner

    from harness.cli.main import app
    from imageedit_r1.training.sft import SFTConfig, train_sft

    torch.manual_seed(0)
    # a micro model that has learned the four plans, then a LoRA adapter on it: sampled plans then
    # differ in reward within a group, so GRPO has a gradient and the adapter must move
    train_sft(
        synth_examples,
        SFTConfig(
            str(tmp_path / "base"), model_size="micro", max_steps=400, batch_size=4, learning_rate=5e-3
        ),
    )
    sft = SFTConfig(
        output_dir=str(tmp_path / "sft"),
        base_model=str(tmp_path / "base" / "final"),
        lora_rank=4,
        max_steps=1,
        batch_size=2,
    )
    train_sft(synth_examples, sft)
    command = ["train", "grpo", "--init", str(tmp_path / "sft" / "final"), "--out", str(tmp_path / "grpo")]
    command += [
        "--synth",
        "4",
        "--photo",
        "0",
        "--steps",
        "2",
        "--prompts-per-step",
        "2",
        "--generations",
        "4",
    ]
    # merged sampling is the default; deterministic kernels go with it
    result = CliRunner().invoke(app, [*command, "--workers", "1", "--deterministic"])
    assert result.exit_code == 0, result.output
    summary = last_json(result.output)
    assert summary["steps"] == 2 and summary["merged_generations"] == 2  # trl's generation ran merged
    assert summary["deterministic"] is True
    assert json.loads((tmp_path / "grpo" / "summary.json").read_text()) == summary  # kept with the run
    assert math.isfinite(summary["last_reward"])
    final = tmp_path / "grpo" / "final"
    assert (final / "adapter_model.safetensors").exists() and checkpoint_problem(str(final)) is None
    start = load_file(tmp_path / "sft" / "final" / "adapter_model.safetensors")
    trained = load_file(final / "adapter_model.safetensors")
    assert start.keys() == trained.keys()
    rows = [json.loads(line) for line in (tmp_path / "grpo" / "metrics.jsonl").read_text().splitlines()]
    assert any(row.get("reward_std", 0.0) > 0 for row in rows)  # rewards differed within a group
    assert all(not torch.equal(start[name], trained[name]) for name in start)  # so every LoRA matrix moved
    # and off when asked: the adapter stays apart while sampling
    command[command.index("--out") + 1] = str(tmp_path / "grpo_apart")
    result = CliRunner().invoke(app, [*command, "--workers", "1", "--no-merged-sampling"])
    assert result.exit_code == 0, result.output
    summary = last_json(result.output)
    assert summary["steps"] == 2 and summary["merged_generations"] == 0


def _lora_modules(model):
    return [m for m in model.modules() if hasattr(m, "lora_A") and hasattr(m, "merged")]


def test_sampling_bench_times_both_variants_alone_and_beside_training_on_a_tiny_model(tmp_path, run_bench):
    out = tmp_path / "sampling.json"
    done = run_bench("r1_sampling.py", "--tiny", "--repeats", "2", "--with-load", "--json", out, timeout=300)
    report = json.loads(out.read_text())
    assert report["tiny"] is True and report["device"] == "cpu"
    assert {v: len(s) for v, s in report["seconds"].items()} == {"apart": 2, "merged": 2}
    assert report["merged_speedup"] == report["median_seconds"]["apart"] / report["median_seconds"]["merged"]
    assert report["tokens_per_second"]["merged"] == 4 * 6 / report["median_seconds"]["merged"]
    loaded = report["with_load"]  # timed again beside a training process
    assert {v: len(s) for v, s in loaded["seconds"].items()} == {"apart": 2, "merged": 2}
    assert loaded["merged_speedup"] == loaded["median_seconds"]["apart"] / loaded["median_seconds"]["merged"]
    assert "beside a training process:" in done.stdout


@pytest.mark.parametrize(
    ("variable", "scheme"), [("ACCELERATE_USE_FSDP", "FSDP"), ("ACCELERATE_USE_DEEPSPEED", "DeepSpeed")]
)
def test_sharded_training_refuses_merged_sampling_with_one_line(tmp_path, monkeypatch, variable, scheme):
    from typer.testing import CliRunner

    from harness.cli.main import app

    monkeypatch.setenv(variable, "true")
    start = tmp_path / "missing-but-never-read"
    grpo = ["train", "grpo", "--init", str(start), "--out", str(tmp_path / "grpo")]
    pipeline = ["train", "pipeline", "--out", str(tmp_path / "run")]
    # merged sampling is the default: asked for or not, it is refused with the way out named
    for command in (grpo, [*grpo, "--merged-sampling"], pipeline, [*pipeline, "--grpo-merged-sampling"]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2
        assert f"cannot run under {scheme} (use DDP, or --no-merged-sampling" in result.output
        assert result.output.count("\n") == 1
    assert not (tmp_path / "grpo").exists() and not (tmp_path / "run").exists()
    monkeypatch.setenv(variable, "false")  # set but off: nothing to refuse
    from imageedit_r1.training.merged_sampling import merged_sampling_problem

    assert merged_sampling_problem() is None
