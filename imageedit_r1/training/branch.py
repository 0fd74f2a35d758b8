"""GRPO against more SFT, both branched from one SFT checkpoint (``ieval train branch``).

Comparing GRPO with SFT alone over separate runs mixes in the spread between runs of one recipe,
which at this policy size is as large as the effects measured (docs/RESULTS.md). Here both arms
grow from the same checkpoint of one run, so each seed gives a paired difference:

1. **long** (SFT alone): ``ieval train sft --lr-schedule wsd`` to ``max_steps``, decaying over the
   last ``decay_steps``, a checkpoint every ``save_every`` steps (all kept while it trains, so a
   crash resumes; once it is final, only ``checkpoint-K`` stays);
2. **short**: from long's ``checkpoint-K`` (K = ``branch_at``, still at the constant learning
   rate), SFT to K + ``decay_steps`` with the same decay, on the training plans the long arm built
   (``OUT/sft_plans.pkl``, ``--data-cache``);
3. **grpo**: ``ieval train grpo`` from short's final checkpoint, for the GPU seconds the long arm
   spent after the branch minus those the short SFT spent (or a given ``grpo_seconds``); the
   seconds alone bound it unless ``--steps`` is among the GRPO options.

The arms run one after another on the same device, so the seconds compare like for like. GRPO
stops at the first step that ends past its seconds (up to one step over); ``branch.json`` records
both arms' seconds after the branch (``after_branch``). Each
stage runs as its own ``ieval train`` process (the GPU's memory is freed between them), logs to
``OUT/<stage>.log`` and resumes from its newest checkpoint when the command is run again; a
stage recorded in ``OUT/branch.json`` is not run again. Shippable float16 copies of the three
policies are written to ``OUT/export/{long,short,grpo}`` for ``bench/r1_paired_eval.py``.

With ``parallel_arms`` the short arm and GRPO start as soon as the long arm has written
``checkpoint-K`` and run beside it, on the second visible GPU (the long arm keeps the first; with
one device or none they share it). That halves the wall-clock time after the branch on a host
with GPUs to spare, but GRPO's seconds must then be given: the long arm's are not known while it
trains. ``branch.json`` records both arms' seconds after the branch either way.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.atomic import write_json
from imageedit_r1.training.logs import last_json
from imageedit_r1.training.run_lock import BUSY_EXIT

# options the branch sets for its stages; given in --sft or --grpo they would break the design
SFT_OWNED = ("--max-steps", "--lr-schedule", "--decay-steps", "--save-every", "--keep-checkpoints")
SFT_OWNED += ("--resume", "--seed", "--out", "--export", "--data-cache")
GRPO_OWNED = ("--init", "--out", "--seconds", "--resume", "--seed")
SUMMARY = "branch.json"
DATA_CACHE = "sft_plans.pkl"  # the SFT runs' training plans, built by the first (--data-cache)


class BranchError(ValueError):
    """Settings the design cannot run, or a stage that failed (``exit_code`` says how)."""

    def __init__(self, message: str, exit_code: int = 2, out_of_memory: bool = False) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.out_of_memory = out_of_memory  # a stage's log says the GPU ran out of memory


@dataclass
class BranchConfig:
    out: str
    max_steps: int  # the long arm's SFT steps
    branch_at: int  # K: the checkpoint both arms share
    decay_steps: int = 200
    save_every: int = 100
    grpo_seconds: float | None = None  # None: match the long arm's seconds after the branch
    sft_options: Sequence[str] = ()  # ieval train sft options of both SFT runs (model, data, lr, ...)
    grpo_options: Sequence[str] = ()  # ieval train grpo options (reward, prompts, temperature, ...)
    seed: int = 0
    parallel_arms: bool = False  # the short arm and GRPO beside the long arm, from checkpoint-K on
    oom_retries: int = 0  # a stage whose log says the GPU ran out of memory starts again, this often
    oom_wait: float = 60.0  # seconds before such a stage starts again (other runs may free memory)


# how a rerun treats these settings: they change how stages are run, not what the design measures
RUN_ONLY = ("oom_retries", "oom_wait")


def check_config(config: BranchConfig) -> None:
    """One clear error for settings that cannot give two arms from one checkpoint."""
    k, n, m = config.branch_at, config.decay_steps, config.max_steps
    if min(k, n, config.save_every) < 1:
        raise BranchError("--branch-at, --decay-steps and --save-every must be at least 1")
    if k % config.save_every:
        raise BranchError(
            f"--branch-at {k} is no multiple of --save-every {config.save_every}: no checkpoint there"
        )
    if k + n >= m:
        raise BranchError(
            f"--branch-at {k} + --decay-steps {n} must stay below --max-steps {m}: the long arm must "
            "still be at its constant learning rate at the branch and train longer than the short one"
        )
    for flag, options, owned in (
        ("--sft", config.sft_options, SFT_OWNED),
        ("--grpo", config.grpo_options, GRPO_OWNED),
    ):
        for name in map(option_name, options):
            if name in owned:
                raise BranchError(f"{name} is set by the branch; leave it out of {flag}")
    if config.grpo_seconds is not None and config.grpo_seconds <= 0:
        raise BranchError(f"--grpo-seconds must be positive, got {config.grpo_seconds}")
    if config.oom_retries < 0 or config.oom_wait < 0:
        raise BranchError("--oom-retries and --oom-wait must not be negative")
    if config.parallel_arms and config.grpo_seconds is None:
        raise BranchError(
            "--parallel-arms needs --grpo-seconds: GRPO starts while the long arm trains, "
            "before its seconds after the branch are known"
        )


def option_name(arg: str) -> str:
    """``--steps`` of ``--steps=5`` or ``--steps`` (a value passes through unchanged)."""
    return arg.split("=", 1)[0]


def checkpoint_seconds(checkpoint: Path) -> float:
    """Training seconds recorded in an SFT checkpoint (counted from the run's start)."""
    import torch

    from imageedit_r1.training.sft import STATE_FILE

    return float(torch.load(checkpoint / STATE_FILE, map_location="cpu", weights_only=False)["seconds"])


def _stage_env(device: str | None) -> dict[str, str] | None:
    return None if device is None else {**os.environ, "CUDA_VISIBLE_DEVICES": device}


def _header(argv: Sequence[str], device: str | None) -> tuple[list[str], str]:
    command = [sys.executable, "-m", "harness.cli.main", "train", *argv]
    where = "" if device is None else f"CUDA_VISIBLE_DEVICES={device} "
    return command, f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {where}{' '.join(command)}\n"


OUT_OF_MEMORY = ("CUDA out of memory", "OutOfMemoryError")  # what torch prints when the GPU is full


def _failed(argv: Sequence[str], returncode: int, log: Path, since: int = 0) -> BranchError:
    """The error of a stage that exited with ``returncode``; ``since``: where in ``log`` this
    attempt's output starts (an earlier attempt's out-of-memory report does not count)."""
    code = BUSY_EXIT if returncode == BUSY_EXIT else 1
    message = f"{argv[0]} stage failed (exit {returncode}); see {log}"
    out_of_memory = _ran_out_of_memory(log, since)
    if out_of_memory:
        message += (
            ": the GPU ran out of memory (other runs on it hold memory too); start fewer runs on it "
            "at once or allow --oom-retries, then run this command again to resume from the newest checkpoints"
        )
    return BranchError(message, exit_code=code, out_of_memory=out_of_memory)


def _ran_out_of_memory(log: Path, since: int = 0, tail: int = 20_000) -> bool:
    """Whether the end of a stage's log, from byte ``since`` on, reports that the GPU ran out of memory."""
    try:
        with log.open("rb") as handle:
            handle.seek(max(since, log.stat().st_size - tail))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return False
    return any(sign in text for sign in OUT_OF_MEMORY)


def _log_size(log: Path) -> int:
    return log.stat().st_size if log.is_file() else 0


@dataclass
class OomRetry:
    """Start a stage again when it ran out of GPU memory: up to ``times`` per stage, after ``wait``
    seconds; each start resumes from the stage's newest checkpoint."""

    times: int = 0
    wait: float = 60.0
    report: Callable[[str], None] = print
    used: dict[str, int] = field(default_factory=dict)  # stage -> retries so far

    def wait_to_retry(self, error: BranchError, stage: str) -> bool:
        """Whether ``stage``, which failed with ``error``, is to start again; if so, says so and
        waits first."""
        used = self.used.get(stage, 0)
        if used >= self.times or not error.out_of_memory:
            return False
        self.used[stage] = used + 1
        self.report(
            f"{stage} ran out of GPU memory; starting it again in {self.wait:g} s from its newest "
            f"checkpoint (retry {used + 1} of {self.times})"
        )
        time.sleep(self.wait)
        return True


def run_stage(argv: Sequence[str], log: Path, device: str | None = None) -> str:
    """``ieval train ARGV`` as a child process, its output appended to ``log``; returns the output.
    ``device``: the child's CUDA_VISIBLE_DEVICES (None: as this process has it)."""
    since = _log_size(log)
    command, header = _header(argv, device)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(header)
        handle.flush()
        done = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_stage_env(device)
        )
        handle.write(done.stdout)
    if done.returncode:
        raise _failed(argv, done.returncode, log, since)
    return done.stdout


