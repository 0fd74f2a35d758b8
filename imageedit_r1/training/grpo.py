"""GRPO with trl's ``GRPOTrainer``: plan-then-execute as single-turn RL.

Each prompt is an observation (instruction + grounded scene); the policy samples a group of plans;
the reward function executes every plan in the editing environment and scores the final image with
harness metrics (``imageedit_r1.rewards``). Checkpoints are safetensors; a JSONL metrics log and a
learning-curve PNG are written to the output directory; ``resume_from`` continues a run from one of
its ``checkpoint-N`` directories (trl/transformers resume) or starts from an SFT checkpoint.

Checkpoints are saved every ``save_steps`` steps and, with ``save_seconds``, also whenever that much
training time has passed since the last one; ``keep_checkpoints`` bounds how many stay on disk.
Each one gets ``ieval_progress.json`` (its step and the training seconds so far) once the trainer's
files are written: only such a checkpoint counts as complete, and a run resumed from it continues
its time budget and its ``seconds`` from there instead of from zero. A resumed run repeats the
uninterrupted one exactly, also past the first pass over the prompts (tested on the CPU: same
rewards, same final adapter). For that, pass ``e`` is ordered by a generator seeded with
``seed + e`` (:func:`order_passes_by_seed`): trl's sampler draws each pass from one generator that
restarts with the process, so after a resume its next pass would repeat the first pass's order.
The first pass is trl's own order, so runs recorded before this change are unchanged (none of them
went past its first pass: the shipped recipe's prompts make 93 steps a pass).

With ``beta > 0`` the KL penalty is taken against the policy GRPO starts from. For a LoRA adapter,
trl keeps a frozen copy of it under the adapter name ``ref`` (not the bare base model, which would
pull the policy back past its SFT stage); the copy is left out of the saved checkpoint.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from imageedit_r1.data import PlanExample
from imageedit_r1.drafts import write_observation
from imageedit_r1.training.checkpoints import checkpoint_step, read_progress, write_progress
from imageedit_r1.training.determinism import describe_stack, deterministic_kernels
from imageedit_r1.training.logs import MetricsLog, plot_curves
from imageedit_r1.training.merged_sampling import MergedSampling, merged_sampling_problem

SCALINGS = ("group", "batch", "none")  # trl's scale_rewards: what a group's advantages are divided by


@dataclass
class GRPORunConfig:
    output_dir: str
    init_checkpoint: str
    reward: str = "harness"
    max_steps: int = 200
    prompts_per_step: int = 16
    num_generations: int = 8
    num_iterations: int = 1  # optimisation passes over each generated batch (GRPO's mu)
    scale_rewards: str = "group"  # advantages divided by the group's std (trl's default), "batch" or "none"
    learning_rate: float = 5e-5
    beta: float = 0.0
    temperature: float = 1.0
    max_completion_length: int = 128
    seed: int = 0
    save_steps: int = 100
    logging_steps: int = 5
    resume_from: str | None = None
    time_budget_s: float | None = None  # stop (and save) once training has run this long
    save_seconds: float = 0.0  # > 0: also save a checkpoint after this much training time
    keep_checkpoints: int | None = None  # keep only the newest this many checkpoints (None: all)
    merged_sampling: bool = True  # sample with the LoRA adapter merged into the base (merged_sampling.py)
    deterministic: bool = False  # deterministic kernels while training (determinism.py)


def agree(flags: Sequence[bool], device: Any = "cpu") -> list[bool]:
    """The same decisions on every process of a distributed run: a flag set on any process is set
    on all (one all-reduce). Without a process group, the flags as they are."""
    import torch
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return [bool(f) for f in flags]
    votes = torch.tensor([int(bool(f)) for f in flags], device=device)
    dist.all_reduce(votes, op=dist.ReduceOp.MAX)
    return [bool(v) for v in votes.tolist()]


def order_passes_by_seed(sampler: Any) -> Any:
    """Give trl's ``RepeatSampler`` a ``set_epoch`` (which the trainer calls before every pass,
    also the first one after a resume): pass ``e`` is shuffled by a generator seeded with
    ``seed + e``. Pass 0 is the sampler's own first order. A sampler that does not shuffle, or has
    no seed, is returned unchanged."""
    if not getattr(sampler, "shuffle", False) or getattr(sampler, "seed", None) is None:
        return sampler
    seed = int(sampler.seed)

    def set_epoch(epoch: int) -> None:
        sampler.generator.manual_seed(seed + int(epoch))

    sampler.set_epoch = set_epoch
    return sampler


CURVE_KEYS = ("reward", "reward_std", "synth-edit/synth_exact", "photo-ops/psnr", "loss", "well_formed")


def step_times(timing: dict[str, float], step: int, reward_seconds: float) -> dict[str, float]:
    """Seconds per step since the last call, split into ``sample_seconds`` (generation and
    log-probabilities), ``reward_seconds`` (executing and scoring the plans) and ``update_seconds``
    (loss, backward, optimizer: the rest); ``timing`` carries the running totals between calls."""
    steps = step - timing["step"]
    if steps <= 0:
        return {}
    now = time.perf_counter()
    wall, rollout = now - timing["clock"], timing["rollout"]
    reward = reward_seconds - timing["reward"]
    timing.update(rollout=0.0, reward=reward_seconds, step=step, clock=now)
    return {
        "step_seconds": wall / steps,
        "sample_seconds": max(rollout - reward, 0.0) / steps,
        "reward_seconds": reward / steps,
        "update_seconds": max(wall - rollout, 0.0) / steps,
    }


def train_grpo(examples: Sequence[PlanExample], pool: Any, config: GRPORunConfig) -> dict[str, Any]:
    """Run GRPO from ``config.init_checkpoint`` on ``examples`` (their samples live in ``pool``, a
    ``RolloutPool``); saves ``output_dir/final`` (safetensors)."""
    with deterministic_kernels(config.deterministic):
        return _train(examples, pool, config)


def _train(examples: Sequence[PlanExample], pool: Any, config: GRPORunConfig) -> dict[str, Any]:
    import shutil

    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from imageedit_r1.policy import load_policy, mark_smoke, read_card
    from imageedit_r1.rewards import MultiSuiteReward

    out = Path(config.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    reward = MultiSuiteReward(pool, config.reward)
    policy = load_policy(config.init_checkpoint, device="cpu", trainable=True)
    # the prompt as the policy was trained to read it (with the rule draft when its SFT had one)
    rows = [
        {"prompt": policy.observe(e.prompt), "sample_id": e.sample_id, "suite": e.suite} for e in examples
    ]
    dataset = Dataset.from_list(rows)
    log = MetricsLog(out / "metrics.jsonl")
    prior = read_progress(config.resume_from) if config.resume_from else {}
    if os.environ.get("RANK", "0") == "0":  # one process rewrites the log (several under accelerate)
        log.restart((checkpoint_step(config.resume_from) or 0) if config.resume_from else 0)
    before = float(prior.get("seconds", 0.0))  # a resumed run's clock goes on from its checkpoint's
    # training seconds start when training does (set again in on_train_begin): loading the policy
    # and building the trainer are not training, so a time budget and `seconds` leave them out
    began = [time.perf_counter() - before]
    last_save = [time.perf_counter()]
    # where a step's time goes, per logged interval: trl's generate-and-score call (sampling the
    # completions, their log-probabilities, the reward) and, inside it, the reward (executing and
    # scoring the plans); the rest of the step is the loss, backward and optimizer step
    timing = {"rollout": 0.0, "reward": 0.0, "step": 0, "clock": time.perf_counter()}

    class JsonlLogger(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            # the first interval starts here, not while the trainer was built (or at step 0 on resume)
            began[0] = time.perf_counter() - before
            last_save[0] = time.perf_counter()
            timing.update(
                rollout=0.0, reward=reward.seconds, step=state.global_step, clock=time.perf_counter()
            )

        def on_log(
            self, args: Any, state: Any, control: Any, logs: dict | None = None, **kwargs: Any
        ) -> None:
            if logs and state.is_world_process_zero:
                record = {
                    "stage": f"grpo-{config.reward}",
                    "step": state.global_step,
                    "seconds": time.perf_counter() - began[0],
                }
                for key, value in logs.items():
                    name = key.removeprefix("rewards/").removesuffix("/mean")
                    if isinstance(value, (int, float)):
                        record[name] = value
                record.update(step_times(timing, state.global_step, reward.seconds))
                log.write(record)

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if not (config.time_budget_s or config.save_seconds):
                return
            now = time.perf_counter()
            stop = bool(config.time_budget_s) and now - began[0] > config.time_budget_s
            save = bool(config.save_seconds) and now - last_save[0] >= config.save_seconds
            # decided on each process's own clock, taken by all: otherwise one process would stop
            # or save (both wait for the others) a step before another and the run would hang
            stop, save = agree([stop, save], args.device)
            if stop:
                control.should_training_stop = True  # the final model is saved after training
            elif save:
                control.should_save = True

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            last_save[0] = time.perf_counter()
            if state.is_world_process_zero:
                checkpoint = out / f"checkpoint-{state.global_step}"
                if checkpoint.is_dir():
                    write_progress(checkpoint, state.global_step, last_save[0] - began[0])
                    write_observation(checkpoint, policy.draft)

    use_cuda = torch.cuda.is_available()
    args = GRPOConfig(
        output_dir=str(out),
        max_steps=config.max_steps,
        per_device_train_batch_size=config.prompts_per_step * config.num_generations,
        num_generations=config.num_generations,
        num_iterations=config.num_iterations,
        scale_rewards=config.scale_rewards,
        learning_rate=config.learning_rate,
        lr_scheduler_type="constant_with_warmup",
        warmup_steps=min(10, config.max_steps // 10),
        beta=config.beta,
        temperature=config.temperature,
        max_completion_length=config.max_completion_length,
        logging_steps=config.logging_steps,
        save_steps=config.save_steps,
        save_strategy="steps",
        save_total_limit=config.keep_checkpoints,
        report_to="none",
        seed=config.seed,
        use_cpu=not use_cuda,
        bf16=False,
        disable_tqdm=True,
        log_completions=False,
        dataloader_num_workers=0,
    )

    if config.merged_sampling and (problem := merged_sampling_problem()):
        raise ValueError(problem)
    merging = MergedSampling(policy.model) if config.merged_sampling else None

    class Trainer(GRPOTrainer):
        def _get_train_sampler(self, dataset: Any = None) -> Any:
            return order_passes_by_seed(super()._get_train_sampler(dataset))

        def _generate_single_turn(self, *args: Any, **kwargs: Any) -> Any:
            if merging is None:
                return super()._generate_single_turn(*args, **kwargs)
            with merging.merged():
                return super()._generate_single_turn(*args, **kwargs)

        def _generate_and_score_completions(self, inputs: Any) -> Any:
            started = time.perf_counter()
            try:
                return super()._generate_and_score_completions(inputs)
            finally:
                timing["rollout"] += time.perf_counter() - started

    trainer = Trainer(
        model=policy.model,
        reward_funcs=[reward],
        args=args,
        train_dataset=dataset,
        processing_class=policy.tokenizer,
        callbacks=[JsonlLogger()],
    )
    trainer.train(resume_from_checkpoint=config.resume_from)
    final = out / "final"
    trainer.save_model(str(final))
    shutil.rmtree(final / "ref", ignore_errors=True)  # the frozen KL reference, a copy of the start
    policy.tokenizer.save_pretrained(final)
    write_observation(final, policy.draft)
    if read_card(config.init_checkpoint).get("smoke") is True:  # GRPO on a smoke-test model is smoke too
        mark_smoke(final, ["sft", f"grpo-{config.reward}"])
    records = log.records()
    plot_curves(records, CURVE_KEYS, out / "grpo_curve.png", f"GRPO ({config.reward} reward)")
    rewards = [r["reward"] for r in records if isinstance(r.get("reward"), (int, float))]
    return {
        "steps": trainer.state.global_step,
        "first_reward": rewards[0] if rewards else math.nan,
        "last_reward": rewards[-1] if rewards else math.nan,
        "seconds": time.perf_counter() - began[0],
        "checkpoint": str(final),
        "kl_reference": kl_reference(trainer.model, config.beta),
        "scale_rewards": trainer.args.scale_rewards,  # as trl ran it
        "merged_generations": merging.merges if merging else 0,  # generations sampled merged
        "rule_draft": policy.draft,
        "deterministic": config.deterministic,
        "environment": describe_stack(),
        **(
            {"resumed_from": str(config.resume_from), "seconds_before_resume": prior.get("seconds", 0.0)}
            if config.resume_from
            else {}
        ),
    }


def kl_reference(model: Any, beta: float) -> str:
    """What the KL penalty compares the policy with: ``none`` (beta 0), ``start`` (a frozen copy
    of the LoRA adapter GRPO started from, or trl's reference model for a full model) or ``base``
    (adapters disabled, which trl falls back to when it cannot copy the adapter)."""
    if beta == 0:
        return "none"
    peft_config = getattr(model, "peft_config", None)
    if peft_config is None or "ref" in peft_config:
        return "start"
    return "base"
