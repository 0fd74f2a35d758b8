"""Throughput of ``--backend ray`` on 1 GPU vs 2 GPUs for a GPU-bound editor and metric.

The editor and metric are stand-ins with a fixed amount of work per image, so the measurement is
of the backend's scaling, not of a model. Both declare ``num_gpus = 1`` and run in the GPU pool.

* GPU (default): bf16 4096x4096 matrix products over weights drawn from a fixed seed, fed by the
  image. The default editor does 5000 products per image (about 1 s on one H100 by the first
  measurement's rate, the order of one InstructPix2Pix edit), the metric 400 (about 0.08 s);
  ``--edit-products 800`` is the first measurement's smaller editor. Needs torch with CUDA and 2
  GPUs.
* ``--simulate-seconds T``: no GPU at all. The local Ray cluster is started with 1 or 2 fake GPUs
  (a Ray resource only), the editor sleeps T seconds per image inside its actor and the metric
  T/2 (``--metric-seconds`` to change), so the actors' "GPU time" splits perfectly and the
  speed-up measures how much of the runner is serial. Runs on any machine with ray.

Each configuration starts a local Ray cluster with 1 or 2 GPUs and runs the same synth-edit
command twice (a short and a long run, fresh ``--out``, no cache). A run's steady time goes from
the start of its first edit (so after actor start-up and model loading, whose length varies from
run to run) to the end of the run; throughput is (long - short samples) / (long - short steady
seconds), which also cancels the ramp-up and the final aggregation. The JSON also keeps the
throughput from whole wall times (the first measurement's method). Progress goes to stderr;
``--json`` is rewritten after every configuration, so a run cut short keeps what it measured.

    python bench/ray_scaling.py --json ray_scaling.json                         # 2 GPUs
    python bench/ray_scaling.py --simulate-seconds 0.2 --json ray_scaling.json  # any machine
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from machine_info import describe_machine, write_json

from harness.protocols import BaseEditor, BaseMetric, EditorCapabilities
from harness.types import EditRequest, EditResult, ScoreInput

GOAL = 1.8


@dataclass
class Workload:
    """The work per image. ``simulate_seconds`` > 0: sleep that long (metric: ``metric_seconds``)
    instead of GPU matrix products. Read by the stand-ins on the Ray workers (pickled with them)."""

    edit_products: int = 5000  # bf16 4096^3 products per image in the editor (about 1 s on one H100)
    score_products: int = 400  # and in the metric (about 0.08 s)
    width: int = 4096
    device: str = "cuda"  # --device cpu --width 128 checks the plumbing on a machine without GPUs
    simulate_seconds: float = 0.0
    metric_seconds: float = 0.0

    def editor_config(self) -> dict[str, Any]:
        if self.simulate_seconds:
            return {"sleep_s": self.simulate_seconds}
        return {"products": self.edit_products, "width": self.width, "device": self.device}

    def metric_config(self) -> dict[str, Any]:
        if self.simulate_seconds:
            return {"sleep_s": self.metric_seconds}
        return {"products": self.score_products, "width": self.width, "device": self.device}


WORKLOAD = Workload()


class _ImageWork:
    """Fixed work per image: ``sleep_s`` seconds of sleep, or ``products`` chained bf16 products
    seeded by the image's pixels."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._weight: Any = None
        if "sleep_s" not in config:
            import torch  # noqa: F401  (while the actor is built, not inside the first timed edit)

    def run(self, image: np.ndarray) -> float:
        if "sleep_s" in self.config:
            time.sleep(self.config["sleep_s"])  # releases the CPU, like waiting for a GPU
            return float(image[:64, :64, 0].mean()) / 255
        import torch

        device, width = self.config["device"], self.config["width"]
        if self._weight is None:
            generator = torch.Generator(device=device).manual_seed(0)
            weight = torch.randn(width, width, device=device, generator=generator, dtype=torch.bfloat16)
            self._weight = weight / width**0.5
        pixels = torch.from_numpy(np.ascontiguousarray(image[:64, :64, 0])).to(device, torch.bfloat16)
        state = pixels.flatten().repeat(width * width // pixels.numel()).reshape(width, width) / 255
        for _ in range(self.config["products"]):
            state = torch.tanh(state @ self._weight)
        return float(state.float().mean().item())  # .item() waits for the GPU


class GpuStandInEditor(BaseEditor):
    """Stand-in GPU editor: after a fixed amount of work, returns the inverted source (a new image,
    which the runner encodes and stores like a real editor's output)."""

    name = "bench-gpu-editor"
    num_gpus = 1
    capabilities: ClassVar[EditorCapabilities] = EditorCapabilities(batch_size=32)
    cache_edits: ClassVar[bool] = False

    def __init__(self, **_: Any) -> None:
        self.work = _ImageWork(WORKLOAD.editor_config())

    def config(self) -> dict[str, Any]:
        return dict(self.work.config)

    def edit_one(self, request: EditRequest) -> EditResult:
        where = {"cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES", ""), "pid": os.getpid(),
                 "started_unix": time.time()}  # fmt: skip
        self.work.run(request.source)
        return EditResult(status="ok", image=255 - request.source, provider=where)


