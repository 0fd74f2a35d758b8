"""SFT's training step for ImageEdit-R1: the loss from every position's logits, or from the plan's only.

The policy is the SmolLM2-135M architecture (``bench/r1_sampling.py``'s copy of its public config)
with random weights, float32 with a rank-16 LoRA adapter on every linear layer
(``imageedit_r1.policy.add_lora``), under bfloat16 autocast on a GPU as ``ieval train sft`` runs it.
The batches are real SFT rows: synth-edit train samples (plans from scene graphs) with the
shipped recipe's word noise, tokenized by the shipped adapter's tokenizer
(``imageedit_r1.training.sft.pretokenize``), 64 a batch. Two variants of forward and backward
on the same batches, alternating, after one warm-up each:

- ``all_logits``: what ``ieval train sft`` does (``imageedit_r1.training.sft.collate``): rows
  padded on the right and the causal LM's own loss (``labels=``), so the head computes every
  position's logits over the 49,152-token vocabulary;
- ``plan_logits``: the alternative measured here. Rows padded on the left (position ids counting
  each row's real tokens), so every row's plan ends at the last column; the model is asked for
  the logits of the last columns that hold any row's plan (``logits_to_keep``), and the loss is
  the same mean over plan tokens.

Reports the median seconds of a step, the peak memory the step allocated on the GPU (not the
allocator's cache) and the largest relative difference between the two losses of one batch.

Usage: python bench/r1_sft_step.py [--steps 20] [--batch-size 64] [--json OUT] [--tiny]
``--tiny`` runs a two-layer model on a few rows on the CPU to check the script.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

TOKENIZER_DIR = Path(__file__).resolve().parent.parent / "imageedit_r1" / "checkpoints" / "smollm2"


def plan_columns_batch(batch: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, Any]:
    """The rows padded on the left, with position ids that start at each row's first token."""
    import torch

    width = max(len(ids) for ids, _ in batch)
    input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), width), -100, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    for row, (ids, labs) in enumerate(batch):
        input_ids[row, width - len(ids) :] = torch.tensor(ids)
        labels[row, width - len(labs) :] = torch.tensor(labs)
        attention[row, width - len(ids) :] = 1
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    return {"input_ids": input_ids, "labels": labels, "attention_mask": attention, "position_ids": positions}


def plan_columns_loss(model: Any, tensors: dict[str, Any]) -> Any:
    """Mean cross-entropy over the plan tokens from the logits of the columns that hold them (and
    the column before the earliest, which predicts it)."""
    import torch.nn.functional as F

    labels = tensors.pop("labels")
    width = labels.shape[1]
    counted = (labels != -100).any(dim=0)
    keep = max(1, min(width, width - int(counted.float().argmax()) + 1))
    logits = model(**tensors, logits_to_keep=keep).logits[:, :-1].float()
    targets = labels[:, width - keep + 1 :]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=-100)


def sft_rows(count: int, tokenizer: Any) -> list[tuple[list[int], list[int]]]:
    from imageedit_r1.training.corpus import graph_examples
    from imageedit_r1.training.sft import SFTConfig, pretokenize

    examples, _ = graph_examples(count, "train", workers=2)
    config = SFTConfig(output_dir="unused", word_noise=0.4, size_synonyms=0.5, keep_relations=True)
    return pretokenize(examples, tokenizer, config, random.Random(0))


def one_step(model: Any, batch: list, variant: str, pad_id: int, device: str) -> tuple[float, float, int]:
    """(seconds, loss, peak bytes allocated during the step; 0 on the CPU)."""
    import contextlib

    import torch

    from imageedit_r1.training.sft import collate

    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    tensors = collate(batch, pad_id) if variant == "all_logits" else plan_columns_batch(batch, pad_id)
    tensors = {k: v.to(device) for k, v in tensors.items()}
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if cuda else contextlib.nullcontext()
    with autocast:
        loss = model(**tensors).loss if variant == "all_logits" else plan_columns_loss(model, tensors)
    loss.backward()
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    model.zero_grad(set_to_none=True)
    return seconds, float(loss.detach()), int(torch.cuda.max_memory_allocated()) if cuda else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20, help="timed steps of each variant")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rank", type=int, default=16)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    import torch
    from machine_info import describe_machine
    from r1_sampling import build_policy
    from transformers import AutoTokenizer

    device = "cuda" if torch.cuda.is_available() and not args.tiny else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(TOKENIZER_DIR)
    batch_size = 4 if args.tiny else args.batch_size
    rows = sft_rows(batch_size * (args.steps + 1), tokenizer)
    if args.tiny:  # the tiny model's vocabulary is smaller than the tokenizer's
        rows = [
            ([t % 500 + 3 for t in ids], [t if t == -100 else t % 500 + 3 for t in labs])
            for ids, labs in rows
        ]
    model = build_policy(args.tiny, args.rank, device).train()
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    variants = ("all_logits", "plan_logits")
    seconds: dict[str, list[float]] = {v: [] for v in variants}
    peak: dict[str, int] = dict.fromkeys(variants, 0)
    differences: list[float] = []
    for step in range(args.steps + 1):  # step 0 warms both up and is not counted
        batch = rows[step * batch_size : (step + 1) * batch_size]
        losses = {}
        for variant in variants if step % 2 == 0 else variants[::-1]:
            took, losses[variant], peak_bytes = one_step(model, batch, variant, pad_id, device)
            if step:
                seconds[variant].append(took)
                peak[variant] = max(peak[variant], peak_bytes)
        differences.append(abs(losses["plan_logits"] - losses["all_logits"]) / abs(losses["all_logits"]))
    lengths = [len(ids) for ids, _ in rows]
    plan_tokens = [sum(t != -100 for t in labs) for _, labs in rows]
    result = {
        "what": "SFT forward + backward, SmolLM2-135M architecture (random weights) + LoRA, one batch",
        "machine": describe_machine(),
        "date": time.strftime("%Y-%m-%d"),
        "device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
        "tiny": args.tiny,
        "batch_size": batch_size,
        "steps": args.steps,
        "row_tokens_mean": statistics.mean(lengths),
        "plan_tokens_mean": statistics.mean(plan_tokens),
        "median_seconds": {v: statistics.median(seconds[v]) for v in variants},
        "peak_allocated_gib": {v: round(peak[v] / 2**30, 3) for v in variants} if device == "cuda" else None,
        "max_relative_loss_difference": max(differences),
    }
    result["speedup"] = result["median_seconds"]["all_logits"] / result["median_seconds"]["plan_logits"]
    print(json.dumps(result, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
