"""bench/r1_sft_step.py: both SFT loss variants on the same batches, and what it reports."""

from __future__ import annotations

import json

import pytest
import torch

from ..conftest import load_bench

ROWS = [  # (input ids, labels): prompts of different lengths, plans of different lengths
    ([5, 6, 7, 8, 9, 10, 11], [-100] * 4 + [9, 10, 11]),
    ([12, 13, 14], [-100, 13, 14]),
    ([15, 16, 17, 18, 19], [-100] * 4 + [19]),
]


def _tiny_llama():
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=40, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
    )  # fmt: skip
    return LlamaForCausalLM(config)


def test_left_padded_rows_count_positions_from_their_first_token():
    batch = load_bench("r1_sft_step").plan_columns_batch(ROWS, pad_id=0)
    assert batch["input_ids"][1].tolist() == [0, 0, 0, 0, 12, 13, 14]
    assert batch["labels"][1].tolist() == [-100] * 5 + [13, 14]
    assert batch["position_ids"][1].tolist() == [0, 0, 0, 0, 0, 1, 2]
    assert batch["position_ids"][0].tolist() == list(range(7))


def test_the_plan_columns_loss_and_gradient_equal_sfts_own():
    from imageedit_r1.training.sft import collate

    bench, model = load_bench("r1_sft_step"), _tiny_llama()
    heads: list[tuple[int, ...]] = []
    model.lm_head.register_forward_hook(lambda _m, _i, out: heads.append(tuple(out.shape)))
    expected = model(**collate(ROWS, pad_id=0)).loss
    expected.backward()
    expected_grad = model.model.layers[0].self_attn.q_proj.weight.grad.clone()
    model.zero_grad()
    loss = bench.plan_columns_loss(model, bench.plan_columns_batch(ROWS, pad_id=0))
    loss.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.allclose(
        model.model.layers[0].self_attn.q_proj.weight.grad, expected_grad, atol=1e-6, rtol=1e-4
    )
    # SFT's head: 3 rows x 7 columns; the plan columns: row 0's plan starts at column 4, so 3-6
    assert heads == [(3, 7, 40), (3, 4, 40)]


def test_the_bench_reports_both_variants_on_a_tiny_model(tmp_path, run_bench):
    out = tmp_path / "sft_step.json"
    run_bench("r1_sft_step.py", "--tiny", "--steps", "2", "--json", out, timeout=300)
    report = json.loads(out.read_text())
    assert report["tiny"] is True and report["device"] == "cpu" and report["batch_size"] == 4
    assert set(report["median_seconds"]) == {"all_logits", "plan_logits"}
    assert (
        report["speedup"] == report["median_seconds"]["all_logits"] / report["median_seconds"]["plan_logits"]
    )
    assert report["max_relative_loss_difference"] < 1e-5
    assert 0 < report["plan_tokens_mean"] < report["row_tokens_mean"]
