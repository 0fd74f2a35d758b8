"""Batched uploads through the reused pinned staging buffer (needs a CUDA device)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_uploads_reuse_the_staging_buffer_and_keep_earlier_images_intact():
    from harness.metrics.learned import transfer

    rng = np.random.default_rng(7)

    def images(n: int, shape: tuple[int, ...]) -> list[np.ndarray]:
        return [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(n)]

    first = images(5, (64, 48, 3)) + images(2, (32, 32, 3))
    transfer.upload_images(first, "cuda")
    buffer = transfer._staging["cuda"].host
    second = images(3, (64, 48, 3))
    transfer.upload_images(second, "cuda")  # fits: the same pinned buffer, refilled after the first copy
    assert transfer._staging["cuda"].host.data_ptr() == buffer.data_ptr()
    third = images(12, (80, 80, 3))
    transfer.upload_images(third, "cuda")  # grows
    assert transfer._staging["cuda"].host.numel() >= 12 * 80 * 80 * 3
    for image in first + second + third:
        on_device = transfer.device_image(image, "cuda")
        assert on_device.device.type == "cuda"
        assert np.array_equal(on_device.cpu().numpy(), image)


def test_learned_values_on_cuda_match_the_cpu(random_weights, tiny_clip_arch, tiny_vit_dir, batch_maker):
    from harness.metrics.learned import weights
    from harness.metrics.learned.backbones import clear_backbones
    from harness.metrics.learned.base import score_metric_set
    from harness.metrics.learned.clip import ClipDir, ClipI, ClipT
    from harness.metrics.learned.dino import Dino
    from harness.metrics.learned.lpips_metric import Lpips

    def metrics() -> list:
        arch = tiny_clip_arch
        return [ClipI(arch=arch), ClipT(arch=arch), ClipDir(arch=arch), Dino(arch=str(tiny_vit_dir)), Lpips()]

    batch = batch_maker(6, seed=9)
    torch.manual_seed(0)
    on_cpu = {
        name: [r.value for r in records] for name, records in score_metric_set(metrics(), batch).items()
    }
    cpu_models = {m.name: m.backbone() for m in metrics()}
    clear_backbones()
    weights.configure(device="cuda", mixed_precision=False)
    cuda_metrics = metrics()
    for metric in cuda_metrics:  # the same random weights on the device
        metric.backbone().model.load_state_dict(cpu_models[metric.name].model.state_dict())
    on_cuda = {
        name: [r.value for r in records] for name, records in score_metric_set(cuda_metrics, batch).items()
    }
    for name, values in on_cpu.items():
        assert on_cuda[name] == pytest.approx(values, abs=2e-3), name
