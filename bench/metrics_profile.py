"""Where a streamed batch of the learned metric set spends its time on the GPU.

Runs ``score_metric_sets`` over a few batches under ``torch.profiler`` and reports, per batch: wall
seconds, seconds of device kernels (all streams), the device-busy fraction, and the kernels that take
the most device time. A busy fraction well below 1 means the host (Python, hashing, launches) or a
synchronisation keeps the device waiting; near 1, only cheaper kernels help.

It also times two variants side by side (interleaved, fresh images each pass): inputs prepared in
float32 with float32 weights that autocast casts at every call, against inputs prepared in float16
with the cast weights kept in float16 (``backbones.HALF_PREP`` / ``HALF_WEIGHTS``, the default); and
it lists the host functions with the most own time in a streamed pass (cProfile).

Usage: python bench/metrics_profile.py [--samples 256] [--batch-size 64] [--repeats 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from typing import Any

from metrics_throughput import build_samples, metric_set, report, sync, time_batched


def profile_stream(metrics: list[Any], batch: list[Any], batch_size: int) -> dict[str, Any]:
    import torch
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        start = time.perf_counter()
        time_batched(metrics, batch, batch_size)
        sync()
        wall = time.perf_counter() - start
    kernels: dict[str, float] = defaultdict(float)
    for event in prof.events():
        if event.device_type == torch.autograd.DeviceType.CUDA:
            kernels[event.name[:90]] += event.device_time_total / 1e6  # ``device_time_total`` is in us
    batches = max(1, len(batch) // batch_size)
    busy = sum(kernels.values())
    top = sorted(kernels.items(), key=lambda kv: -kv[1])[:20]
    return {
        "wall_s_per_batch": round(wall / batches, 4),
        "device_kernel_s_per_batch": round(busy / batches, 4),
        "device_busy_fraction": round(busy / wall, 3),
        "top_kernels_s_per_batch": {name: round(s / batches, 5) for name, s in top},
    }


VARIANTS = {  # name: (HALF_PREP, HALF_WEIGHTS)
    "float32 prep, autocast casts": (False, False),
    "float16 prep and weights": (True, True),
}


def load_variant(name: str) -> list[Any]:
    """A metric set with its own backbones, loaded under the variant's settings."""
    from harness.metrics.learned import backbones

    backbones.HALF_PREP, backbones.HALF_WEIGHTS = VARIANTS[name]
    backbones.clear_backbones()
    metrics = metric_set()
    for metric in metrics:
        metric.backbone()
    return metrics


def host_profile(metrics: list[Any], batch: list[Any], batch_size: int, top: int = 25) -> list[str]:
    """The host functions with the most own time in one streamed pass (cProfile)."""
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    time_batched(metrics, batch, batch_size)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return [line for line in out.getvalue().splitlines() if line.strip()][-top - 1 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", default="")
    args = parser.parse_args()

    import torch

    from harness.metrics.learned import weights

    weights.configure(allow_random=True, offline=True, device="cuda", batch_size=args.batch_size)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = True
    from harness.metrics.learned import backbones

    sets = {name: load_variant(name) for name in VARIANTS}
    seed = 100
    for name, metrics in sets.items():  # warm-up (cuDNN autotuning, allocator)
        backbones.HALF_PREP = VARIANTS[name][0]
        seed += 1
        time_batched(metrics, build_samples(args.batch_size, 512, seed=seed), args.batch_size)
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.repeats):
        for name, metrics in sets.items():
            backbones.HALF_PREP = VARIANTS[name][0]
            seed += 1
            batch = build_samples(args.samples, 512, seed=seed)
            rates[name].append(round(time_batched(metrics, batch, args.batch_size), 1))
    profiles = {}
    for name, metrics in sets.items():
        backbones.HALF_PREP = VARIANTS[name][0]
        seed += 1
        profiles[name] = profile_stream(metrics, build_samples(args.samples, 512, seed=seed), args.batch_size)
        seed += 1
        profiles[name]["host_top_own_time"] = host_profile(
            metrics, build_samples(args.samples, 512, seed=seed), args.batch_size
        )
    result = {
        "device": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "samples": args.samples,
        "batch_size": args.batch_size,
        "streamed_samples_per_s": rates,
        "profiles": profiles,
    }
    report(result, args.json)


if __name__ == "__main__":
    main()
