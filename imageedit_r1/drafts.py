"""Rule drafts: the classical planner's reading of an instruction, shown to the policy.

With drafts, the policy's prompt gains one line before the plan cue::

    instruction: I want a circle in place of the green square.
    regions: o1 green square 3 4 | ...
    draft: replace the green square -> circle
    plan:

The draft is what the rule grammar of the classical tool layer
(``baselines.tools.classical.instructions.plan_instruction``, the planner of ``classic-pipeline``)
reads from the instruction text alone: one sub-edit per sentence, its action read from structure
(object noun phrases, a new object, left-over colour / size / position words), never from a verb
list. That reading carries to wordings the policy never saw on single edits and misreads
referring expressions and goals it has no rule for. The policy keeps the decision: it writes the
plan, over region handles; the draft is an observation, like the grounded regions, not a plan
that is executed.

In training the draft is by default that of the instruction as the policy sees it, after word
noise (``draft_from='seen'``), so drafts of garbled text are wrong as the grammar misreads them;
``draft_from='clean'`` shows the draft of the noise-free instruction instead. Measured with
SmolLM2-135M (docs/RESULTS.md, "Rule drafts"): with ``seen`` drafts the policy uses the draft
little and scores below plain SFT; with ``clean`` drafts it copies them (L1 0.99 on held-out
wording, L2-L4 at ``classic-pipeline``'s level). Train wording alone does not teach when a
draft of held-out wording is wrong, so drafts are an option, not the default. Only the
flat-scene grammar is used: the photo-operation lexicon was written knowing the photo-ops
held-out wordings (docs/TOOLS.md), so it is not shown to a policy measured on them; a photo-ops
instruction gets whatever the flat grammar reads, often ``none``.

A checkpoint trained with drafts holds ``observation.json`` (``{"draft": "rule"}``); whoever loads
it (``imageedit_r1.policy.load_policy``) adds the line to every prompt, so the editor, the
evaluation benches and GRPO see the prompt format the policy was trained on.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from baselines.tools.classical.instructions import plan_instruction
from harness.atomic import write_json

OBSERVATION_FILE = "observation.json"
# in training, the draft of the instruction as shown (after word noise) or of the noise-free one
DRAFT_SOURCES = ("seen", "clean")
DRAFT_KIND = "rule"
INSTRUCTION_PREFIX = "instruction: "
PLAN_CUE = "\nplan:"
DRAFT_PREFIX = "\ndraft: "
MAX_DRAFT_CHARS = 400


def draft_line(instruction: str) -> str:
    """The rule grammar's sub-edits as ``action subject -> goal`` joined by `` | `` (``none`` when
    it reads no sentence)."""
    parts = []
    for subedit in plan_instruction(instruction):
        text = f"{subedit.action} {subedit.subject}".strip()
        parts.append(f"{text} -> {subedit.goal}" if subedit.goal else text)
    line = " | ".join(parts) or "none"
    return line[:MAX_DRAFT_CHARS]


def instruction_of(prompt: str) -> str:
    """The instruction line of an observation prompt (``format_observation``)."""
    head = prompt.partition("\n")[0]
    return head[len(INSTRUCTION_PREFIX) :] if head.startswith(INSTRUCTION_PREFIX) else ""


def with_draft(prompt: str, draft: str | None = None) -> str:
    """``prompt`` with the draft line (``draft``, by default the draft of the prompt's own
    instruction) before its plan cue; unchanged when it has one already or is not an observation
    prompt (no instruction line or no plan cue at its end)."""
    if DRAFT_PREFIX in prompt or not prompt.startswith(INSTRUCTION_PREFIX) or not prompt.endswith(PLAN_CUE):
        return prompt
    if draft is None:
        draft = draft_line(instruction_of(prompt))
    return prompt[: -len(PLAN_CUE)] + DRAFT_PREFIX + draft + PLAN_CUE


def write_observation(directory: str | os.PathLike[str], draft: bool) -> None:
    """Record in a checkpoint directory that its policy reads drafts (nothing when it does not)."""
    path = Path(directory) / OBSERVATION_FILE
    if draft:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json(path, {"draft": DRAFT_KIND}, indent=None)


def reads_drafts(directory: str | os.PathLike[str]) -> bool:
    """Whether the checkpoint at ``directory`` was trained on prompts with drafts."""
    path = Path(directory) / OBSERVATION_FILE
    if not path.is_file():
        return False
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not readable JSON: {exc}") from exc
    kind = data.get("draft") if isinstance(data, dict) else None
    if kind not in (None, DRAFT_KIND):
        raise ValueError(f"{path}: unknown draft kind {kind!r}; this version knows {DRAFT_KIND!r}")
    return kind == DRAFT_KIND
