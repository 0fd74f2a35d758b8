"""Cold-start SFT: next-token loss on the plan only (prompt tokens masked), then a checkpoint.

Runs on one device or several through ``accelerate`` (``accelerate launch --config_file
configs/accelerate/multi_gpu.yaml -m imageedit_r1.cli train sft ...``). Resumable: every checkpoint
directory holds the model (safetensors), the tokenizer and ``trainer_state.pt`` (optimizer,
scheduler, step), written last so that a directory cut short while saving is never resumed from;
``resume_from`` continues from it as the uninterrupted run would have (same noisy variants, same
batch order, same random state). With
``keep_checkpoints`` only the newest intermediate checkpoints stay on disk.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from imageedit_r1.data import PlanExample, order_sets
from imageedit_r1.drafts import write_observation
from imageedit_r1.training.checkpoints import prune_checkpoints
from imageedit_r1.training.determinism import describe_stack, deterministic_kernels
from imageedit_r1.training.logs import MetricsLog, plot_curves

STATE_FILE = "trainer_state.pt"  # written last: its presence marks a complete checkpoint
LR_SCHEDULES: tuple[str, ...] = ("cosine", "wsd")


@dataclass
class SFTConfig:
    output_dir: str
    model_size: str = "tiny"
    base_model: str | None = None  # a HF id / directory / GGUF file / "smollm2" to fine-tune
    lora_rank: int = 0  # > 0: train a LoRA adapter of this rank on the (frozen) base model
    vocab_size: int = 1024
    epochs: float = 3.0
    max_steps: int | None = None
    batch_size: int = 64
    learning_rate: float = 1e-3
    warmup_steps: int = 50
    lr_schedule: str = "cosine"  # 'cosine' over the whole run, or 'wsd': constant, then cosine decay
    decay_steps: int = 400  # 'wsd': the last this many steps decay
    weight_decay: float = 0.01
    max_length: int = 384
    word_noise: float = 0.0
    size_synonyms: float = 0.0  # in the noisy variants, write a size value as a synonym this often
    keep_relations: bool = False  # the noise keeps spatial reference words (left, above, largest, ...)
    cue_words: float = 0.0  # a replaced word is a train action word (data.cue_words) this often
    noise_variants: int = 2
    set_order: str = "program"  # goal (L4) plans: 'program' (as generated) or 'reading' (region order)
    objective: str = "plan"  # 'plan': prompt -> plan; 'channel': scene + plan -> instruction (the verifier)
    rule_draft: bool = False  # prompts carry the rule grammar's draft line (imageedit_r1.drafts)
    # 'seen': the draft of the (noisy) instruction shown; 'clean': that of the noise-free one
    draft_from: str = "seen"
    mixed_precision: str = "bf16"  # used on CUDA only
    seed: int = 0
    deterministic: bool = False  # deterministic kernels while training (determinism.py)
    log_every: int = 20
    save_every: int = 0
    keep_checkpoints: int = 0  # > 0: delete all but the newest this many intermediate checkpoints
    resume_from: str | None = None


def lr_factor(step: int, total: int, warmup: int, schedule: str = "cosine", decay: int = 400) -> float:
    """The learning rate at ``step`` as a share of the peak: a linear warmup, then down to 0.1.

    'cosine' decays over every step after the warmup, so the whole curve depends on ``total``.
    'wsd' (warmup, stable, decay) stays at the peak until the last ``decay`` steps, so runs of
    any length share their curve up to that point: a run can branch from another's checkpoint
    (``--resume`` with another ``--max-steps``) with the learning rate it would have had."""
    if step < warmup:
        return (step + 1) / warmup
    if schedule == "wsd":
        start = max(total - decay, warmup)
        if step < start:
            return 1.0
        progress = (step - start) / max(total - start, 1)
    elif schedule == "cosine":
        progress = (step - warmup) / max(total - warmup, 1)
    else:
        raise ValueError(f"unknown learning-rate schedule {schedule!r}; expected one of {LR_SCHEDULES}")
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def training_texts(
    examples: Sequence[PlanExample], config: SFTConfig, rng: random.Random
) -> tuple[list[str], list[str]]:
    """Prompts and completions: every example once as is and ``noise_variants`` times with word
    noise; with ``rule_draft`` each prompt then gets the draft of its own (noisy) instruction, or
    with ``draft_from='clean'`` the draft of the example's instruction before noise."""
    from imageedit_r1.data import add_word_noise

    variants = config.noise_variants if config.word_noise > 0 or config.size_synonyms > 0 else 0
    prompts = [e.prompt for e in examples]
    completions = [e.completion for e in examples]
    for _ in range(variants):
        prompts += [
            add_word_noise(
                e.prompt,
                config.word_noise,
                rng,
                config.size_synonyms,
                config.keep_relations,
                cues=config.cue_words,
            )
            for e in examples
        ]
        completions += [e.completion for e in examples]
    if config.rule_draft:
        from imageedit_r1.drafts import DRAFT_SOURCES, draft_line, instruction_of, with_draft

        if config.draft_from not in DRAFT_SOURCES:
            raise ValueError(f"unknown draft source {config.draft_from!r}; expected one of {DRAFT_SOURCES}")
        if config.draft_from == "clean":
            clean = [draft_line(instruction_of(e.prompt)) for e in examples] * (variants + 1)
            prompts = [with_draft(p, draft) for p, draft in zip(prompts, clean, strict=True)]
        else:
            prompts = [with_draft(p) for p in prompts]
    return prompts, completions


