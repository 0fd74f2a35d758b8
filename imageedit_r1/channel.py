"""Verification by the noisy channel: how well a candidate plan explains the instruction.

The decomposition policy models P(plan | instruction, scene). A second adapter of the same base,
the *channel* model, is trained the other way round on the same train-split data: it reads the
grounded scene and a plan and writes the instruction, P(instruction | scene, plan). Among several
candidate plans (the greedy one and some sampled ones), the verifier keeps the usable candidate
with the highest

    (1 - alpha) * log P(plan | instruction, scene) + alpha * log P(instruction | scene, plan)

(Bayes' rule with the policy as the prior over plans; alpha = 0 keeps the plan the policy finds
most likely, alpha = 1 the one that best explains the instruction; alpha is chosen on a selection
set disjoint from the reported samples). A plan that names the wrong objects makes
the instruction's colour, shape and position words unlikely, whatever wording surrounds them; the
forward policy alone has no such check. A candidate with no image (unparseable plan, invalid call)
is never kept unless no candidate is usable, and then the first (greedy) one is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from imageedit_r1.data import PlanExample

OBJECTIVES: tuple[str, ...] = ("plan", "channel")
INSTRUCTION_HEAD = "instruction: "


def split_prompt(prompt: str) -> tuple[str, str]:
    """(instruction, scene) of a policy prompt ``instruction: ...\\n<scene lines>\\nplan:``."""
    head, _, rest = prompt.partition("\n")
    if not head.startswith(INSTRUCTION_HEAD):
        raise ValueError(f"not a policy prompt: {prompt[:60]!r}")
    scene = rest[: -len("plan:")] if rest.endswith("plan:") else rest
    return head[len(INSTRUCTION_HEAD) :], scene.rstrip("\n")


def channel_prompt(prompt: str, completion: str) -> str:
    """The channel model's input for a policy prompt and a candidate plan (its completion)."""
    _, scene = split_prompt(prompt)
    return f"{scene}\nplan: {completion.strip()}\ninstruction:"


def channel_target(prompt: str) -> str:
    """What the channel model writes: the instruction, after one space (as plans follow ``plan:``)."""
    return " " + split_prompt(prompt)[0]


def channel_example(example: PlanExample) -> PlanExample:
    """A training example for the channel model: (scene + ground-truth plan) -> instruction."""
    return replace(
        example,
        prompt=channel_prompt(example.prompt, example.completion),
        completion=channel_target(example.prompt),
    )


def completion_logprobs(
    policy: Any, prompts: Sequence[str], completions: Sequence[str], batch_size: int = 64
) -> list[float]:
    """Sum of log-probabilities of each completion (and the end-of-sequence token) after its prompt
    as the policy reads it (``Policy.observe``), teacher-forced with ``policy``'s model."""
    return [sum(row) for row in completion_token_logprobs(policy, prompts, completions, batch_size)]


def completion_token_logprobs(
    policy: Any, prompts: Sequence[str], completions: Sequence[str], batch_size: int = 64
) -> list[list[float]]:
    """Per completion, the log-probability of each of its tokens and of the end-of-sequence token,
    in order, after its prompt as the policy reads it; teacher-forced, batched with right padding."""
    import torch

    if len(prompts) != len(completions):
        raise ValueError("prompts and completions differ in length")
    tokenizer, model = policy.tokenizer, policy.model
    model.eval()
    prompt_ids = tokenizer([policy.observe(p) for p in prompts], add_special_tokens=False)["input_ids"]
    completion_ids = tokenizer(list(completions), add_special_tokens=False)["input_ids"]
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    out: list[list[float]] = []
    for start in range(0, len(prompt_ids), batch_size):
        chunk = slice(start, start + batch_size)
        pairs = [
            (p, c + [tokenizer.eos_token_id])
            for p, c in zip(prompt_ids[chunk], completion_ids[chunk], strict=True)
        ]
        width = max(len(p) + len(c) for p, c in pairs)
        ids = torch.full((len(pairs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(pairs), width), dtype=torch.long)
        target = torch.zeros((len(pairs), width), dtype=torch.bool)
        for row, (p, c) in enumerate(pairs):  # right padding: positions are those of an unpadded row
            ids[row, : len(p) + len(c)] = torch.tensor(p + c)
            mask[row, : len(p) + len(c)] = 1
            target[row, len(p) : len(p) + len(c)] = True
        ids, mask, target = ids.to(policy.device), mask.to(policy.device), target.to(policy.device)
        with torch.inference_mode():
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1]
            # only the completion's positions go through the softmax (a vocabulary-wide float copy
            # of every prompt position would cost more memory than the model)
            scored = target[:, 1:]
            token_logp = torch.log_softmax(logits[scored].float(), dim=-1)
            token_logp = token_logp.gather(-1, ids[:, 1:][scored][:, None])[:, 0]
        # row-major order: each row's completion tokens in sequence, rows one after another
        values = iter(token_logp.tolist())
        out.extend([next(values) for _ in c] for _, c in pairs)
    return out


def pick(
    forward: Sequence[float], channel: Sequence[float], usable: Sequence[bool], alpha: float = 0.5
) -> int:
    """Index of the kept candidate: the usable one with the highest (1 - alpha) * forward +
    alpha * channel log-probability (ties: the earliest); 0 when none is usable."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], not {alpha}")
    best, best_score = 0, None
    for index, (f, c, ok) in enumerate(zip(forward, channel, usable, strict=True)):
        if not ok:
            continue
        score = (1.0 - alpha) * f + alpha * c
        if best_score is None or score > best_score:
            best, best_score = index, score
    return best