def run_stage_retrying(
    make_argv: Callable[[], Sequence[str]], log: Path, device: str | None, retry: OomRetry, stage: str
) -> str:
    """:func:`run_stage`, started again while ``retry`` allows; ``make_argv`` is asked anew for each
    start, so a restart resumes from the checkpoints the failed start left."""
    while True:
        try:
            return run_stage(make_argv(), log, device)
        except BranchError as error:
            if not retry.wait_to_retry(error, stage):
                raise


def start_stage(argv: Sequence[str], log: Path, device: str | None = None) -> subprocess.Popen:
    """``ieval train ARGV`` started in the background, its output appended to ``log``."""
    command, header = _header(argv, device)
    with log.open("a", encoding="utf-8") as handle:  # the child keeps its own copy of the handle
        handle.write(header)
        handle.flush()
        return subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, env=_stage_env(device))


@dataclass
class BackgroundStage:
    """A stage running beside the others (the long arm with --parallel-arms), started again from
    its newest checkpoint when it runs out of GPU memory and ``retry`` allows."""

    argv: Sequence[str]
    log: Path
    device: str | None
    retry: OomRetry
    name: str
    process: subprocess.Popen | None = None
    since: int = 0  # where in the log the latest start's output begins

    def start(self) -> None:
        self.since = _log_size(self.log)
        self.process = start_stage(self.argv, self.log, self.device)

    def restart_or_error(self) -> BranchError | None:
        """After the process failed: None if it was started again, else the stage's error."""
        assert self.process is not None and self.process.returncode
        error = _failed(self.argv, self.process.returncode, self.log, self.since)
        if not self.retry.wait_to_retry(error, self.name):
            self.process = None
            return error
        self.start()
        return None

    def stop(self) -> None:
        """Stop it if it still runs (a rerun resumes it from its newest checkpoint)."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


def wait_for_checkpoint(process: subprocess.Popen, marker: Path, poll: float = 2.0) -> bool:
    """Wait until ``marker`` exists (True) or ``process`` has ended without it (False)."""
    while not marker.is_file():
        if process.poll() is not None:
            return marker.is_file()
        time.sleep(poll)
    return True


def arm_devices(visible: str | None, count: int) -> tuple[str | None, str | None]:
    """CUDA_VISIBLE_DEVICES of the long arm and of the short arm + GRPO, from this process's
    ``visible`` (None when unset) and the number of GPUs it sees: the first two devices; with
    fewer than two, (None, None): both arms on the one device (or the CPU)."""
    ids = [d.strip() for d in visible.split(",") if d.strip()] if visible is not None else None
    if ids is None:
        ids = [str(i) for i in range(count)]
    return (ids[0], ids[1]) if len(ids) >= 2 else (None, None)


def run_branch(config: BranchConfig, report: Callable[[str], None] = print) -> dict[str, Any]:
    """Run (or resume) the three stages; returns and writes ``OUT/branch.json``."""
    from imageedit_r1.training.checkpoints import complete_checkpoints, latest_checkpoint
    from imageedit_r1.training.sft import STATE_FILE

    check_config(config)
    out = Path(config.out)
    out.mkdir(parents=True, exist_ok=True)
    long, short, export = out / "long", out / "short", out / "export"
    summary_path = out / SUMMARY
    settings = json.loads(json.dumps(asdict(config)))  # as branch.json stores them (lists, not tuples)
    summary: dict[str, Any] = {"config": settings, "stages": {}}
    if summary_path.is_file():
        earlier = json.loads(summary_path.read_text(encoding="utf-8"))
        # GRPO's seconds may still change while GRPO has not run (e.g. after "no seconds are left")
        open_keys = RUN_ONLY + (() if "grpo" in earlier.get("stages", {}) else ("grpo_seconds",))
        old = {k: v for k, v in earlier.get("config", {}).items() if k not in open_keys}
        old.setdefault("parallel_arms", False)  # a record made before the option existed
        if old != {k: v for k, v in settings.items() if k not in open_keys}:
            raise BranchError(
                f"{out} holds a branch run with other settings; rerun with them or use another --out"
            )
        summary = {**earlier, "config": settings}
    stages = summary["stages"]

    def save() -> None:  # written whole: a kill cannot tear it
        write_json(summary_path, summary)

    def record(stage: str, value: dict[str, Any]) -> None:
        stages[stage] = value
        save()
        report(f"{stage}: {json.dumps(value)[:300]}")

    seed = ["--seed", str(config.seed)]
    schedule = ["--lr-schedule", "wsd", "--decay-steps", str(config.decay_steps)]
    # both SFT runs train on the same plans: the long arm builds them once, the short arm reads them
    data = ["--data-cache", str(out / DATA_CACHE)]
    branch_point = long / f"checkpoint-{config.branch_at}"
    long_argv = (
        ["sft", *config.sft_options, *schedule, *data, "--max-steps", str(config.max_steps)]
        + ["--save-every", str(config.save_every), "--keep-checkpoints", "0", "--resume", "latest"]
        + [*seed, "--out", str(long), "--export", str(export / "long")]
    )
    long_device = arms_device = None
    if config.parallel_arms:
        import torch

        long_device, arms_device = arm_devices(
            os.environ.get("CUDA_VISIBLE_DEVICES"), torch.cuda.device_count()
        )
        where = "one device" if long_device is None else f"devices {long_device} and {arms_device}"
        report(f"parallel arms on {where}")

    def finish_long() -> None:  # the long arm has ended: keep checkpoint-K, record its seconds
        if not (branch_point / STATE_FILE).is_file():
            raise BranchError(f"the long arm left no complete {branch_point}", exit_code=1)
        total = checkpoint_seconds(long / "final")
        at_branch = checkpoint_seconds(branch_point)
        for checkpoint in complete_checkpoints(long, STATE_FILE):  # the long arm is final: keep only K
            if checkpoint != branch_point:
                shutil.rmtree(checkpoint)
        record("long", {"seconds": total, "seconds_at_branch": at_branch, "after_branch": total - at_branch})

    retry = OomRetry(config.oom_retries, config.oom_wait, report)
    long_arm = BackgroundStage(long_argv, out / "long.log", long_device, retry, "the long arm")
    short_steps = str(config.branch_at + config.decay_steps)

    def short_argv() -> list[str]:  # from its own newest checkpoint, else from checkpoint-K
        own = latest_checkpoint(short, STATE_FILE)
        start = "latest" if (short / "final" / STATE_FILE).is_file() else str(own or branch_point)
        report(f"short arm: SFT from {start} to {short_steps} steps")
        return (
            ["sft", *config.sft_options, *schedule, *data, "--max-steps", short_steps]
            + ["--save-every", str(config.save_every), "--resume", start]
            + [*seed, "--out", str(short), "--export", str(export / "short")]
        )

    try:
        if "long" not in stages:
            report(f"long arm: SFT to {config.max_steps} steps")
            if config.parallel_arms:  # the other arm starts once checkpoint-K is complete
                long_arm.start()
                while not wait_for_checkpoint(long_arm.process, branch_point / STATE_FILE):
                    if not long_arm.process.returncode:
                        raise BranchError(f"the long arm left no complete {branch_point}", exit_code=1)
                    if (error := long_arm.restart_or_error()) is not None:
                        raise error
            else:
                run_stage_retrying(lambda: long_argv, long_arm.log, None, retry, long_arm.name)
                finish_long()
        if "short" not in stages:
            run_stage_retrying(short_argv, out / "short.log", arms_device, retry, "the short arm")
            after = checkpoint_seconds(short / "final") - checkpoint_seconds(branch_point)
            record("short", {"after_branch": after, "branched_from": str(branch_point)})
        if "grpo" not in stages:
            run_grpo(config, settings, stages, record, report, arms_device, retry)
        while long_arm.process is not None:  # the long arm beside the others: wait for its end
            if long_arm.process.wait() == 0:
                long_arm.process = None
                finish_long()
            elif (error := long_arm.restart_or_error()) is not None:
                raise error
    finally:
        long_arm.stop()  # still running only if the other arm failed
    summary["exports"] = {arm: str(export / arm) for arm in ("long", "short", "grpo")}
    summary["after_branch"] = {
        "sft_alone": stages["long"]["after_branch"],
        "sft_then_grpo": stages["short"]["after_branch"] + float(stages["grpo"]["seconds"] or 0.0),
    }
    save()
    return summary


def run_grpo(
    config: BranchConfig,
    settings: dict[str, Any],
    stages: dict[str, Any],
    record: Callable[[str, dict[str, Any]], None],
    report: Callable[[str], None],
    device: str | None,
    retry: OomRetry | None = None,
) -> None:
    """GRPO from the short arm for the given seconds, or the long arm's after the branch minus the
    short SFT's; exported to OUT/export/grpo (its card holds the branch ``settings``) and recorded.
    ``retry``: started again from its newest checkpoint when it runs out of GPU memory."""
    from imageedit_r1.policy import export_checkpoint, read_card
    from imageedit_r1.training.checkpoints import PROGRESS_FILE, latest_checkpoint

    out = Path(config.out)
    short, grpo = out / "short", out / "grpo"
    seconds = config.grpo_seconds
    if seconds is None:
        seconds = stages["long"]["after_branch"] - stages["short"]["after_branch"]
        if seconds <= 0:
            raise BranchError(
                f"the short SFT took longer ({stages['short']['after_branch']:.1f} s) than the long arm after "
                f"the branch ({stages['long']['after_branch']:.1f} s): no seconds are left for GRPO"
            )
    # the seconds bound GRPO, not ieval train grpo's default step count (unless --steps is given)
    steps = [] if "--steps" in map(option_name, config.grpo_options) else ["--steps", "1000000"]

    def grpo_argv() -> list[str]:
        resume = latest_checkpoint(grpo, PROGRESS_FILE)
        report(
            f"GRPO from the short arm for {seconds:.1f} s" + (f", resuming from {resume}" if resume else "")
        )
        return (
            [
                "grpo",
                "--init",
                str(short / "final"),
                *steps,
                *config.grpo_options,
                "--seconds",
                f"{seconds:.3f}",
            ]
            + (["--resume", str(resume)] if resume else [])
            + ["--seed", str(config.seed), "--out", str(grpo)]
        )

    output = run_stage_retrying(grpo_argv, out / "grpo.log", device, retry or OomRetry(), "GRPO")
    result = last_json(output)
    card = {
        "stages": ["sft", "grpo"],
        "smoke": read_card(short / "final").get("smoke") is True,
        "config": {"branch": settings},
    }
    export_checkpoint(grpo / "final", out / "export" / "grpo", card)
    record(
        "grpo",
        {
            "seconds_budget": seconds,
            "seconds": result.get("seconds"),
            "steps": result.get("steps"),
            "last_reward": result.get("last_reward"),
        },
    )
