"""Several seeds of one training command, spread over the GPUs of one host.

Held-out numbers of one setting move by up to 15 points between seeds (docs/RESULTS.md), so a
setting is compared by several seeds and a checkpoint is chosen on a selection set. This runs
``ieval train STAGE ARGS --seed S --out OUT/seed_S`` for every seed (an ``--export DIR`` among
the arguments becomes ``DIR/seed_S``): ``per_gpu`` runs share each
GPU (the SmolLM2 runs leave most of one idle), each sees only its own GPU
(``CUDA_VISIBLE_DEVICES``), and without GPUs ``per_gpu`` runs go at once on the CPU. With
``gpus_per_run`` > 1 each run sees that many GPUs of its own instead ("0,1", "2,3"; e.g. for
``branch --parallel-arms``).

A seed whose run ended with exit status 0 is marked done (``OUT/seed_S/.done``) and skipped when
the same command runs again, so a killed sweep resumes where it stopped; a seed that did not
finish runs again into its own directory, where ``pipeline`` keeps its finished stages and resumes
its training from the newest checkpoint. A failed seed is recorded with its exit status and log,
and the others go on. A seed whose directory another live process is training (an earlier sweep
still running, see ``run_lock``) is recorded as busy, not started a second time, and not marked.
Each attempt adds to the seed's log under a line with its time and command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.atomic import write_json
from imageedit_r1.training.run_lock import BUSY_EXIT

STAGES: tuple[str, ...] = ("sft", "grpo", "pipeline", "branch")
OWNED_OPTIONS: tuple[str, ...] = ("--seed", "--out")
DONE_MARK = ".done"


class SeedsError(ValueError):
    """A seed list or stage arguments the launcher cannot run."""


@dataclass(frozen=True)
class SeedRun:
    seed: int
    status: str  # "ok", "failed", "busy" (being trained by another process) or "skipped" (done before)
    # for a skipped seed, seconds and gpu are those of the sweep that finished it
    returncode: int | None
    seconds: float
    gpu: str  # the CUDA_VISIBLE_DEVICES value the run saw ("" on the CPU)
    out: str
    log: str


def parse_seeds(text: str) -> list[int]:
    """'0,1,2' or '0-3' (or a mix) -> sorted distinct seeds."""
    seeds: set[int] = set()
    try:
        for part in (p.strip() for p in text.split(",") if p.strip()):
            low, sep, high = part.partition("-")
            seeds.update(range(int(low), int(high) + 1) if sep else (int(low),))
    except ValueError:
        raise SeedsError(f"seeds are written like 0,1,2 or 0-3; got {text!r}") from None
    if not seeds:
        raise SeedsError(f"no seeds in {text!r}")
    return sorted(seeds)


def check_stage_args(stage: str, args: Sequence[str]) -> None:
    if stage not in STAGES:
        raise SeedsError(f"stage must be one of {', '.join(STAGES)}, got {stage!r}")
    for arg in args:
        name = arg.split("=", 1)[0]
        if name in OWNED_OPTIONS:
            raise SeedsError(f"{name} is set per seed by the launcher; leave it out of the stage's arguments")


def per_seed_export(args: Sequence[str], seed: int) -> list[str]:
    """``--export DIR`` becomes ``--export DIR/seed_S``: every seed's shippable copy is kept."""
    out: list[str] = []
    follows = False
    for arg in args:
        if follows:
            arg, follows = str(Path(arg) / f"seed_{seed}"), False
        elif arg == "--export":
            follows = True
        elif arg.startswith("--export="):
            arg = f"--export={Path(arg.split('=', 1)[1]) / f'seed_{seed}'}"
        out.append(arg)
    return out


def stage_command(stage: str, args: Sequence[str], seed: int, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "harness.cli.main",
        "train",
        stage,
        *per_seed_export(args, seed),
        "--seed",
        str(seed),
        "--out",
        str(out),
    ]


