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
