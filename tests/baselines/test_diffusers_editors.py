"""Diffusers editors end to end on tiny random models of the real pipeline classes (smoke)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("diffusers")
torch = pytest.importorskip("torch")

import tiny_models  # noqa: E402

from baselines.diffusers_editors.editors import (  # noqa: E402
    FluxKontextEditor,
    InstructPix2PixEditor,
    MagicBrushEditor,
    QwenImageEditEditor,
    SDInpaintEditor,
)
from baselines.diffusers_editors.weights import SMOKE_MARKER  # noqa: E402
from harness.registry import editors  # noqa: E402
from harness.types import EditRequest  # noqa: E402

SOURCE = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)
MASK = np.zeros((40, 56), bool)
MASK[8:24, 10:40] = True


def _requests(n: int) -> list[EditRequest]:
    return [EditRequest(f"s{i}", SOURCE, "make the sky blue", mask=MASK, seed=i) for i in range(n)]


@pytest.fixture(scope="module")
def ip2p_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny InstructPix2Pix pipeline saved to disk with the random-weights marker."""
    directory = tmp_path_factory.mktemp("ip2p")
    pipe = tiny_models.instruct_pix2pix_pipeline(directory / "parts")
    pipe.save_pretrained(directory / "model")
    (directory / "model" / SMOKE_MARKER).write_text("random weights\n")
    return directory / "model"


def test_instruct_pix2pix_loads_from_a_local_directory_and_batches(ip2p_dir: Path) -> None:
    editor = editors.create(f"instruct-pix2pix:{ip2p_dir}", steps=2, resolution=32, batch_size=2)
    assert editor.smoke and editor.capabilities.batch_size == 2
    results = editor.edit(_requests(3))
    assert [r.status for r in results] == ["ok"] * 3
    for result in results:
        assert result.smoke and result.image.shape == SOURCE.shape and result.image.dtype == np.uint8
        assert result.provider["pipeline"] == "StableDiffusionInstructPix2PixPipeline"
    assert not np.array_equal(results[0].image, results[1].image)  # different seeds
    (again,) = editor.edit(_requests(1))  # seed 0 alone, not in a batch of two
    assert np.abs(again.image.astype(int) - results[0].image.astype(int)).max() <= 2
    config = editor.fingerprint()["config"]
    assert config["settings"]["steps"] == 2 and config["settings"]["image_guidance_scale"] == 1.5
    assert config["resolution_convention"].startswith("longer side scaled to 32")
    assert config["weights"].startswith("local:") and config["smoke"] is True


def test_magicbrush_is_the_instruct_pix2pix_pipeline_with_its_checkpoint(ip2p_dir: Path) -> None:
    assert MagicBrushEditor.defaults.model == "vinesmsuic/magicbrush-jul7"
    editor = MagicBrushEditor(str(ip2p_dir), steps=1, resolution=32)
    (result,) = editor.edit(_requests(1))
    assert result.status == "ok" and result.smoke
    assert editor.fingerprint()["name"] == "magicbrush"


def test_sd_inpaint_keeps_batches_and_needs_a_mask(tmp_path: Path) -> None:
    pipe = tiny_models.sd_inpaint_pipeline(tmp_path)
    editor = SDInpaintEditor(pipeline=pipe, smoke=True, steps=2, resolution=32, batch_size=2)
    unmasked = EditRequest("u", SOURCE, "a cat", seed=0)
    results = editor.edit([*_requests(2), unmasked])
    assert [r.status for r in results] == ["ok", "ok", "error"]
    assert "needs a mask" in results[2].error
    assert all(r.smoke for r in results)


def test_flux_kontext_runs_a_tiny_transformer_with_t5_and_clip(tmp_path: Path) -> None:
    pipe = tiny_models.flux_kontext_pipeline(tmp_path)
    editor = FluxKontextEditor(
        pipeline=pipe,
        smoke=True,
        steps=2,
        resolution=32,
        resolution_rule="long-side",
        multiple=16,
        batch_size=2,
        extra={"max_sequence_length": 16},
    )
    results = editor.edit(_requests(2))
    assert [r.status for r in results] == ["ok", "ok"], [r.error for r in results]
    assert results[0].image.shape == SOURCE.shape and results[0].smoke
    assert editor.fingerprint()["config"]["settings"]["guidance_scale"] == 2.5


def test_a_failing_batch_is_retried_item_by_item(ip2p_dir: Path) -> None:
    editor = InstructPix2PixEditor(str(ip2p_dir), steps=1, resolution=32, batch_size=2)
    bad = EditRequest("bad", SOURCE, None, seed=1)  # type: ignore[arg-type]  # the tokenizer rejects None
    results = editor.edit([_requests(1)[0], bad])
    assert results[0].status == "ok" and results[1].status == "error" and results[1].error


@pytest.mark.parametrize(
    "editor_cls",
    [InstructPix2PixEditor, MagicBrushEditor, FluxKontextEditor, QwenImageEditEditor, SDInpaintEditor],
)
def test_missing_weights_give_one_line_with_the_fix(editor_cls, monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("IEVAL_WEIGHTS_DIR", raising=False)
    reason = editor_cls.unavailable_reason()
    assert reason and "\n" not in reason and editor_cls.defaults.model in reason and "hf download" in reason
    assert "does not exist" in editor_cls.unavailable_reason(str(tmp_path / "nowhere"))
    (result,) = editor_cls(steps=1).edit(_requests(1))
    assert result.status == "error" and editor_cls.defaults.model in result.error


@pytest.mark.slow
def test_qwen_image_edit_runs_a_tiny_qwen_vl_encoder_and_transformer() -> None:
    pipe = tiny_models.qwen_image_edit_pipeline()
    editor = QwenImageEditEditor(
        pipeline=pipe, smoke=True, steps=1, resolution=32, resolution_rule="long-side", multiple=16
    )
    assert editor.capabilities.batch_size == 1
    (result,) = editor.edit(_requests(1))
    assert result.status == "ok", result.error
    assert result.smoke and result.image.shape == SOURCE.shape
    assert editor.fingerprint()["config"]["settings"]["true_cfg_scale"] == 4.0


def test_availability_without_weights_is_answered_without_importing_the_stacks(tmp_path):
    """`ieval ls` asks every editor whether it can run: a missing checkpoint is found without
    importing diffusers, transformers or torch (seconds each)."""
    import subprocess
    import sys

    code = (
        "import sys, json\n"
        "from harness import registry\n"
        "reasons = {n: registry.editors.availability(n).reason for n in "
        "('flux-kontext-dev', 'decompose-then-edit:learned', 'imageedit-r1')}\n"
        "print(json.dumps([reasons, sorted(m for m in ('diffusers', 'transformers', 'torch') if m in sys.modules)]))\n"
    )
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    import json

    reasons, imported = json.loads(out.stdout.strip().splitlines()[-1])
    assert "FLUX.1-Kontext-dev" in reasons["flux-kontext-dev"]
    assert "owlv2" in reasons["decompose-then-edit:learned"]
    assert not reasons["imageedit-r1"]  # available: the shipped checkpoint is there
    assert imported == []
