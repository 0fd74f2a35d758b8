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


def test_half_weights_give_the_same_values_as_autocast_casting(
    random_weights, tiny_clip_arch, tiny_vit_dir, batch_maker, monkeypatch
):
    """Under float16 autocast, float16 weights stored once give the per-call casts' values: the weights
    are rounded the same way; only cuBLAS's choice of float16 kernel may differ (last-digit rounding)."""
    from harness.metrics.learned import backbones, weights
    from harness.metrics.learned.base import score_metric_set
    from harness.metrics.learned.clip import ClipDir, ClipI, ClipT
    from harness.metrics.learned.dino import Dino
    from harness.metrics.learned.lpips_metric import Lpips

    def metrics() -> list:
        arch = tiny_clip_arch
        return [ClipI(arch=arch), ClipT(arch=arch), ClipDir(arch=arch), Dino(arch=str(tiny_vit_dir)), Lpips()]

    batch = batch_maker(6, seed=11)
    weights.configure(device="cuda", mixed_precision=True)
    values = {}
    states = {}
    for half in (False, True):
        backbones.clear_backbones()
        monkeypatch.setattr(backbones, "HALF_WEIGHTS", half)
        chosen = metrics()
        for metric in chosen:
            model = metric.backbone().model
            if half:  # the first pass's float32 weights, rounded into the float16 parameters
                model.load_state_dict(states[metric.name])
            else:
                states[metric.name] = {k: v.clone() for k, v in model.state_dict().items()}
        dtypes = {p.dtype for m in chosen for p in m.backbone().model.parameters()}
        assert (torch.float16 in dtypes) == half
        values[half] = {name: [r.value for r in rs] for name, rs in score_metric_set(chosen, batch).items()}
    for name, expected in values[False].items():
        assert values[True][name] == pytest.approx(expected, abs=1e-3), name
