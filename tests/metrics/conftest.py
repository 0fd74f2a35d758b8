"""Tiny random models of the real classes, built from configs (no downloads), for learned-metric tests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from harness.types import Sample, ScoreInput

TINY_CLIP = "ieval-tiny-clip"
TINY_CLIP_CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2},
}


@pytest.fixture(scope="session")
def tiny_clip_arch(tmp_path_factory: pytest.TempPathFactory) -> str:
    open_clip = pytest.importorskip("open_clip")
    folder = tmp_path_factory.mktemp("clip_cfg")
    (folder / f"{TINY_CLIP}.json").write_text(json.dumps(TINY_CLIP_CONFIG))
    open_clip.add_model_config(folder / f"{TINY_CLIP}.json")
    return TINY_CLIP


def tiny_vit_config(patch_size: int = 16) -> object:
    from transformers import ViTConfig

    return ViTConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        patch_size=patch_size,
        image_size=224,
        qkv_bias=True,
        layer_norm_eps=1e-6,
    )


@pytest.fixture(scope="session")
def tiny_vit_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding only a tiny ViT config.json: an architecture without weights."""
    pytest.importorskip("transformers")
    folder = tmp_path_factory.mktemp("tiny_vit")
    tiny_vit_config().save_pretrained(folder)
    return folder


@pytest.fixture
def random_weights():
    """Offline, CPU, random weights allowed; every backbone rebuilt fresh for the test."""
    torch = pytest.importorskip("torch")
    from harness.metrics.learned import weights
    from harness.metrics.learned.backbones import clear_backbones

    weights.configure(weights_dir=None, allow_random=True, offline=True, device="cpu", batch_size=8)
    clear_backbones()
    torch.manual_seed(0)
    yield weights.current()
    clear_backbones()
    weights.reset()


@pytest.fixture
def batch_maker():
    return make_batch


@pytest.fixture
def vit_config_maker():
    return tiny_vit_config


def make_batch(n: int, size: int = 32, seed: int = 0, with_mask: bool = False) -> list[ScoreInput]:
    rng = np.random.default_rng(seed)
    batch = []
    for i in range(n):
        source = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        edited = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        target = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        mask = None
        if with_mask:
            mask = np.zeros((size, size), dtype=bool)
            mask[size // 4 : size // 2, size // 4 : size // 2] = True
        captions = {
            "input": f"a photo number {i}",
            "output": f"an edited photo number {i}",
            "local": f"thing {i}",
        }
        sample = Sample(
            id=f"s{i}", source=source, instruction="edit it", target=target, mask=mask, captions=captions
        )
        batch.append(ScoreInput(sample=sample, edited=edited))
    return batch
