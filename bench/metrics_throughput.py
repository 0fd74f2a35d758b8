"""Throughput of the learned metric set on real-size architectures with random weights (same FLOPs).

Three numbers on 512x512 inputs:
1. batched: the harness's ``score_metric_sets`` (one batch ahead; also ``score_metric_set`` one batch at a
   time, on other images) over the whole set (CLIP I/T/out/dir on ViT-B/32, CLIP-I and
   CLIP-dir on ViT-L/14, DINO ViT-S/16, LPIPS AlexNet), samples per second;
2. naive: one image at a time, each metric on its own, PIL preprocessing on the CPU and fp32 forwards,
   the way the official scorers (MagicBrush's image_eval.py and friends) loop;
3. pure forward: the slowest backbone (ViT-L/14 image tower) alone on ready GPU tensors, fp16, and the
   "ideal" set throughput given every backbone's pure-forward rate and the forwards one sample needs.

It also prints seconds per batch by stage (a separate, synchronised pass): image identities, upload,
each backbone's forward (preprocessing and tokenisation included), host copies, and the rest (Python,
metric arithmetic). In the batched set every group's forwards are queued before the first host copy,
so host work overlaps the GPU there; the stage pass serialises them and its total is an upper bound.

``--tiny`` swaps the CLIP and DINO architectures for tiny random ones (same metric names, code paths and
image sizes; LPIPS stays AlexNet): the forwards then cost little and the host-side stages can be
measured on a CPU.

Usage: python bench/metrics_throughput.py [--samples 1024] [--batch-size 64] [--naive-samples 16] [--size 512]
       [--tiny] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from typing import Any

import numpy as np


def build_samples(n: int, size: int, seed: int = 0) -> list[Any]:
    from harness.types import Sample, ScoreInput

    rng = np.random.default_rng(seed)
    batch = []
    for i in range(n):
        images = [rng.integers(0, 256, (size, size, 3), dtype=np.uint8) for _ in range(3)]
        captions = {
            "input": f"a photo of a red car number {seed}-{i}",  # distinct per seed: no memo hits across
            "output": f"a photo of a blue car number {seed}-{i}",  # the warm-up and the timed passes
        }
        sample = Sample(
            id=f"s{i}", source=images[0], instruction="make the car blue", target=images[2], captions=captions
        )
        batch.append(ScoreInput(sample=sample, edited=images[1]))
    return batch


def metric_set(tiny: bool = False) -> list[Any]:
    from harness.metrics.learned.clip import ClipDir, ClipDirViTL14, ClipI, ClipIViTL14, ClipOut, ClipT
    from harness.metrics.learned.dino import Dino
    from harness.metrics.learned.lpips_metric import Lpips

    if not tiny:
        return [ClipI(), ClipT(), ClipOut(), ClipDir(), ClipIViTL14(), ClipDirViTL14(), Dino(), Lpips()]
    small, large, vit = tiny_architectures()
    return [
        ClipI(arch=small),
        ClipT(arch=small),
        ClipOut(arch=small),
        ClipDir(arch=small),
        ClipIViTL14(arch=large),
        ClipDirViTL14(arch=large),
        Dino(arch=vit),
        Lpips(),
    ]


def tiny_architectures() -> tuple[str, str, str]:
    """Two tiny open_clip configs (224 inputs, like ViT-B/32 and ViT-L/14) and a tiny ViT config dir."""
    import tempfile
    from pathlib import Path

    import open_clip
    from transformers import ViTConfig

    folder = Path(tempfile.mkdtemp(prefix="ieval-tiny-"))
    names = []
    for name, width in (("ieval-tiny-clip-small", 64), ("ieval-tiny-clip-large", 96)):
        config = {
            "embed_dim": 32,
            "vision_cfg": {"image_size": 224, "layers": 1, "width": width, "patch_size": 32},
            "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
        }
        (folder / f"{name}.json").write_text(json.dumps(config))
        open_clip.add_model_config(folder / f"{name}.json")
        names.append(name)
    vit = folder / "vit"
    ViTConfig(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        patch_size=16,
        image_size=224,
        qkv_bias=True,
        layer_norm_eps=1e-6,
    ).save_pretrained(vit)
    return names[0], names[1], str(vit)


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def time_batched(
    metrics: list[Any],
    batch: list[Any],
    batch_size: int,
    laps: list[float] | None = None,
    stream: bool = True,
) -> float:
    """Samples per second; ``laps`` collects each batch's seconds (a batch ends with its host copies).
    ``stream``: ``score_metric_sets`` (one batch ahead), else ``score_metric_set`` batch by batch."""
    from harness.metrics.learned.base import score_metric_set, score_metric_sets

    chunks = [batch[i : i + batch_size] for i in range(0, len(batch), batch_size)]
    sync()
    start = lap = time.perf_counter()
    results = score_metric_sets(metrics, chunks) if stream else (score_metric_set(metrics, c) for c in chunks)
    for scored in results:
        bad = [r for records in scored.values() for r in records if r.status != "ok"]
        if bad:
            raise RuntimeError(f"{bad[0].metric}: {bad[0].error}")
        if laps is not None:
            laps.append(time.perf_counter() - lap)
            lap = time.perf_counter()
    sync()
    return len(batch) / (time.perf_counter() - start)


def breakdown(metrics: list[Any], batch: list[Any], batch_size: int) -> dict[str, float]:
    """Seconds per batch spent in each stage (a separate, synchronised pass: for attribution only)."""
    from harness.metrics.learned import backbones

    totals: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            sync()
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                sync()
                totals[name] = totals.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    patched = {
        "_hash_all": backbones._hash_all,
        "upload_images": backbones.upload_images,
        "start_host_copy": backbones.start_host_copy,
    }
    for name, fn in patched.items():
        setattr(backbones, name, timed(name, fn))
    forwards = {}
    for metric in metrics:
        bb = metric.backbone()
        if id(bb) not in forwards:
            forwards[id(bb)] = (bb, bb._forward)
            bb._forward = timed(f"forward:{bb.spec.family}:{bb.spec.arch}", bb._forward)
    for bb in {id(m.backbone()): m.backbone() for m in metrics}.values():
        bb.clear_memo()
    try:
        start = time.perf_counter()
        time_batched(metrics, batch, batch_size, stream=False)
        total = time.perf_counter() - start
    finally:
        for name, fn in patched.items():
            setattr(backbones, name, fn)
        for bb, fn in forwards.values():
            bb._forward = fn
    batches = max(1, len(batch) // batch_size)
    result = {k: round(v / batches, 4) for k, v in sorted(totals.items())}
    result["total"] = round(total / batches, 4)
    result["other (python, metric arithmetic)"] = round((total - sum(totals.values())) / batches, 4)
    return result


# -- the naive loop: per sample, per metric, per image; CPU preprocessing; fp32 ---------------------------
def _pil_prep(image: np.ndarray, resize: int, crop: int, mean: tuple, std: tuple, device: str) -> Any:
    import torch
    from PIL import Image

    pil = Image.fromarray(image)
    w, h = pil.size
    scale = resize / min(w, h)
    pil = pil.resize((round(w * scale), round(h * scale)), Image.Resampling.BICUBIC)
    w, h = pil.size
    left, top = (w - crop) // 2, (h - crop) // 2
    pil = pil.crop((left, top, left + crop, top + crop))
    x = torch.from_numpy(np.asarray(pil).copy()).permute(2, 0, 1).float().div(255.0)
    x = (x - torch.tensor(mean).view(3, 1, 1)) / torch.tensor(std).view(3, 1, 1)
    return x.unsqueeze(0).to(device)


def naive_sample(metrics: list[Any], inp: Any, device: str, models: dict[int, Any]) -> None:
    """``models``: a float32 copy of each backbone's model by ``id(backbone)`` (``float32_models``)."""
    import torch

    from harness.metrics.learned.clip import ClipMetric
    from harness.metrics.learned.dino import Dino
    from harness.metrics.learned.recipes import CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD

    with torch.inference_mode():
        for metric in metrics:
            backbone = metric.backbone()
            model = models[id(backbone)]
            if isinstance(metric, ClipMetric):
                kind = metric.name.split("@")[0]
                images = {
                    "clip_i": (inp.edited, inp.sample.target),
                    "clip_dir": (inp.edited, inp.sample.source),
                }
                captions = {"clip_t": ("output",), "clip_out": ("output",), "clip_dir": ("input", "output")}
                for image in images.get(kind, (inp.edited,)):
                    prep = metric.image_prep()
                    model.encode_image(
                        _pil_prep(image, prep.size, prep.crop_size, CLIP_MEAN, CLIP_STD, device)
                    )
                for key in captions.get(kind, ()):
                    model.encode_text(backbone.tokenizer([inp.sample.captions[key]]).to(device))
            elif isinstance(metric, Dino):
                for image in (inp.edited, inp.sample.target):
                    model(pixel_values=_pil_prep(image, 256, 224, IMAGENET_MEAN, IMAGENET_STD, device))
            else:
                a = torch.from_numpy(inp.edited).permute(2, 0, 1).float().div(127.5).sub(1).unsqueeze(0)
                b = (
                    torch.from_numpy(inp.sample.target)
                    .permute(2, 0, 1)
                    .float()
                    .div(127.5)
                    .sub(1)
                    .unsqueeze(0)
                )
                model(a.to(device), b.to(device))
    sync()


