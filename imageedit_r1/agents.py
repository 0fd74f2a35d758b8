"""The ImageEdit-R1 agents over the shared tool layer.

- grounding: the toolbox's ``ground`` tool describes the scene (region handles) before planning;
- decomposition: the learned policy reads instruction + grounded scene and emits sub-edits
  ``(action, subject, goal)``; this is the only trained agent, as in the paper;
- sequencing: the policy emits the sub-edits in execution order (order is part of what the reward
  checks: 'move X to where Y was' after Y moved); ``SequencingAgent`` drops exact duplicates;
- synthesis: ``imageedit_r1.synthesis`` maps each sub-edit to the tool that performs it;
- verification: when the toolbox has ``verify``, each executed sub-edit is checked and the verdict
  lands in the trace (rewards use the harness checkers, not this verdict). A plan the tools reject
  (not a plan, an invalid call, a tool error) goes back to decomposition when a ``resample``
  function is given: sampled plans are tried in order and the first one the tools accept is kept.
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
    rejected: tuple[tuple[str, str], ...] = ()  # the other plans tried and rejected, with the reason


@dataclass
class Proposal:
    """A request observed and planned, not yet executed: its environment, prompt and greedy plan."""

    env: EditingEnvironment
    prompt: str
    completion: str


def rejection(run: AgentRun) -> str:
    """Why the tools reject ``run``'s plan ("" when they accept it): the plan does not parse, a call
    is invalid or a tool failed on it. Says nothing about whether the edit is the right one."""
    if not run.plan.ok:
        return run.plan.error or "not a plan"
    if run.episode.invalid_calls or run.episode.tool_errors or run.episode.errors:
        return "; ".join(run.episode.errors[:2]) or "invalid call"
    return ""


class AgentSystem:
    """Grounding -> decomposition (policy) -> sequencing -> synthesis -> verification."""

    def __init__(
        self,
        toolbox_factory: Callable[[], Toolbox],
        generate: Callable[[list[str]], list[str]] | None = None,
        budget: EpisodeBudget | None = None,
        verify: bool = True,
        resample: Callable[[str, int], list[str]] | None = None,
    ) -> None:
        self.toolbox_factory = toolbox_factory
        self.generate = generate
        self.resample = resample  # (prompt, seed) -> sampled plans, tried when the tools reject one
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
        return [
            self.carry_out(item, proposal) for item, proposal in zip(items, self.propose(items), strict=True)
        ]

    def propose(self, items: Sequence[tuple[Image, str, int]]) -> list[Proposal]:
        """Observe every item and generate every greedy plan in one batch; nothing is executed."""
        if self.generate is None:
            raise RuntimeError("AgentSystem needs a policy (generate) to plan")
        observed = [self.observe(source, instruction, seed) for source, instruction, seed in items]
        completions = self.generate([prompt for _, prompt in observed])
        return [Proposal(env, prompt, c) for (env, prompt), c in zip(observed, completions, strict=True)]

    def carry_out(self, item: tuple[Image, str, int], proposal: Proposal) -> AgentRun:
        """Execute a proposed plan; a plan the tools reject is replanned when ``resample`` is set."""
        plan, episode = self.execute(proposal.env, proposal.completion)
        run = AgentRun(proposal.prompt, proposal.completion, plan, episode)
        if self.resample is not None and rejection(run):
            run = self.replan(run, *item)
        return run

    def replan(self, first: AgentRun, source: Image, instruction: str, seed: int) -> AgentRun:
        """Try sampled plans after ``first`` was rejected; the first accepted one wins, else ``first``
        stays (every rejected plan is kept in the run's ``rejected``)."""
        assert self.resample is not None
        rejected = [(first.completion, rejection(first))]
        for completion in self.resample(first.prompt, seed):
            env, _ = self.observe(source, instruction, seed)
            plan, episode = self.execute(env, completion)
            candidate = AgentRun(first.prompt, completion, plan, episode)
            reason = rejection(candidate)
            if not reason:
                candidate.rejected = tuple(rejected)
                return candidate
            rejected.append((completion, reason))
        first.rejected = tuple(rejected[1:])
        return first
