"""Throughput of ``--backend ray`` on 1 GPU vs 2 GPUs for a GPU-bound editor and metric.

The editor and metric are stand-ins that do a fixed amount of real GPU work per image (bf16
matrix products over weights drawn from a fixed seed, fed by the image), so the measurement is
of the backend's scaling, not of a model. Both declare ``num_gpus = 1`` and run in the GPU pool.
Each configuration runs the same synth-edit command twice (a short and a long run, fresh
``--out``, no cache); throughput is (long - short samples) / (long - short seconds), which cancels
cluster and actor start-up. Needs torch with CUDA and ray.

    python bench/ray_scaling.py --samples 64 --json ray_scaling.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from machine_info import describe_machine, write_json

from harness.protocols import BaseEditor, BaseMetric, EditorCapabilities
from harness.types import EditRequest, EditResult, ScoreInput

EDIT_PRODUCTS = 800  # bf16 4096^3 products per image in the editor (about 0.2 s on one H100)
SCORE_PRODUCTS = 400  # and in the metric
WIDTH = 4096
DEVICE = "cuda"  # --device cpu --width 128 checks the plumbing on a machine without GPUs


class _MatmulWork:
    """Fixed GPU work per image: ``products`` chained 4096x4096 bf16 products seeded by the image."""

    def __init__(self, products: int) -> None:
        self.products = products
        self._weight: Any = None

    def run(self, image: np.ndarray) -> float:
        import torch

        if self._weight is None:
            generator = torch.Generator(device=DEVICE).manual_seed(0)
            weight = torch.randn(WIDTH, WIDTH, device=DEVICE, generator=generator, dtype=torch.bfloat16)
            self._weight = weight / WIDTH**0.5
        pixels = torch.from_numpy(np.ascontiguousarray(image[:64, :64, 0])).to(DEVICE, torch.bfloat16)
        state = pixels.flatten().repeat(WIDTH * WIDTH // pixels.numel()).reshape(WIDTH, WIDTH) / 255
        for _ in range(self.products):
            state = torch.tanh(state @ self._weight)
        return float(state.float().mean().item())  # .item() waits for the GPU


class GpuMatmulEditor(BaseEditor):
    """Stand-in GPU editor: returns the source after a fixed amount of GPU work."""

    name = "bench-gpu-editor"
    num_gpus = 1
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities(batch_size=32)
    cache_edits: ClassVar[bool] = False

    def __init__(self, **_: Any) -> None:
        self.work = _MatmulWork(EDIT_PRODUCTS)

    def config(self) -> dict[str, Any]:
        return {"products": EDIT_PRODUCTS, "width": WIDTH, "device": DEVICE}

    def edit_one(self, request: EditRequest) -> EditResult:
        self.work.run(request.source)
        where = {"cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", ""), "pid": os.getpid()}
        return EditResult(status="ok", image=request.source.copy(), provider=where)


class GpuMatmulMetric(BaseMetric):
    """Stand-in GPU metric: a fixed amount of GPU work, then the value of that work."""

    name = "bench-gpu-metric"
    num_gpus = 1
    value_range = (-1.0, 1.0)

    def __init__(self, **_: Any) -> None:
        self.work = _MatmulWork(SCORE_PRODUCTS)

    def config(self) -> dict[str, Any]:
        return {"products": SCORE_PRODUCTS, "width": WIDTH, "device": DEVICE}

    def compute(self, inp: ScoreInput) -> float:
        return self.work.run(inp.edited)


def _workers(out: Path) -> list[str]:
    """The distinct (CUDA_VISIBLE_DEVICES, pid) pairs that made the edits of a run."""
    rows = [json.loads(line)["provider"] for line in (out / "edits.jsonl").read_text().splitlines()]
    return sorted({f"gpu {r['cuda_visible_devices']} pid {r['pid']}" for r in rows})


def _run(out: Path, samples: int) -> float:
    from harness.runner import RunConfig, run_evaluation

    config = RunConfig(suites=["synth-edit"], editors=["bench-gpu-editor"], metrics=["bench-gpu-metric"],
                       limit=samples, out=out, use_cache=False, backend="ray")  # fmt: skip
    summary = run_evaluation(config)
    assert summary.counters.edits_computed == samples and summary.counters.scores_computed == samples
    return summary.wall_seconds


def measure(gpus: int, samples: int, short: int, workdir: Path) -> dict[str, Any]:
    import ray

    ray.init(num_gpus=gpus, include_dashboard=False, log_to_driver=False)
    try:
        short_s = _run(workdir / f"{gpus}gpu-short", short)
        long_s = _run(workdir / f"{gpus}gpu-long", samples)
    finally:
        ray.shutdown()
    return {"gpus": gpus, "short_s": round(short_s, 2), "long_s": round(long_s, 2),
            "samples_per_s": round((samples - short) / (long_s - short_s), 3),
            "edit_workers": _workers(workdir / f"{gpus}gpu-long")}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    global DEVICE, WIDTH, EDIT_PRODUCTS, SCORE_PRODUCTS
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=64, help="samples in the long run")
    parser.add_argument("--short", type=int, default=16, help="samples in the short run")
    parser.add_argument("--json", help="write the result as JSON to this file ('-': stdout)")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument(
        "--width", type=int, default=WIDTH, help="matrix size (4096; smaller for --device cpu)"
    )
    parser.add_argument("--edit-products", type=int, default=EDIT_PRODUCTS)
    parser.add_argument("--score-products", type=int, default=SCORE_PRODUCTS)
    args = parser.parse_args(argv)
    DEVICE, WIDTH, EDIT_PRODUCTS, SCORE_PRODUCTS = (
        args.device,
        args.width,
        args.edit_products,
        args.score_products,
    )

    import torch

    from harness import registry

    available = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if DEVICE == "cuda" and available < 2:
        print(f"ray_scaling: needs 2 CUDA GPUs, found {available}", file=sys.stderr)
        return 2
    registry.editors.register("bench-gpu-editor", GpuMatmulEditor)
    registry.metrics.register("bench-gpu-metric", GpuMatmulMetric)
    with tempfile.TemporaryDirectory() as tmp:
        one = measure(1, args.samples, args.short, Path(tmp))
        two = measure(2, args.samples, args.short, Path(tmp))
    speedup = two["samples_per_s"] / one["samples_per_s"]
    result = {"benchmark": "ray_scaling", "one_gpu": one, "two_gpus": two, "speedup": round(speedup, 3),
              "goal": ">= 1.8", "met": speedup >= 1.8, "device": DEVICE, "width": WIDTH, "samples": args.samples, "short": args.short,
              "edit_products": EDIT_PRODUCTS, "score_products": SCORE_PRODUCTS, "started": time.time(),
              "machine": describe_machine()}  # fmt: skip
    print(f"ray_scaling: 1 GPU {one['samples_per_s']:.2f} samples/s, 2 GPUs {two['samples_per_s']:.2f} "
          f"samples/s, speedup {speedup:.2f}x (goal >= 1.8x: {'met' if result['met'] else 'NOT met'})")  # fmt: skip
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
