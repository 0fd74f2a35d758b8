"""Backbone helpers that need no device: which weights are kept in float16."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


def test_keep_half_weights_converts_only_what_autocast_casts():
    from harness.metrics.learned.backbones import keep_half_weights

    attention = torch.nn.MultiheadAttention(8, 2, add_bias_kv=True)
    model = torch.nn.ModuleDict(
        {
            "conv": torch.nn.Conv2d(3, 8, 3),
            "norm": torch.nn.LayerNorm(8),
            "embed": torch.nn.Embedding(10, 8),
            "attention": attention,
            "head": torch.nn.Linear(8, 4),
        }
    )
    # conv weight+bias, attention in_proj weight+bias and out_proj weight+bias, head weight+bias
    assert keep_half_weights(model) == 8
    half = {name for name, p in model.named_parameters() if p.dtype == torch.float16}
    assert half == {
        "conv.weight",
        "conv.bias",
        "attention.in_proj_weight",
        "attention.in_proj_bias",
        "attention.out_proj.weight",
        "attention.out_proj.bias",
        "head.weight",
        "head.bias",
    }
    assert keep_half_weights(model) == 0  # idempotent