def float32_models(metrics: list[Any]) -> dict[int, Any]:
    """A float32 copy of every backbone's model (the harness keeps some weights in float16 on a GPU)."""
    import copy

    return {id(m.backbone()): copy.deepcopy(m.backbone().model).float() for m in metrics}


def time_naive(metrics: list[Any], batch: list[Any], device: str) -> float:
    models = float32_models(metrics)
    naive_sample(metrics, batch[0], device, models)  # warm-up
    start = time.perf_counter()
    for inp in batch:
        naive_sample(metrics, inp, device, models)
    return len(batch) / (time.perf_counter() - start)


# -- pure forward rates ------------------------------------------------------------------------------
def pure_rate(fn: Any, make_input: Any, batch_size: int, iters: int = 30, repeats: int = 3) -> float:
    """Images per second of ``fn`` on a ready device batch: the best of ``repeats`` timings of ``iters``
    calls (the best is the ceiling the set is compared against, so a slow outlier cannot flatter it)."""
    import torch

    x = make_input(batch_size)
    best = 0.0
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.float16):
        for _ in range(3):
            fn(x)
        for _ in range(repeats):
            sync()
            start = time.perf_counter()
            for _ in range(iters):
                fn(x)
            sync()
            best = max(best, batch_size * iters / (time.perf_counter() - start))
    return best


