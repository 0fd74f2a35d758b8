"""Memory while streaming a 20,000-sample synth-edit suite through the runner.

``SynthEditSuite(n_per_level=5000)`` (4 levels, 20,000 samples) is registered as
``synth-edit-20k`` and run with ``identity`` and one metric (``psnr``), local backend, no cache.
Memory is the OS's accounting: VmRSS after the imports is the baseline; the result is the peak
(VmHWM) minus that baseline, plus VmRSS sampled every second, so growth that rises with the
number of samples shows up as a slope.

    python bench/streaming_memory.py --json streaming_memory.json
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from machine_info import describe_machine, write_json

GOAL_MB = 500


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field}")


class RssSampler(threading.Thread):
    """Reads VmRSS every ``interval`` seconds until stopped."""

    def __init__(self, interval: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop_event = threading.Event()

    def run(self) -> None:
        start = time.perf_counter()
        while not self._stop_event.is_set():
            self.samples.append((round(time.perf_counter() - start, 1), _status_kb("VmRSS")))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-level", type=int, default=5000, help="samples per level (4 levels)")
    parser.add_argument("--size", type=int, default=256, help="canvas size in pixels")
    parser.add_argument("--json", help="write the result as JSON to this file ('-': stdout)")
    args = parser.parse_args(argv)

    from harness import registry
    from harness.planning import resolve_plan
    from harness.runner import RunConfig, run_evaluation
    from harness.suites.synth_edit.suite import SynthEditSuite

    suite = functools.partial(SynthEditSuite, n_per_level=args.per_level, size=args.size)
    registry.suites.register("synth-edit-20k", suite)
    samples = 4 * args.per_level
    config = RunConfig(suites=["synth-edit-20k"], editors=["identity"], metrics=["psnr"], use_cache=False)
    resolve_plan(config)  # import every module the run needs before taking the baseline
    baseline_kb = _status_kb("VmRSS")
    sampler = RssSampler()
    sampler.start()
    with tempfile.TemporaryDirectory() as tmp:
        config.out = Path(tmp) / "run"
        summary = run_evaluation(config)
    sampler.stop()
    peak_kb = _status_kb("VmHWM")
    growth_mb = (peak_kb - baseline_kb) / 1024
    trace = sampler.samples
    quarter = [trace[min(len(trace) - 1, i * len(trace) // 4)] for i in range(1, 4)] + [trace[-1]]
    result: dict[str, Any] = {
        "benchmark": "streaming_memory", "samples": samples, "size": args.size,
        "records": summary.counters.records_written, "wall_s": round(summary.wall_seconds, 1),
        "baseline_rss_mb": round(baseline_kb / 1024, 1), "peak_rss_mb": round(peak_kb / 1024, 1),
        "growth_mb": round(growth_mb, 1),
        "rss_mb_at_quarters": [(t, round(kb / 1024, 1)) for t, kb in quarter],
        "goal": f"< {GOAL_MB} MB", "met": growth_mb < GOAL_MB, "machine": describe_machine(),
    }  # fmt: skip
    print(f"streaming_memory: {samples} samples in {summary.wall_seconds:.0f}s, peak RSS {peak_kb / 1024:.0f} MB, "
          f"growth over the post-import baseline {growth_mb:.0f} MB (goal < {GOAL_MB} MB: "
          f"{'met' if result['met'] else 'NOT met'})")  # fmt: skip
    write_json(args.json, result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
