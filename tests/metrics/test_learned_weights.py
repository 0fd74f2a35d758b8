"""Weight resolution of learned metrics: missing weights, a weights dir, the real loading code."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("open_clip")
pytest.importorskip("transformers")
pytest.importorskip("lpips")

from harness.metrics.learned import weights  # noqa: E402
from harness.metrics.learned.backbones import clear_backbones, get_backbone  # noqa: E402
from harness.metrics.learned.clip import ClipI, OpenClipBackbone  # noqa: E402
from harness.metrics.learned.dino import Dino  # noqa: E402
from harness.metrics.learned.lpips_metric import Lpips  # noqa: E402


def test_missing_weights_is_one_line_and_records_errors_not_values(tmp_path, batch_maker):
    weights.reset()
    weights.configure(weights_dir=tmp_path, allow_random=False, offline=True, device="cpu")
    try:
        for cls in (ClipI, Dino, Lpips):
            reason = cls.unavailable_reason(None)
            assert reason is not None and "\n" not in reason
            assert "--weights-dir" in reason and "--allow-random-weights" in reason
        records = Lpips().score(batch_maker(2))
        assert [(r.status, r.value) for r in records] == [("error", None), ("error", None)]
        assert "missing weights" in records[0].error
    finally:
        weights.reset()


def test_weights_from_a_weights_dir_load_and_are_not_smoke(
    tmp_path, tiny_clip_arch, batch_maker, vit_config_maker
):
    """Real loading code: checkpoints written to a weights dir load and reproduce the saved model."""
    import open_clip
    import torchvision
    from transformers import ViTModel

    torch.manual_seed(1)
    clip_model = open_clip.create_model(tiny_clip_arch, pretrained=None)
    (tmp_path / "open_clip").mkdir()
    torch.save(clip_model.state_dict(), tmp_path / "open_clip" / f"{tiny_clip_arch}-mytag.pt")
    ViTModel(vit_config_maker(), add_pooling_layer=False).save_pretrained(tmp_path / "my-dino")
    (tmp_path / "torchvision").mkdir()
    torch.save(
        torchvision.models.alexnet().state_dict(), tmp_path / "torchvision" / "alexnet-owt-7be5be79.pth"
    )

    weights.configure(weights_dir=tmp_path, allow_random=False, offline=True, device="cpu", batch_size=4)
    clear_backbones()
    try:
        batch = batch_maker(3)
        clip_i = ClipI(arch=tiny_clip_arch, pretrained="mytag")
        dino = Dino(arch="my-dino")
        lpips_metric = Lpips()
        assert ClipI.unavailable_reason(f"arch={tiny_clip_arch},pretrained=mytag") is None
        for metric in (clip_i, dino, lpips_metric):
            records = metric.score(batch)
            assert all(r.status == "ok" and r.smoke is False for r in records), metric.name
        backbone = get_backbone(clip_i.backbone_spec(), OpenClipBackbone)
        with torch.inference_mode():
            a = clip_model.encode_image(backbone.to_input([batch[0].edited], clip_i.image_prep()))
            b = clip_model.encode_image(backbone.to_input([batch[0].sample.target], clip_i.image_prep()))
        expected = torch.nn.functional.cosine_similarity(a, b).item()
        assert clip_i.score(batch[:1])[0].value == pytest.approx(expected, abs=1e-5)
    finally:
        clear_backbones()
        weights.reset()