def pure_forward_rates(metrics: list[Any], batch_size: int, size: int, device: str) -> dict[str, float]:
    import torch

    by_name = {m.name: m for m in metrics}
    b32, l14, dino, lp = (by_name[n].backbone() for n in ("clip_i", "clip_i@ViT-L-14", "dino", "lpips"))

    def img(n: int, s: int = 224) -> Any:
        return torch.randn(n, 3, s, s, device=device)

    tokens = b32.tokenizer(["a photo of a blue car"] * batch_size).to(device)
    return {
        "vit_l14_image": pure_rate(l14.model.encode_image, img, batch_size),
        "vit_b32_image": pure_rate(b32.model.encode_image, img, batch_size),
        "vit_b32_text": pure_rate(lambda _x: b32.model.encode_text(tokens), img, batch_size),
        "vit_l14_text": pure_rate(lambda _x: l14.model.encode_text(tokens), img, batch_size),
        "dino_vits16": pure_rate(lambda x: dino.model(pixel_values=x), img, batch_size),
        "lpips_alex_pair_512": pure_rate(
            lambda x: lp.model(x, x.flip(0)), lambda n: img(n, size), batch_size
        ),
    }


# forwards one sample needs in the batched set (unique images/texts per backbone)
FORWARDS_PER_SAMPLE = {
    "vit_b32_image": 3,  # edited, target (clip_i), source (clip_dir)
    "vit_b32_text": 2,  # input and output caption
    "vit_l14_image": 3,  # edited, target, source
    "vit_l14_text": 2,
    "dino_vits16": 2,  # edited, target
    "lpips_alex_pair_512": 1,
}


