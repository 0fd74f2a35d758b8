"""Planning with a language model: a local transformers causal LM or an OpenAI-compatible chat
endpoint turns the instruction into sub-edits. The prompt is a versioned template whose hash is
in the fingerprint; an answer that does not parse is a failed plan, never a guessed one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from baselines.tools.calls import ToolResult
from baselines.tools.plans import PLAN_ACTIONS, PlanParseError, parse_plan
from baselines.tools.specs import spec
from baselines.tools.workspace import Workspace
from harness.fingerprint import stable_hash

PROMPT_VERSION = "1"
PROMPT = (
    "You split an image-editing instruction into ordered sub-edits.\n"
    'Answer with a JSON list only, each item {{"action": A, "subject": S, "goal": G}} where A is one of '
    "{actions}. subject: the words naming the object (or the photo operation for global_adjust); "
    "goal: the new colour, size, shape, position, object or background (JSON parameters for global_adjust).\n"
    "Instruction: {instruction}\nJSON:"
)


def render_prompt(instruction: str) -> str:
    return PROMPT.format(actions=", ".join(PLAN_ACTIONS), instruction=instruction)


class _Planner:
    spec = spec("plan")
    smoke = False

    def run(self, ws: Workspace, arguments: Mapping[str, Any]) -> ToolResult:
        instruction = str(arguments["instruction"])
        try:
            answer = self.complete(render_prompt(instruction))
        except Exception as exc:
            return ToolResult.failure(f"planner call failed: {type(exc).__name__}: {exc}")
        try:
            plan = parse_plan(answer)
        except PlanParseError as exc:
            return ToolResult.failure(f"planner answer did not parse ({exc}): {answer[:200]!r}")
        return ToolResult(ok=True, output={"subedits": [s.to_dict() for s in plan]})

    def complete(self, prompt: str) -> str:
        raise NotImplementedError


class TransformersPlanner(_Planner):
    """Greedy decoding with a causal LM loaded by id or path (or passed in by a test)."""

    default_model = "Qwen/Qwen2.5-1.5B-Instruct"

    def __init__(
        self,
        model: str | None = None,
        *,
        max_new_tokens: int = 256,
        network: Any = None,
        tokenizer: Any = None,
        smoke: bool = False,
    ) -> None:
        self.model = model or self.default_model
        self.max_new_tokens = max_new_tokens
        self._network, self._tokenizer = network, tokenizer
        self.smoke = bool(smoke)

    def fingerprint(self) -> dict[str, Any]:
        return {
            "impl": "TransformersPlanner",
            "model": self.model,
            "prompt": stable_hash(PROMPT)[:16],
            "prompt_version": PROMPT_VERSION,
            "decoding": {"greedy": True, "max_new_tokens": self.max_new_tokens},
            "smoke": self.smoke,
        }

    def complete(self, prompt: str) -> str:
        import torch

        if self._network is None:
            from transformers import AutoModelForCausalLM, AutoTokenizer

            from baselines.tools.learned.loading import load_pretrained

            self._network, self._tokenizer, marker = load_pretrained(
                AutoModelForCausalLM, AutoTokenizer, self.model
            )
            self.smoke = self.smoke or marker
        tokenizer = self._tokenizer
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        else:
            text = prompt
        inputs = tokenizer(text, return_tensors="pt").to(self._network.device)
        with torch.inference_mode():
            output = self._network.generate(
                **inputs,
                max_new_tokens=self.max_new_tokens,
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )
        return tokenizer.decode(output[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True)


class OpenAIChatPlanner(_Planner):
    """Any OpenAI-compatible ``/chat/completions`` endpoint (vLLM, a hosted API). The key is read
    from ``api_key_env`` at call time and never stored or logged."""

    def __init__(
        self, model: str, base_url: str, *, api_key_env: str = "OPENAI_API_KEY", timeout: float = 60.0
    ) -> None:
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        self.timeout = timeout

    def fingerprint(self) -> dict[str, Any]:
        return {
            "impl": "OpenAIChatPlanner",
            "model": self.model,
            "base_url": self.base_url,
            "prompt": stable_hash(PROMPT)[:16],
            "prompt_version": PROMPT_VERSION,
            "decoding": {"temperature": 0},
        }

    def complete(self, prompt: str) -> str:
        import httpx

        headers = {}
        key = os.environ.get(self.api_key_env)
        if key:
            headers["Authorization"] = f"Bearer {key}"
        body = {"model": self.model, "temperature": 0, "messages": [{"role": "user", "content": prompt}]}
        response = httpx.post(
            f"{self.base_url}/chat/completions", json=body, headers=headers, timeout=self.timeout
        )
        if response.status_code != 200:
            raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
        return str(response.json()["choices"][0]["message"]["content"])