def pretokenize(
    examples: Sequence[PlanExample], tokenizer: Any, config: SFTConfig, rng: random.Random
) -> list[tuple[list[int], list[int]]]:
    """``training_texts`` tokenized up front: (input ids, labels with the prompt masked)."""
    prompts, completions = training_texts(examples, config, rng)
    prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(completions, add_special_tokens=False)["input_ids"]
    table = []
    for p_ids, c_ids in zip(prompt_ids, completion_ids, strict=True):
        c_ids = c_ids + [tokenizer.eos_token_id]
        table.append(
            ((p_ids + c_ids)[: config.max_length], ([-100] * len(p_ids) + c_ids)[: config.max_length])
        )
    return table


def collate(batch: Sequence[tuple[list[int], list[int]]], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (ids, labs) in enumerate(batch):
        input_ids[row, : len(ids)] = torch.tensor(ids)
        labels[row, : len(labs)] = torch.tensor(labs)
        attention[row, : len(ids)] = 1
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention}


def train_sft(examples: Sequence[PlanExample], config: SFTConfig) -> dict[str, Any]:
    """Train and save ``output_dir/final``; returns a summary (final loss, steps, seconds)."""
    with deterministic_kernels(config.deterministic):
        return _train(examples, config)


def _train(examples: Sequence[PlanExample], config: SFTConfig) -> dict[str, Any]:
    import torch
    from accelerate import Accelerator

    from imageedit_r1.policy import (
        Policy,
        add_lora,
        build_model,
        build_tokenizer,
        is_smoke_model,
        load_policy,
        mark_smoke,
    )

    if not examples:
        raise ValueError("no SFT examples")
    examples = order_sets(examples, config.set_order)
    if config.objective == "channel":
        from imageedit_r1.channel import channel_example

        # the instruction is the target: word noise (which edits instructions in prompts) does not apply
        examples = [channel_example(e) for e in examples]
        config = replace(config, word_noise=0.0, size_synonyms=0.0)
    elif config.objective != "plan":
        raise ValueError(f"unknown SFT objective {config.objective!r}; expected 'plan' or 'channel'")
    if config.rule_draft and config.objective != "plan":
        raise ValueError("rule drafts are part of the plan objective's prompt; the channel model reads none")
    accelerator = Accelerator(mixed_precision=config.mixed_precision if torch.cuda.is_available() else "no")
    out = Path(config.output_dir)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    start_step = 0
    if config.resume_from:
        policy = load_policy(config.resume_from, device="cpu", trainable=True)
        if policy.draft != config.rule_draft:
            raise ValueError(
                f"{config.resume_from} was trained {'with' if policy.draft else 'without'} rule drafts; "
                f"resume it {'with' if policy.draft else 'without'} --rule-draft"
            )
        state_path = Path(config.resume_from) / STATE_FILE
        state = torch.load(state_path, weights_only=False) if state_path.exists() else None
    elif config.base_model:
        policy, state = load_policy(config.base_model, device="cpu"), None
        if config.lora_rank > 0:
            policy = add_lora(policy, config.lora_rank, config.base_model)
    else:
        texts = [e.prompt + " " + e.completion for e in examples]
        tokenizer = build_tokenizer(texts, config.vocab_size)
        policy, state = Policy(build_model(tokenizer, config.model_size), tokenizer), None
    model, tokenizer = policy.model, policy.tokenizer
    model.train()

    steps_per_epoch = max(math.ceil(len(examples) / config.batch_size), 1)
    total_steps = config.max_steps or max(int(config.epochs * steps_per_epoch), 1)
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=config.learning_rate,
        weight_decay=config.weight_decay,
    )

    def lr_at(step: int) -> float:
        return lr_factor(step, total_steps, config.warmup_steps, config.lr_schedule, config.decay_steps)

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_at)
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_step = int(state["step"])
        rng.setstate(state["rng"])
        if "torch_rng" in state:
            torch.set_rng_state(state["torch_rng"])
    model, optimizer = accelerator.prepare(model, optimizer)
    log = MetricsLog(out / "metrics.jsonl")
    if accelerator.is_main_process:
        log.restart(start_step)
    # the noisy variants are drawn as the run drew them at its start (a resumed run's own random
    # state has moved on), and the rest of the shuffled pass the checkpoint was in comes back
    table = pretokenize(examples, tokenizer, config, random.Random(config.seed) if state is not None else rng)
    # training time goes on from the checkpoint's, so a resumed run reports the whole run's time;
    # it starts after the data is tokenised (not training: a branch from a checkpoint would
    # otherwise be charged for it, `ieval train branch`)
    began = time.perf_counter() - (float(state.get("seconds", 0.0)) if state is not None else 0.0)
    order: list[int] = list(state.get("order", [])) if state is not None else []
    loss_value = float("nan")

    def save(step: int, path: Path) -> None:
        seconds = time.perf_counter() - began
        if accelerator.is_main_process:  # before _save writes the state file that marks it complete
            write_observation(path, config.rule_draft)
        _save(accelerator, model, tokenizer, optimizer, scheduler, (rng, order), step, path, seconds)

    for step in range(start_step, total_steps):
        while len(order) < config.batch_size:  # a batch larger than the data takes several passes
            fresh = list(range(len(table)))
            rng.shuffle(fresh)
            order.extend(fresh)
        chosen = [table[order.pop()] for _ in range(config.batch_size)]
        batch = chosen[accelerator.process_index :: accelerator.num_processes]
        tensors = {k: v.to(accelerator.device) for k, v in collate(batch, tokenizer.pad_token_id).items()}
        with accelerator.autocast():
            loss = model(**tensors).loss
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if (step + 1) % config.log_every == 0 or step + 1 == total_steps:
            loss_value = float(accelerator.gather(loss.detach()).mean())
            if not math.isfinite(loss_value):
                raise FloatingPointError(f"SFT loss became {loss_value} at step {step + 1}")
            if accelerator.is_main_process:
                log.write(
                    {
                        "stage": "sft",
                        "step": step + 1,
                        "loss": loss_value,
                        "lr": scheduler.get_last_lr()[0],
                        "seconds": time.perf_counter() - began,
                    }
                )
        # independent of logging: a save interval that is no multiple of log_every still saves
        if config.save_every and (step + 1) % config.save_every == 0 and step + 1 < total_steps:
            save(step + 1, out / f"checkpoint-{step + 1}")
            if accelerator.is_main_process:
                prune_checkpoints(out, STATE_FILE, config.keep_checkpoints)
    final = out / "final"
    save(total_steps, final)
    if accelerator.is_main_process:
        if is_smoke_model(config.model_size, config.base_model):
            mark_smoke(final, ["sft"])
        plot_curves(log.records(), ["loss", "lr"], out / "sft_curve.png", "SFT")
    return {
        "objective": config.objective,
        "rule_draft": config.rule_draft,
        **({"draft_from": config.draft_from} if config.rule_draft else {}),
        "noise": {
            "word_noise": config.word_noise,
            "size_synonyms": config.size_synonyms,
            "keep_relations": config.keep_relations,
            "cue_words": config.cue_words,
        },
        "steps": total_steps,
        "deterministic": config.deterministic,
        "environment": describe_stack(),
        "final_loss": loss_value,
        "seconds": time.perf_counter() - began,
        "checkpoint": str(final),
        "parameters": sum(p.numel() for p in accelerator.unwrap_model(model).parameters()),
        "trainable_parameters": sum(
            p.numel() for p in accelerator.unwrap_model(model).parameters() if p.requires_grad
        ),
    }


def _save(
    accelerator: Any,
    model: Any,
    tokenizer: Any,
    optimizer: Any,
    scheduler: Any,
    draws: tuple[random.Random, list[int]],
    step: int,
    path: Path,
    seconds: float,
) -> None:
    import torch

    accelerator.wait_for_everyone()
    if not accelerator.is_main_process:
        return
    path.mkdir(parents=True, exist_ok=True)
    accelerator.unwrap_model(model).save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
            "seconds": seconds,
            "rng": draws[0].getstate(),
            "order": list(draws[1]),  # the rest of the shuffled pass, used from its end
            "torch_rng": torch.get_rng_state(),
        },
        path / f"{STATE_FILE}.partial",
    )
    os.replace(path / f"{STATE_FILE}.partial", path / STATE_FILE)  # the marker appears whole or not at all
