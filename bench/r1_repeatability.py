"""Do two SFT runs with the same seed give the same policy? With and without deterministic kernels.

Runs ``ieval train sft`` with one set of options and one seed ``--runs`` times per mode, the modes
alternating (default 1, deterministic 1, default 2, ...) so that drift of the machine falls on
both; the training plans are built once (``--data-cache``) and read by every run. Then, per mode,
each later run is compared with the mode's first:

- ``identical``: every adapter (or model) tensor equal, bit for bit;
- ``max_abs_diff``: the largest difference between two weights;
- ``first_loss_difference``: the first logged step whose loss differs (``None``: none does);
- ``seconds``: each run's training seconds (its last metrics row), and the ratio of the modes'
  means, measured side by side in this one process.

Usage: python bench/r1_repeatability.py --out DIR [--runs 2] [--seed 0] [--json FILE] -- SFT-OPTIONS
(SFT-OPTIONS as for ``ieval train sft``, without --out, --seed, --deterministic or --data-cache).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODES = ("default", "deterministic")
OWN_OPTIONS = ("--out", "--seed", "--deterministic", "--data-cache")


def run_sft(options: list[str], out: Path, seed: int, deterministic: bool, cache: Path) -> dict[str, Any]:
    """One ``ieval train sft`` run in its own process; its summary (the JSON it prints last)."""
    command = [sys.executable, "-m", "harness.cli.main", "train", "sft", *options]
    command += ["--out", str(out), "--seed", str(seed), "--data-cache", str(cache)]
    command += ["--deterministic"] if deterministic else []
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise SystemExit(f"error: the SFT run into {out} failed (exit {done.returncode}): {tail[0]}")
    from imageedit_r1.training.logs import last_json

    summary = last_json(done.stdout)
    summary["wall_seconds"] = time.perf_counter() - started
    return summary


def losses(run_dir: Path) -> dict[int, float]:
    from imageedit_r1.training.logs import MetricsLog

    rows = MetricsLog(run_dir / "metrics.jsonl").records()
    return {int(r["step"]): float(r["loss"]) for r in rows if "loss" in r}


def weights(checkpoint: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    tensors: dict[str, Any] = {}
    for path in sorted(checkpoint.glob("*.safetensors")):
        tensors.update(load_file(str(path)))
    return tensors


def compare(first: Path, other: Path) -> dict[str, Any]:
    """How far run ``other`` is from run ``first`` (their final checkpoints and logged losses)."""
    import torch

    a, b = weights(first / "final"), weights(other / "final")
    if a.keys() != b.keys():
        raise SystemExit(f"error: {first} and {other} hold different tensors")
    diff = max((float((a[k].double() - b[k].double()).abs().max()) for k in a), default=0.0)
    same = all(torch.equal(a[k], b[k]) for k in a)
    la, lb = losses(first), losses(other)
    differing = sorted(step for step in la.keys() & lb.keys() if la[step] != lb[step])
    return {
        "identical": same,
        "max_abs_diff": diff,
        "first_loss_difference": differing[0] if differing else None,
        "loss_steps_compared": len(la.keys() & lb.keys()),
    }


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    own, options = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=2, help="runs per mode (at least 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="write the report here ('-': stdout)")
    args = parser.parse_args(own)
    if args.runs < 2:
        parser.error("--runs must be at least 2: a run is compared with another")
    clash = [o for o in options if o.split("=")[0] in OWN_OPTIONS]
    if clash:
        parser.error(f"{clash[0]} is set by the bench; leave it out of the SFT options")
    from rich.console import Console

    console = Console(stderr=True)
    cache = args.out / "plans.pkl"
    args.out.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, list[dict[str, Any]]] = {mode: [] for mode in MODES}
    for index in range(args.runs):
        for mode in MODES:
            run_dir = args.out / f"{mode}_{index + 1}"
            with console.status(f"SFT {mode} run {index + 1} of {args.runs}"):
                summary = run_sft(options, run_dir, args.seed, mode == "deterministic", cache)
            if bool(summary.get("deterministic")) != (mode == "deterministic"):
                raise SystemExit(
                    f"error: run {run_dir} did not record deterministic={mode == 'deterministic'}"
                )
            summaries[mode].append(summary)
            console.print(f"{run_dir.name}: {summary['seconds']:.1f} s, final loss {summary['final_loss']!r}")
    import torch  # noqa: F401  (so that the machine description names the GPU)

    from bench.machine_info import describe_machine, write_json

    report: dict[str, Any] = {"seed": args.seed, "runs": args.runs, "sft_options": options, "modes": {}}
    for mode in MODES:
        first = args.out / f"{mode}_1"
        report["modes"][mode] = {
            "seconds": [s["seconds"] for s in summaries[mode]],
            "final_loss": [s["final_loss"] for s in summaries[mode]],
            "against_first": [compare(first, args.out / f"{mode}_{i + 1}") for i in range(1, args.runs)],
        }
    means = {mode: statistics.mean(report["modes"][mode]["seconds"]) for mode in MODES}
    report["deterministic_over_default_seconds"] = means["deterministic"] / means["default"]
    report["torch"] = torch.__version__
    report["cuda"] = torch.version.cuda
    report["machine"] = describe_machine()
    write_json(args.json or "-", report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