def significant(value: float, digits: int = 4) -> float:
    """``value`` rounded to ``digits`` significant digits (CPU rates can be far below 1 per second)."""
    return float(f"{value:.{digits}g}")


def report(result: dict[str, Any], path: str) -> None:
    """Print ``result`` as JSON and, when ``path`` is given, write it there too."""
    text = json.dumps(result, indent=2)
    print(text)
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--naive-samples", type=int, default=16)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--tiny", action="store_true", help="tiny CLIP/DINO architectures (host overhead)")
    parser.add_argument("--json", default="")
    args = parser.parse_args()

    import torch

    from harness.metrics.learned import weights

    device = "cuda" if torch.cuda.is_available() else "cpu"
    weights.configure(allow_random=True, offline=True, device=device, batch_size=args.batch_size)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    metrics = metric_set(args.tiny)
    t0 = time.perf_counter()
    for metric in metrics:
        metric.backbone()
    load_s = time.perf_counter() - t0
    warm = build_samples(args.batch_size, args.size, seed=1)
    time_batched(metrics, warm, args.batch_size)
    batch = build_samples(args.samples, args.size)
    laps: list[float] = []
    per_batch = time_batched(
        metrics, build_samples(args.samples, args.size, seed=3), args.batch_size, stream=False
    )
    batched = time_batched(metrics, batch, args.batch_size, laps)
    naive = time_naive(metrics, batch[: args.naive_samples], device)
    stages = breakdown(metrics, build_samples(args.batch_size * 2, args.size, seed=2), args.batch_size)
    result: dict[str, Any] = {
        "device": torch.cuda.get_device_name(0) if device == "cuda" else platform.processor(),
        "torch": torch.__version__,
        "samples": args.samples,
        "batch_size": args.batch_size,
        "image_size": args.size,
        "metrics": [m.name for m in metrics],
        "architectures": "tiny CLIP/DINO, AlexNet LPIPS" if args.tiny else "real sizes",
        "load_s": round(load_s, 2),
        "batched_samples_per_s": significant(batched),
        "batch_at_a_time_samples_per_s": significant(per_batch),
        "naive_samples_per_s": significant(naive),
        "speedup_vs_naive": round(batched / naive, 1),
        "batched_seconds_per_batch": {
            "first": significant(laps[0]),
            "median": significant(float(np.median(laps))),
            "max": significant(max(laps)),
        },
        "seconds_per_batch_by_stage": stages,
    }
    if device == "cuda" and not args.tiny:
        rates = pure_forward_rates(metrics, args.batch_size, args.size, device)
        ideal = 1.0 / sum(FORWARDS_PER_SAMPLE[k] / rates[k] for k in FORWARDS_PER_SAMPLE)
        slowest = rates["vit_l14_image"]
        result.update(
            pure_forward_per_s={k: round(v, 1) for k, v in rates.items()},
            slowest_backbone_images_per_s=round(slowest, 1),
            slowest_backbone_images_per_s_in_set=round(batched * FORWARDS_PER_SAMPLE["vit_l14_image"], 1),
            fraction_of_slowest_pure_forward=round(
                batched * FORWARDS_PER_SAMPLE["vit_l14_image"] / slowest, 3
            ),
            ideal_set_samples_per_s=round(ideal, 1),
            fraction_of_ideal=round(batched / ideal, 3),
            # the median batch of the stream (the first has no earlier batch to overlap with)
            steady_fraction_of_ideal=round(args.batch_size / float(np.median(laps)) / ideal, 3),
        )
    report(result, args.json)


if __name__ == "__main__":
    main()
