"""bench/api_concurrency.py runs end to end on a small load and accounts for every sample."""

from __future__ import annotations

import json
from pathlib import Path


def test_concurrency_bench_small_run(tmp_path: Path, run_bench) -> None:
    out = tmp_path / "bench.json"
    args = ["--n", "40", "--latency", "0.05", "--concurrency", "8", "--fault-rate", "0.2", "--json", str(out)]
    run_bench("api_concurrency.py", *args, timeout=240)
    report = json.loads(out.read_text())
    assert report["bound_edits_per_s"] == 8 / 0.05
    runs = {run["name"]: run for run in report["runs"]}
    faulted = runs["20% 429, one call"]
    injected = sum(faulted["server"]["faults"].values())
    assert injected > 0
    assert faulted["server"]["total_calls"] == 40 + injected == faulted["client_calls"]
    assert all(run["statuses"] == {"ok": 40} and run["wrong_images"] == 0 for run in report["runs"])