def slots(gpus: int, per_gpu: int, gpus_per_run: int = 1) -> list[str]:
    """One CUDA_VISIBLE_DEVICES value per concurrent run ("" for CPU runs): ``per_gpu`` runs share
    each GPU, or each run gets ``gpus_per_run`` GPUs of its own (e.g. "0,1" and "2,3")."""
    if per_gpu < 1:
        raise SeedsError(f"runs per GPU must be at least 1, got {per_gpu}")
    if gpus_per_run < 1:
        raise SeedsError(f"GPUs per run must be at least 1, got {gpus_per_run}")
    if gpus <= 0:
        return [""] * per_gpu
    if gpus_per_run > 1:
        if per_gpu > 1:
            raise SeedsError("runs share a GPU (--per-gpu) or have several (--gpus-per-run), not both")
        if gpus_per_run > gpus:
            raise SeedsError(f"--gpus-per-run {gpus_per_run} needs at least as many GPUs; {gpus} given")
        starts = range(0, gpus - gpus_per_run + 1, gpus_per_run)
        return [",".join(str(g) for g in range(first, first + gpus_per_run)) for first in starts]
    return [str(gpu) for gpu in range(gpus) for _ in range(per_gpu)]


def _earlier_runs(summary: Path) -> dict[int, dict]:
    """seed -> its record in an earlier sweep's summary (none when absent or unreadable)."""
    try:
        return {int(run["seed"]): run for run in json.loads(summary.read_text(encoding="utf-8"))["runs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def run_seeds(
    stage: str,
    args: Sequence[str],
    seeds: Sequence[int],
    out: Path,
    gpus: int = 0,
    per_gpu: int = 1,
    on_done: Callable[[SeedRun], None] | None = None,
    gpus_per_run: int = 1,
) -> list[SeedRun]:
    """Run every seed not done yet, at most ``len(slots)`` at once; write ``out/seeds.json``."""
    check_stage_args(stage, args)
    free = slots(gpus, per_gpu, gpus_per_run)
    out.mkdir(parents=True, exist_ok=True)
    earlier = _earlier_runs(out / "seeds.json")

    def one(seed: int, gpu: str) -> SeedRun:
        target = out / f"seed_{seed}"
        log = out / f"seed_{seed}.log"
        if (target / DONE_MARK).exists():  # keep the finished run's time and GPU from the last summary
            done = earlier.get(seed, {})
            seconds, where = float(done.get("seconds", 0.0)), str(done.get("gpu", gpu))
            return SeedRun(seed, "skipped", 0, seconds, where, str(target), str(log))
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": gpu} if gpu else dict(os.environ)
        began = time.perf_counter()
        command = stage_command(stage, args, seed, target)
        with log.open("a", encoding="utf-8") as handle:  # a retry adds to the failed attempt's log
            stamp = time.strftime("%Y-%m-%d %H:%M:%S")
            handle.write(f"=== {stamp} GPU {gpu or 'none'}: {' '.join(command)}\n")
            handle.flush()
            code = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, env=env).returncode
        if code == 0:
            (target / DONE_MARK).write_text("ok\n", encoding="utf-8")
        run = SeedRun(
            seed,
            {0: "ok", BUSY_EXIT: "busy"}.get(code, "failed"),
            code,
            time.perf_counter() - began,
            gpu,
            str(target),
            str(log),
        )
        if on_done is not None:
            on_done(run)
        return run

    # seed k waits for slot k % len(free): one thread per slot runs its seeds in turn
    queues = {index: [s for k, s in enumerate(seeds) if k % len(free) == index] for index in range(len(free))}
    with ThreadPoolExecutor(max_workers=len(free)) as pool:
        done = pool.map(lambda item: [one(seed, free[item[0]]) for seed in item[1]], queues.items())
        runs = sorted((run for batch in done for run in batch), key=lambda run: run.seed)
    summary = {"stage": stage, "args": list(args), "runs": [asdict(run) for run in runs]}
    write_json(out / "seeds.json", summary)
    return runs
