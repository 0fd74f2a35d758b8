"""The one-process experiment (`ieval train pipeline`) on a micro model: every stage lands in
results.json with the machine it ran on, level weights are recorded, and the GRPO checkpoint is
exported with its stages."""

import json

import pytest

pytest.importorskip("trl")

from imageedit_r1.training.pipeline import run_pipeline  # noqa: E402


def test_a_micro_pipeline_records_every_stage_and_its_machine(tmp_path, micro_pipeline):
    config = micro_pipeline(
        tmp_path / "run",
        grpo_levels=("L1", "L2", "L3", "L4"),
        grpo_level_weights={"L1": 1, "L2": 1, "L3": 2, "L4": 2},
    )
    run_pipeline(config)
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    stages = results["stages"]
    assert list(stages) == [
        "data",
        "sft",
        "eval:sft",
        "grpo-levels",
        "grpo-level-weights",
        "grpo:exact",
        "eval:grpo_exact",
    ]
    weights = stages["grpo-level-weights"]
    assert weights["weights"] == {"L1": 1, "L2": 1, "L3": 2, "L4": 2}
    assert weights["prompts"] < weights["after"] < 2 * weights["prompts"]  # L1, L2 prompts stay once
    assert stages["grpo:exact"]["steps"] == 1 and stages["grpo:exact"]["kl_reference"] == "none"
    assert stages["eval:sft"]["levels"]["synth-edit"]["all"]["n"] == 4
    import torch

    assert results["device"]["cpu_count"] >= 1
    assert ("gpus" in results["device"]) == torch.cuda.is_available()  # a GPU run names its GPUs
    card = json.loads((tmp_path / "run" / "export" / "grpo_exact" / "imageedit_r1.json").read_text())
    assert card["stages"] == ["sft", "grpo-exact"]
    assert card["smoke"] is True  # a micro model: its editor results are tagged smoke


def test_a_pipeline_from_an_sft_checkpoint_trains_only_grpo_and_builds_no_sft_data(
    tmp_path, micro_pipeline, synth_examples
):
    import torch

    from imageedit_r1.policy import Policy, build_model, build_tokenizer

    torch.manual_seed(0)
    tokenizer = build_tokenizer([e.prompt + e.completion for e in synth_examples], vocab_size=300)
    Policy(build_model(tokenizer, "micro"), tokenizer).save(tmp_path / "base")
    lora = dict(base_model=str(tmp_path / "base"), lora_rank=4)
    run_pipeline(micro_pipeline(tmp_path / "first", rewards=(), **lora))  # SFT alone: the start to reuse
    sft = tmp_path / "first" / "sft" / "final"
    assert (sft / "adapter_model.safetensors").exists()
    config = micro_pipeline(tmp_path / "grpo", init_sft=str(sft), grpo_merged_sampling=True, **lora)
    run_pipeline(config)
    stages = json.loads((tmp_path / "grpo" / "results.json").read_text())["stages"]
    assert list(stages) == ["data", "sft", "eval:sft", "grpo:exact", "eval:grpo_exact"]
    assert stages["sft"]["reused"] == str(sft)
    data = stages["data"]
    # no SFT runs, so no plans from scene graphs were built; the GRPO prompts are still there
    assert data["sft_plans"] == 0 and data["graph_synth"] == 0
    assert data["grounded_vs_graph_plan_agreement"] is None
    assert data["grpo_samples"] == 4 + 4  # synth-edit and photo-ops train samples
    assert stages["grpo:exact"]["steps"] == 1
    assert stages["grpo:exact"]["merged_generations"] == 1  # the step's completions, sampled merged
    # the earlier run's SFT stage is the GRPO start: its evaluation here equals the earlier one
    earlier = json.loads((tmp_path / "first" / "results.json").read_text())["stages"]["eval:sft"]
    assert stages["eval:sft"]["levels"] == earlier["levels"]
    assert not (tmp_path / "grpo" / "sft").exists()