class GpuStandInMetric(BaseMetric):
    """Stand-in GPU metric: a fixed amount of work, then the value of that work."""

    name = "bench-gpu-metric"
    num_gpus = 1
    value_range = (-1.0, 1.0)

    def __init__(self, **_: Any) -> None:
        self.work = _ImageWork(WORKLOAD.metric_config())

    def config(self) -> dict[str, Any]:
        return dict(self.work.config)

    def compute(self, inp: ScoreInput) -> float:
        return self.work.run(inp.edited)


def _edit_rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line)["provider"] for line in (out / "edits.jsonl").read_text().splitlines()]


def _workers(out: Path) -> list[str]:
    """The distinct (CUDA_VISIBLE_DEVICES, pid) pairs that made the edits of a run."""
    return sorted({f"gpu {r['cuda_visible_devices']} pid {r['pid']}" for r in _edit_rows(out)})


def _progress(message: str) -> None:
    print(f"ray_scaling: {message}", file=sys.stderr, flush=True)


def _run(out: Path, samples: int) -> dict[str, float]:
    """One run: its wall time, and its time from the first edit's start to the end of the run
    (``steady_s``: without cluster start, actor start and model loading)."""
    from harness.runner import RunConfig, run_evaluation

    config = RunConfig(suites=["synth-edit"], editors=["bench-gpu-editor"], metrics=["bench-gpu-metric"],
                       limit=samples, out=out, use_cache=False, backend="ray")  # fmt: skip
    summary = run_evaluation(config)
    ended = time.time()
    assert summary.counters.edits_computed == samples and summary.counters.scores_computed == samples
    first_edit = min(row["started_unix"] for row in _edit_rows(out))
    return {"wall_s": round(summary.wall_seconds, 2), "steady_s": round(ended - first_edit, 2)}


def measure(gpus: int, samples: int, short: int, workdir: Path, repeats: int = 1) -> dict[str, Any]:
    """Short and long runs on a fresh local cluster with ``gpus`` GPUs (fake ones when simulating);
    throughput = (samples - short) / (long - short steady seconds), the median over ``repeats``."""
    import ray

    started = time.perf_counter()
    ray.init(num_cpus=os.cpu_count(), num_gpus=gpus, include_dashboard=False, log_to_driver=False)
    _progress(f"{gpus} GPU(s): Ray cluster up in {time.perf_counter() - started:.1f} s")
    pairs = []
    try:
        for repeat in range(repeats):
            pair = {}
            for label, n in (("short", short), ("long", samples)):
                pair[label] = _run(workdir / f"{gpus}gpu-{label}-{repeat}", n)
                _progress(f"{gpus} GPU(s): {label} run, {n} samples: {pair[label]['wall_s']:.1f} s wall, "
                          f"{pair[label]['steady_s']:.1f} s from the first edit")  # fmt: skip
            pair["samples_per_s"] = round(
                (samples - short) / (pair["long"]["steady_s"] - pair["short"]["steady_s"]), 3
            )
            pair["wall_samples_per_s"] = round(
                (samples - short) / (pair["long"]["wall_s"] - pair["short"]["wall_s"]), 3
            )
            pairs.append(pair)
    finally:
        ray.shutdown()
    return {"gpus": gpus, "runs": pairs, "samples_per_s": round(statistics.median(p["samples_per_s"] for p in pairs), 3),
            "edit_workers": _workers(workdir / f"{gpus}gpu-long-0")}  # fmt: skip


