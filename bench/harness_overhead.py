"""Harness overhead: samples/s of ``identity`` + the pixel metrics on synth-edit at 256x256, and the
share of wall time spent outside editor and metric code.

Runs the real runner (local backend, no cache, fresh ``--out``) and reads its counters:
overhead = 1 - (editor_seconds + metric_seconds) / wall_seconds. What is left is the suite's
sample generation, hashing, PNG encoding into the run's image store, JSONL records and the
leaderboard. ``--profile`` adds the top functions by own time (cProfile).

    python bench/harness_overhead.py --samples 200 --json overhead.json
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
from pathlib import Path
from typing import Any

from machine_info import describe_machine, write_json

PIXEL_METRICS = ("l1", "l2", "psnr", "ssim", "preserve_psnr", "preserve_ssim", "edit_region_psnr")
GOAL = 0.10


def measure(samples: int, out: Path, profile: bool = False) -> dict[str, Any]:
    from harness.runner import RunConfig, run_evaluation

    config = RunConfig(suites=["synth-edit"], editors=["identity"], metrics=list(PIXEL_METRICS),
                       limit=samples, out=out, use_cache=False)  # fmt: skip
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    summary = run_evaluation(config)
    if profiler:
        profiler.disable()
    c = summary.counters
    inside = c.editor_seconds + c.metric_seconds
    result: dict[str, Any] = {
        "samples": samples,
        "wall_s": round(summary.wall_seconds, 3),
        "editor_s": round(c.editor_seconds, 3),
        "metric_s": round(c.metric_seconds, 3),
        "samples_per_s": round(samples / summary.wall_seconds, 2),
        "overhead_share": round(1 - inside / summary.wall_seconds, 4),
        "records": c.records_written,
    }
    if profiler:
        result["profile_top"] = _top_functions(profiler)
    return result


def _top_functions(profiler: cProfile.Profile, n: int = 15) -> list[str]:
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(n)
    lines = [line.strip() for line in stream.getvalue().splitlines()]
    start = next(i for i, line in enumerate(lines) if line.startswith("ncalls"))
    return [line for line in lines[start + 1 :] if line][:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="add the top functions by own time")
    parser.add_argument("--json", help="write the result as JSON to this file ('-': stdout)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = measure(args.samples, Path(tmp) / "run", profile=args.profile)
    result.update(benchmark="harness_overhead", goal=f"< {GOAL:.0%}", met=result["overhead_share"] < GOAL,
                  machine=describe_machine())  # fmt: skip
    print(f"harness_overhead: {result['samples_per_s']:.1f} samples/s, {result['wall_s']:.1f}s wall, "
          f"outside editor+metrics {result['overhead_share']:.1%} (goal < {GOAL:.0%}: "
          f"{'met' if result['met'] else 'NOT met'})")  # fmt: skip
    for line in result.get("profile_top", []):
        print("  " + line)
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
