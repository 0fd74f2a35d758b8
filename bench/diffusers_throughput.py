"""Throughput of the diffusers editors' real-size architectures with random weights (same FLOPs).

1. InstructPix2Pix (Stable Diffusion 1.5 UNet, VAE and CLIP ViT-L/14 text encoder, the public
   configs written out below) through ``InstructPix2PixEditor`` at 512x512: edits per second at
   batch 1 and batch 8, fp16, ``--steps`` denoising steps (3 UNet passes per step: text and image
   classifier-free guidance).
2. FLUX.1 Kontext [dev] transformer (19 double + 38 single blocks, 3072 wide, ~12B parameters) in
   bf16 at 1024x1024: one denoising step's forward on the Kontext sequence (4096 target + 4096
   context image tokens + 512 text tokens), and the edits per second that 28 steps give
   (text encoders and VAE excluded).

Usage: python bench/diffusers_throughput.py [--steps 20] [--repeats 3] [--skip-flux] [--tiny] [--json OUT]
``--tiny`` runs toy sizes on the CPU to check the script.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import string
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def char_clip_tokenizer(directory: Path) -> Any:
    from transformers import CLIPTokenizer

    tokens = ["!", "<|startoftext|>", "<|endoftext|>"]
    for char in string.ascii_lowercase + string.digits + ".,'-":
        tokens += [char, f"{char}</w>"]
    (directory / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(dict.fromkeys(tokens))}))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    return CLIPTokenizer(
        str(directory / "vocab.json"), str(directory / "merges.txt"), model_max_length=77, pad_token="!"
    )


def instruct_pix2pix(tiny: bool, dtype: Any, device: str) -> Any:
    import torch
    from diffusers import (
        AutoencoderKL,
        EulerAncestralDiscreteScheduler,
        StableDiffusionInstructPix2PixPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel

    torch.manual_seed(0)
    blocks = (32, 64) if tiny else (320, 640, 1280, 1280)
    down = ("CrossAttnDownBlock2D",) * (len(blocks) - 1) + ("DownBlock2D",)
    up = ("UpBlock2D",) + ("CrossAttnUpBlock2D",) * (len(blocks) - 1)
    unet = UNet2DConditionModel(
        sample_size=64,
        in_channels=8,
        out_channels=4,
        block_out_channels=blocks,
        layers_per_block=1 if tiny else 2,
        down_block_types=down,
        up_block_types=up,
        cross_attention_dim=32 if tiny else 768,
        attention_head_dim=8,
        norm_num_groups=32,
    )
    vae_blocks = (32, 64) if tiny else (128, 256, 512, 512)
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        latent_channels=4,
        block_out_channels=vae_blocks,
        layers_per_block=1 if tiny else 2,
        down_block_types=("DownEncoderBlock2D",) * len(vae_blocks),
        up_block_types=("UpDecoderBlock2D",) * len(vae_blocks),
        sample_size=512,
        norm_num_groups=32,
    )
    text = CLIPTextConfig(
        vocab_size=49408,
        hidden_size=32 if tiny else 768,
        intermediate_size=64 if tiny else 3072,
        num_hidden_layers=1 if tiny else 12,
        num_attention_heads=4 if tiny else 12,
        max_position_embeddings=77,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    folder = Path(tempfile.mkdtemp())
    pipe = StableDiffusionInstructPix2PixPipeline(
        vae=vae,
        text_encoder=CLIPTextModel(text),
        tokenizer=char_clip_tokenizer(folder),
        unet=unet,
        scheduler=EulerAncestralDiscreteScheduler(),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    return pipe.to(device=device, dtype=dtype)


def bench_ip2p(args: argparse.Namespace, device: str) -> dict[str, Any]:
    import torch

    from baselines.diffusers_editors.editors import InstructPix2PixEditor
    from harness.types import EditRequest

    dtype = torch.float32 if args.tiny else torch.float16
    size = 64 if args.tiny else 512
    pipe = instruct_pix2pix(args.tiny, dtype, device)
    pipe.set_progress_bar_config(disable=True)
    rng = np.random.default_rng(0)
    result: dict[str, Any] = {"resolution": size, "steps": args.steps, "dtype": str(dtype).split(".")[-1]}
    for batch in (1, 8):
        editor = InstructPix2PixEditor(
            pipeline=pipe, smoke=True, steps=args.steps, resolution=size, batch_size=batch
        )
        requests = [
            EditRequest(
                f"s{i}", rng.integers(0, 256, (size, size, 3), dtype=np.uint8), "make the car blue", seed=i
            )
            for i in range(batch)
        ]
        editor.edit(requests)  # warm-up (cuDNN autotune, allocator)
        _sync()
        start = time.perf_counter()
        for _ in range(args.repeats):
            results = editor.edit(requests)
        _sync()
        seconds = time.perf_counter() - start
        assert all(r.status == "ok" for r in results), [r.error for r in results]
        result[f"batch_{batch}"] = {
            "edits_per_s": round(batch * args.repeats / seconds, 3),
            "seconds_per_edit": round(seconds / (batch * args.repeats), 4),
        }
    result["peak_gpu_gib"] = _peak_gib()
    del pipe
    _free()
    return result


def bench_flux(args: argparse.Namespace, device: str) -> dict[str, Any]:
    import torch
    from diffusers import FluxTransformer2DModel

    tiny = args.tiny
    dtype = torch.float32 if tiny else torch.bfloat16
    config = dict(
        patch_size=1,
        in_channels=64,
        num_layers=1 if tiny else 19,
        num_single_layers=1 if tiny else 38,
        attention_head_dim=128 if not tiny else 16,
        num_attention_heads=24 if not tiny else 2,
        joint_attention_dim=4096 if not tiny else 32,
        pooled_projection_dim=768 if not tiny else 32,
        guidance_embeds=True,
        axes_dims_rope=(16, 56, 56) if not tiny else (4, 6, 6),
    )
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = FluxTransformer2DModel(**config).eval()
    finally:
        torch.set_default_dtype(previous)
    parameters = sum(p.numel() for p in model.parameters())
    side = 64 if tiny else 1024
    tokens = (side // 16) ** 2  # VAE /8, then 2x2 packing
    text_tokens = 16 if tiny else 512
    width = config["joint_attention_dim"]
    hidden = torch.randn(1, 2 * tokens, 64, device=device, dtype=dtype)  # target + context image latents
    encoder = torch.randn(1, text_tokens, width, device=device, dtype=dtype)
    pooled = torch.randn(1, config["pooled_projection_dim"], device=device, dtype=dtype)
    grid = side // 16
    ys, xs = torch.meshgrid(torch.arange(grid), torch.arange(grid), indexing="ij")
    target_ids = torch.stack([torch.zeros_like(ys), ys, xs], dim=-1).reshape(-1, 3)
    context_ids = torch.stack([torch.ones_like(ys), ys, xs], dim=-1).reshape(-1, 3)
    img_ids = torch.cat([target_ids, context_ids]).to(device=device, dtype=dtype)
    txt_ids = torch.zeros(text_tokens, 3, device=device, dtype=dtype)
    step = dict(
        hidden_states=hidden,
        encoder_hidden_states=encoder,
        pooled_projections=pooled,
        timestep=torch.tensor([0.5], device=device, dtype=dtype),
        guidance=torch.tensor([2.5], device=device, dtype=dtype),
        img_ids=img_ids,
        txt_ids=txt_ids,
        return_dict=False,
    )
    with torch.inference_mode():
        model(**step)
        _sync()
        start = time.perf_counter()
        for _ in range(args.repeats):
            model(**step)
        _sync()
    per_step = (time.perf_counter() - start) / args.repeats
    result = {
        "resolution": side,
        "parameters_billion": round(parameters / 1e9, 3),
        "sequence": {"image_tokens": 2 * tokens, "text_tokens": text_tokens},
        "dtype": str(dtype).split(".")[-1],
        "seconds_per_step": round(per_step, 4),
        "edits_per_s_28_steps": round(1.0 / (28 * per_step), 4),
        "peak_gpu_gib": _peak_gib(),
    }
    del model
    _free()
    return result


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _peak_gib() -> float | None:
    import torch

    if not torch.cuda.is_available():
        return None
    peak = torch.cuda.max_memory_allocated() / 2**30
    torch.cuda.reset_peak_memory_stats()
    return round(peak, 2)


def _free() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-flux", action="store_true")
    parser.add_argument("--tiny", action="store_true", help="toy sizes on the CPU, to check the script")
    parser.add_argument("--json", default=None, help="write the result to this file")
    args = parser.parse_args()
    import diffusers
    import torch

    device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    report: dict[str, Any] = {
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "device": torch.cuda.get_device_name(0) if device == "cuda" else platform.processor() or "cpu",
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "weights": "random (real-size architectures)" if not args.tiny else "random (toy sizes)",
        "instruct_pix2pix": bench_ip2p(args, device),
    }
    print(json.dumps(report, indent=1), flush=True)
    if not args.skip_flux:
        try:
            report["flux_kontext_transformer"] = bench_flux(args, device)
        except torch.cuda.OutOfMemoryError as exc:
            report["flux_kontext_transformer"] = {"error": f"out of memory: {exc}"[:300]}
    text = json.dumps(report, indent=1)
    print(text)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(text + "\n")
    os.sys.stdout.flush()


if __name__ == "__main__":
    main()
