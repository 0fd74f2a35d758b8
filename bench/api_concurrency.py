"""Throughput and bookkeeping of the API client layer against the loopback mock server.

1,000 edits of small (64x64) images through ``openai/gpt-image-1`` against ``ieval mock-server``
running in its own process with 0.5 s latency per call and a concurrency limit of 32. The bound
is concurrency / latency = 64 edits/s. Measured twice without faults (one ``edit()`` call with
all requests, and runner-style batches of ``capabilities.batch_size``), then once with 10% of
prompts answered 429 + ``Retry-After: 1`` on their first call, checking that every sample comes
back exactly once with its own image and that the server served each edit once.

    python bench/api_concurrency.py [--n 1000] [--latency 0.5] [--concurrency 32] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from baselines.api.mock import mock_edit
from baselines.api.openai_images import GptImage1
from baselines.api.transport import RetryPolicy
from harness.types import EditRequest


@dataclass
class Measurement:
    name: str
    n: int
    seconds: float
    statuses: dict[str, int]
    wrong_images: int
    server: dict[str, Any]
    client_calls: int

    @property
    def edits_per_s(self) -> float:
        return self.n / self.seconds


@contextmanager
def mock_process(latency: float, faults: str):
    """``python -m baselines.api.mock`` in its own process; yields its base URL."""
    cmd = [sys.executable, "-m", "baselines.api.mock", "--port", "0", "--latency", str(latency)]
    if faults:
        cmd += ["--faults", faults]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        if not line.startswith("mock API server listening on "):
            raise RuntimeError(f"mock server did not start: {line!r}")
        yield line.rsplit(" ", 1)[-1].strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def make_requests(n: int, size: int, tag: str) -> list[EditRequest]:
    rng = np.random.default_rng(0)
    return [
        EditRequest(
            f"{tag}-{i:05d}", rng.integers(0, 256, (size, size, 3), dtype=np.uint8), f"{tag} edit {i}"
        )
        for i in range(n)
    ]


def measure(
    name: str, url: str, requests: list[EditRequest], concurrency: int, batch: int | None
) -> Measurement:
    editor = GptImage1(base_url=f"{url}/openai", max_concurrency=concurrency, retry=RetryPolicy())
    httpx.post(f"{url}/_reset")
    start = time.perf_counter()
    if batch is None:
        results = editor.edit(requests)
    else:
        results = []
        for offset in range(0, len(requests), batch):
            results.extend(editor.edit(requests[offset : offset + batch]))
    seconds = time.perf_counter() - start
    wrong = sum(
        1
        for request, result in zip(requests, results, strict=True)
        if result.image is None or not np.array_equal(result.image, mock_edit(request.source))
    )
    return Measurement(
        name,
        len(results),
        seconds,
        dict(Counter(r.status for r in results)),
        wrong,
        httpx.get(f"{url}/_stats").json(),
        sum(r.usage.calls for r in results),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--fault-rate", type=float, default=0.1)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    os.environ.setdefault("OPENAI_API_KEY", "sk-bench-not-a-real-key")
    bound = args.concurrency / args.latency
    batch = GptImage1.capabilities.batch_size
    runs: list[Measurement] = []
    with mock_process(args.latency, "") as url:
        runs.append(
            measure("one edit() call", url, make_requests(args.n, args.size, "a"), args.concurrency, None)
        )
        runs.append(
            measure(
                f"batches of {batch}", url, make_requests(args.n, args.size, "b"), args.concurrency, batch
            )
        )
    with mock_process(args.latency, f"429={args.fault_rate},retry_after=1") as url:
        name = f"{args.fault_rate:.0%} 429, one call"
        runs.append(measure(name, url, make_requests(args.n, args.size, "c"), args.concurrency, None))
    ok = True
    cpus = len(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    print(
        f"bound: {args.concurrency} / {args.latency} s = {bound:.1f} edits/s; {cpus} usable cores; load {load:.1f}"
    )
    for run in runs:
        server = run.server
        faults = sum(server["faults"].values())
        accounted = (
            run.statuses.get("ok", 0) == args.n
            and run.wrong_images == 0
            and server["edits_served"] == args.n
            and server["duplicate_edits"] == 0
            and server["total_calls"] == args.n + faults == run.client_calls
        )
        ok = ok and accounted
        print(
            f"{run.name:<20} {run.edits_per_s:6.1f} edits/s ({run.edits_per_s / bound:5.1%} of bound) "
            f"in {run.seconds:6.2f} s; statuses {run.statuses}; 429s {faults}; calls {server['total_calls']}; "
            f"served {server['edits_served']}; duplicates {server['duplicate_edits']}; wrong images "
            f"{run.wrong_images}; all accounted: {accounted}"
        )
    if args.json:
        payload = {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "args": vars(args),
            "bound_edits_per_s": bound,
            "runs": [{**run.__dict__, "edits_per_s": run.edits_per_s} for run in runs],
        }
        with open(args.json, "w") as handle:
            json.dump(payload, handle, indent=2)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
