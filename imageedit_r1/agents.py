"""The ImageEdit-R1 agents over the shared tool layer.

- grounding: the toolbox's ``ground`` tool describes the scene (region handles) before planning;
- decomposition: the learned policy reads instruction + grounded scene and emits sub-edits
  ``(action, subject, goal)``; this is the only trained agent, as in the paper;
- sequencing: the policy emits the sub-edits in execution order (order is part of what the reward
  checks: 'move X to where Y was' after Y moved); ``SequencingAgent`` drops exact duplicates;
- synthesis: ``imageedit_r1.synthesis`` maps each sub-edit to the tool that performs it;
- verification: when the toolbox has ``verify``, each executed sub-edit is checked and the verdict
  lands in the trace (rewards use the harness checkers, not this verdict).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from baselines.tools import Toolbox, ToolCall
from harness.types import Image
from imageedit_r1.environment import EditingEnvironment, Episode, EpisodeBudget
from imageedit_r1.plan import PlanParse, SubEdit, parse_plan


def episode_seed(key: str) -> int:
    """A tool seed fixed by the sample (so every rollout of a GRPO group sees the same tools)."""
    return int(hashlib.sha256(key.encode("utf-8")).hexdigest()[:8], 16)


class SequencingAgent:
    def order(self, subedits: Sequence[SubEdit]) -> list[SubEdit]:
        seen: set[SubEdit] = set()
        ordered = []
        for subedit in subedits:
            if subedit not in seen:
                seen.add(subedit)
                ordered.append(subedit)
        return ordered


@dataclass
class AgentRun:
    """One request through all agents: the prompt, the parsed plan and the executed episode."""

    prompt: str
    completion: str
    plan: PlanParse
    episode: Episode


class AgentSystem:
    """Grounding -> decomposition (policy) -> sequencing -> synthesis -> verification."""

    def __init__(
        self,
        toolbox_factory: Callable[[], Toolbox],
        generate: Callable[[list[str]], list[str]] | None = None,
        budget: EpisodeBudget | None = None,
        verify: bool = True,
    ) -> None:
        self.toolbox_factory = toolbox_factory
        self.generate = generate
        self.budget = budget or EpisodeBudget()
        self.sequencing = SequencingAgent()
        self.verify = verify

    def observe(self, source: Image, instruction: str, seed: int) -> tuple[EditingEnvironment, str]:
        env = EditingEnvironment(self.toolbox_factory(), self.budget)
        return env, env.reset(source, instruction, seed)

    def execute(self, env: EditingEnvironment, completion: str) -> tuple[PlanParse, Episode]:
        """Parse ``completion`` and run it; an unparseable plan is one invalid step, no edit."""
        plan = parse_plan(completion)
        if not plan.subedits:
            env._record_invalid(SubEdit("plan", "", ""), plan.error or "empty plan")
            return plan, env.episode([plan.error or "empty plan"])
        subedits = self.sequencing.order(plan.subedits)
        episode = env.execute_plan(subedits)
        if self.verify and "verify" in env.toolbox and env.workspace is not None:
            for subedit in subedits:
                env.toolbox.call(env.workspace, ToolCall("verify", {"subedit": subedit.to_dict()}))
            episode = env.episode(episode.errors)
        if plan.error:
            episode.errors.insert(0, plan.error)
            episode.invalid_calls += len(plan.problems)
        return plan, episode

    def run(self, items: Sequence[tuple[Image, str, int]]) -> list[AgentRun]:
        """Edit a batch: observe all, generate all plans in one batch, execute each."""
        if self.generate is None:
            raise RuntimeError("AgentSystem.run needs a policy (generate)")
        observed = [self.observe(source, instruction, seed) for source, instruction, seed in items]
        completions = self.generate([prompt for _, prompt in observed])
        runs = []
        for (env, prompt), completion in zip(observed, completions, strict=True):
            plan, episode = self.execute(env, completion)
            runs.append(AgentRun(prompt, completion, plan, episode))
        return runs
