"""Deferral: the editor hands an edit to the rule grammar when the grammar is sure and the policy is not.

The decomposition policy is trained on train wording alone. On held-out wording it misreads some
single edits (``a square in place of the green star`` as an addition) that the rule grammar of
``classic-pipeline`` reads right, because the grammar reads structure (object phrases, a new object,
goal words), not verbs. The grammar in turn misreads what it has no rule for (relations between
objects, goals), and then picks one reading among several.

Two signals, neither of them a score against the reference:

- **The grammar's reading is complete** (``baselines.tools.classical.instructions.read_instruction``):
  every sentence read, and every element found in it (object phrases, a new object, colour / size
  / position words) used by the sub-edit it chose. A reading that had to leave something out is
  not trusted.
- **The policy is unsure**: the least likely token of its greedy plan, teacher-forced under the
  policy itself, has a log-probability below ``threshold``. A plan the policy writes with every
  token near-certain is kept even where the grammar disagrees.

When both hold, and the image is a flat-colour scene (the grammar's domain), the edit is carried out
by ``classic-pipeline``'s execution of the grammar's plan. Otherwise the policy's plan is executed
as always. With ``single_sentence`` only one-sentence instructions are deferred whole.

With ``sentence_threshold``, an instruction of several sentences is judged sentence by sentence:
where the policy's plan has one sub-edit per sentence, a sub-edit whose own least token is below
the sentence threshold is replaced by the grammar's complete reading of its sentence, written as a
policy sub-edit whose subject is the object phrase (grounding resolves it when the step runs), and
the editor executes the merged plan. Readings with no such form (a swap, "where X was", "the colour
of X", keep-only) are never taken.

Measured, and chosen on a selection set disjoint from the reported samples, in docs/RESULTS.md
("Deferral to the rule grammar").
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from baselines.tools.classical.instructions import Reading, read_instruction
from harness.atomic import write_json
from harness.suites.synth_edit.palette import COLOURS, SIZE_ORDER
from imageedit_r1.plan import WHOLE_IMAGE, SubEdit
from imageedit_r1.synthesis import ADD_SEPARATOR

GATE_FILE = "deferral.json"


@dataclass(frozen=True)
class Deferral:
    """One decision, with what it was made from (for the trace)."""

    defer: bool
    least_logprob: float
    complete: bool
    sentences: int
    unused: tuple[str, ...]  # what the grammar found and left out, over all sentences
    reason: str
    sentences_from_grammar: tuple[int, ...] = ()  # sub-edits taken from the grammar (0-based)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "defer": self.defer,
            "least_token_logprob": round(self.least_logprob, 4),
            "grammar_complete": self.complete,
            "sentences": self.sentences,
            "grammar_unused": list(self.unused),
        }
        if self.sentences_from_grammar:
            out["sentences_from_grammar"] = list(self.sentences_from_grammar)
        return out


@dataclass(frozen=True)
class DeferralGate:
    """Defer when the grammar's reading is complete and the policy's least likely plan token has a
    log-probability below ``threshold`` (with ``single_sentence``: one-sentence instructions only).

    With ``sentence_threshold``, an instruction of several sentences whose plan has one sub-edit per
    sentence is decided sentence by sentence (``merge_sentences``): sub-edit i becomes the grammar's
    reading of sentence i, written as a policy sub-edit with a referring-phrase subject, when that
    reading is complete and the least likely token of sub-edit i is below ``sentence_threshold``."""

    threshold: float
    single_sentence: bool = False
    sentence_threshold: float | None = None

    def __post_init__(self) -> None:
        if not self.threshold < 0.0:
            raise ValueError(f"the deferral threshold is a log-probability below 0, not {self.threshold}")
        if self.sentence_threshold is not None and self.sentence_threshold > 0.0:
            raise ValueError(
                f"the sentence threshold is a log-probability, at most 0, not {self.sentence_threshold}"
            )

    def merge_sentences(
        self, reading: Reading, plan: Sequence[SubEdit], least: Sequence[float]
    ) -> tuple[list[SubEdit], list[int]]:
        """The plan with the sub-edits of unsure, completely read sentences taken from the grammar,
        and the indices taken (none when sentences and sub-edits do not pair one to one)."""
        if self.sentence_threshold is None or not aligned(reading, plan) or len(least) != len(plan):
            return list(plan), []
        merged, taken = list(plan), []
        for index, (rule, unused) in enumerate(zip(reading.plan, reading.unused, strict=True)):
            if unused or least[index] >= self.sentence_threshold:
                continue
            written = policy_subedit(rule)
            if written is not None:
                merged[index] = written
                taken.append(index)
        return merged, taken

    def decide(self, instruction: str, token_logprobs: Sequence[float]) -> tuple[Deferral, Reading]:
        """The decision for one instruction and its greedy plan's token log-probabilities."""
        reading = read_instruction(instruction)
        least = min(token_logprobs) if token_logprobs else float("-inf")
        unused = tuple(item for sentence in reading.unused for item in sentence)
        if not reading.complete:
            reason = "the grammar's reading is not complete: " + (", ".join(unused) or "no sentence")
            return Deferral(False, least, False, reading.sentences, unused, reason), reading
        if self.single_sentence and reading.sentences != 1:
            reason = f"{reading.sentences} sentences: only one-sentence instructions are deferred"
            return Deferral(False, least, True, reading.sentences, unused, reason), reading
        if least >= self.threshold:
            reason = f"the policy is sure: least token log-probability {least:.3f} >= {self.threshold}"
            return Deferral(False, least, True, reading.sentences, unused, reason), reading
        reason = (
            f"the grammar's reading is complete and the policy is unsure: least token "
            f"log-probability {least:.3f} < {self.threshold}"
        )
        return Deferral(True, least, True, reading.sentences, unused, reason), reading


