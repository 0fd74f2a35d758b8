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
as always. With ``single_sentence`` only one-sentence instructions are deferred. Measured, and
chosen on a selection set disjoint from the reported samples, in docs/RESULTS.md ("Deferral to the
rule grammar").
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baselines.tools.classical.instructions import Reading, read_instruction
from harness.atomic import write_json

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

    def to_dict(self) -> dict[str, Any]:
        return {
            "defer": self.defer,
            "least_token_logprob": round(self.least_logprob, 4),
            "grammar_complete": self.complete,
            "sentences": self.sentences,
            "grammar_unused": list(self.unused),
        }


@dataclass(frozen=True)
class DeferralGate:
    """Defer when the grammar's reading is complete and the policy's least likely plan token has a
    log-probability below ``threshold`` (with ``single_sentence``: one-sentence instructions only)."""

    threshold: float
    single_sentence: bool = False

    def __post_init__(self) -> None:
        if not self.threshold < 0.0:
            raise ValueError(f"the deferral threshold is a log-probability below 0, not {self.threshold}")

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
        return DeferralGate(float(data["threshold"]), bool(data.get("single_sentence", False)))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable deferral gate {path}: {exc}") from exc


def save_gate(directory: str | os.PathLike[str], gate: DeferralGate, chosen: dict[str, Any]) -> Path:
    """Write ``gate`` into a checkpoint directory, with how it was chosen (``chosen``)."""
    path = Path(directory) / GATE_FILE
    write_json(path, {"threshold": gate.threshold, "single_sentence": gate.single_sentence, "chosen": chosen})
    return path