def _parse(argv: list[str] | None) -> argparse.Namespace:
    defaults = Workload()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=64, help="samples in the long run")
    parser.add_argument("--short", type=int, default=16, help="samples in the short run")
    parser.add_argument("--repeats", type=int, default=1, help="short + long pairs per configuration")
    parser.add_argument("--json", help="write the result as JSON to this file ('-': stdout)")
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument(
        "--width", type=int, default=defaults.width, help="matrix size (smaller for --device cpu)"
    )
    parser.add_argument(
        "--edit-products",
        type=int,
        default=defaults.edit_products,
        help="matrix products per image in the editor (800: the first measurement's size)",
    )
    parser.add_argument("--score-products", type=int, default=defaults.score_products)
    parser.add_argument(
        "--simulate-seconds",
        type=float,
        default=0.0,
        metavar="T",
        help="no GPU: fake Ray GPUs, the editor sleeps T s per image in its actor",
    )
    parser.add_argument("--metric-seconds", type=float, default=None, metavar="T",
                        help="with --simulate-seconds: the metric's sleep per image (default: half)")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    simulate = args.simulate_seconds > 0
    global WORKLOAD  # the stand-ins read it; Ray pickles them with its value
    WORKLOAD = Workload(
        edit_products=args.edit_products, score_products=args.score_products, width=args.width,
        device="sleep" if simulate else args.device, simulate_seconds=args.simulate_seconds,
        metric_seconds=args.simulate_seconds / 2 if args.metric_seconds is None else args.metric_seconds,
    )  # fmt: skip
    if not simulate and args.device == "cuda":
        import torch

        available = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if available < 2:
            print(f"ray_scaling: needs 2 CUDA GPUs, found {available} (--simulate-seconds T needs none)",
                  file=sys.stderr)  # fmt: skip
            return 2
    from harness import registry

    registry.editors.register("bench-gpu-editor", GpuStandInEditor)
    registry.metrics.register("bench-gpu-metric", GpuStandInMetric)
    result: dict[str, Any] = {"benchmark": "ray_scaling", "workload": asdict(WORKLOAD), "samples": args.samples,
                              "short": args.short, "goal": f">= {GOAL}", "started": time.time()}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        result["one_gpu"] = measure(1, args.samples, args.short, Path(tmp), args.repeats)
        write_json(args.json, result | {"machine": describe_machine()})
        result["two_gpus"] = measure(2, args.samples, args.short, Path(tmp), args.repeats)
    one, two = result["one_gpu"], result["two_gpus"]
    speedup = two["samples_per_s"] / one["samples_per_s"]
    wall = [statistics.median(r["wall_samples_per_s"] for r in c["runs"]) for c in (one, two)]
    result.update(speedup=round(speedup, 3), met=speedup >= GOAL, wall_speedup=round(wall[1] / wall[0], 3),
                  machine=describe_machine())  # fmt: skip
    kind = "fake GPU" if simulate else "GPU"
    print(f"ray_scaling: 1 {kind} {one['samples_per_s']:.2f} samples/s, 2 {kind}s {two['samples_per_s']:.2f} "
          f"samples/s, speedup {speedup:.2f}x (goal >= {GOAL}x: {'met' if result['met'] else 'NOT met'}); "
          f"from whole wall times {result['wall_speedup']:.2f}x")  # fmt: skip
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