def aligned(reading: Reading, plan: Sequence[SubEdit]) -> bool:
    """Several sentences, each read, and exactly one policy sub-edit per sentence."""
    return reading.sentences >= 2 and len(reading.plan) == reading.sentences == len(plan)


def policy_subedit(rule: Any) -> SubEdit | None:
    """The grammar's sub-edit as the policy writes one, its subject a referring phrase that grounding
    resolves when it runs; None for readings with no such form (a swap, "where X was", "the colour
    of X", keep-only)."""
    action, subject, goal = rule.action, rule.subject, rule.goal
    if action == "background":
        return SubEdit("background", WHOLE_IMAGE, goal)
    if action == "add":
        return None if ";" in goal else SubEdit("add", WHOLE_IMAGE, f"{subject}{ADD_SEPARATOR}{goal}")
    if not subject.startswith("the "):
        return None
    if action == "recolor" and goal in COLOURS:
        return SubEdit(action, subject, goal)
    if action == "resize" and goal in SIZE_ORDER:
        return SubEdit(action, subject, goal)
    if action == "replace" or (action == "remove" and not goal):
        return SubEdit(action, subject, goal)
    if action == "move" and not goal.startswith("where "):
        return SubEdit(action, subject, goal)
    return None


def subedit_least_logprobs(tokenizer: Any, completion: str, token_logprobs: Sequence[float]) -> list[float]:
    """Per top-level ``{...}`` of the plan text, the least log-probability of the tokens that overlap
    it (tokenised as ``completion_token_logprobs`` tokenises it); [] when they do not pair up."""
    offsets = tokenizer(completion, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    if len(offsets) + 1 != len(token_logprobs):  # the plan's tokens and its end
        return []
    spans, depth, start = [], 0, 0
    for index, char in enumerate(completion):
        if char == "{":
            start = index if depth == 0 else start
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0:
                spans.append((start, index + 1))
    least = []
    for first, end in spans:
        values = [lp for (a, b), lp in zip(offsets, token_logprobs, strict=False) if a < end and b > first]
        least.append(min(values) if values else 0.0)
    return least


def is_flat_scene(request: Any) -> bool:
    """Whether the request's image is a flat-colour scene, as the classical tools read it."""
    from baselines.tools.classical.scene_tools import read_scene
    from baselines.tools.workspace import Workspace

    ws = Workspace.start(request.source, instruction=request.instruction, seed=request.seed)
    return bool(read_scene(ws).background_fits)


def load_gate(directory: str | os.PathLike[str]) -> DeferralGate | None:
    """The gate a checkpoint ships in ``deferral.json``; None when it has none. An unreadable file
    is a ValueError naming it: the threshold belongs to the policy it was chosen for."""
    path = Path(directory) / GATE_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        sentence = data.get("sentence_threshold")
        return DeferralGate(
            float(data["threshold"]),
            bool(data.get("single_sentence", False)),
            None if sentence is None else float(sentence),
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable deferral gate {path}: {exc}") from exc


def save_gate(directory: str | os.PathLike[str], gate: DeferralGate, chosen: dict[str, Any]) -> Path:
    """Write ``gate`` into a checkpoint directory, with how it was chosen (``chosen``)."""
    path = Path(directory) / GATE_FILE
    write_json(path, {**asdict(gate), "chosen": chosen})
    return path
