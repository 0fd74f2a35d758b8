"""Black Forest Labs FLUX.1 Kontext [pro]/[max]: submit, poll the returned ``polling_url``, download.

Poll statuses ``Request Moderated`` / ``Content Moderated`` are refusals; ``Task not found`` (an
expired polling URL) and ``Error`` are errors. The key is sent only to a trusted polling host.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import httpx

from baselines.api.base import ApiEditor, TurnOutput
from baselines.api.codec import parse_json, png_b64
from baselines.api.errors import PermanentFailure, Refusal, ResponseFormatError, TimeoutFailure
from baselines.api.polling import trusted_poll_url
from baselines.api.transport import CallContext, ProviderLimits, http_failure
from harness.protocols import EditorCapabilities
from harness.types import EditRequest, Image, Mask

REFUSED = frozenset({"Request Moderated", "Content Moderated"})
PENDING = frozenset({"Pending", "Queued", "Processing", "Reasoning", "Generating"})


def classify_bfl(response: httpx.Response, what: str) -> Any:
    if response.status_code == 200:
        return parse_json(response.content, what, 200)
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        detail = None
    message = str(detail or "")[:300]
    if response.status_code == 402:
        raise PermanentFailure(f"{what}: insufficient credits (HTTP 402)", code="402", http_status=402)
    if response.status_code == 404 and "get_result" in str(response.request.url):
        raise PermanentFailure(f"{what}: polling URL expired or task not found (HTTP 404)", http_status=404)
    raise http_failure(response, what, message)


class BflKontextEditor(ApiEditor):
    provider = "bfl"
    key_env = "BFL_API_KEY"
    default_base_url = "https://api.bfl.ai"
    endpoint = "/v1/{model}"
    endpoint_version = "v1"
    model = "flux-kontext-pro"
    default_params: ClassVar[dict[str, Any]] = {
        "output_format": "png",
        "safety_tolerance": 2,
        "prompt_upsampling": False,
        "aspect_ratio": "",
    }
    default_limits = ProviderLimits(max_concurrency=24)  # BFL's default of 24 active tasks
    capabilities = EditorCapabilities(multi_turn=True, seeded=True, batch_size=32)

    async def edit_turn(
        self, ctx: CallContext, image: Image, instruction: str, mask: Mask | None, request: EditRequest
    ) -> TurnOutput:
        params = self.generation_params(request)
        payload: dict[str, Any] = {
            "prompt": instruction,
            "input_image": png_b64(image),
            "seed": int(request.seed),
            **{k: v for k, v in params.items() if v != ""},
        }
        headers = {"x-key": self._key.reveal(), "accept": "application/json"}
        what = f"bfl/{self.model}"
        task = await ctx.request(
            "POST",
            self.url(self.endpoint.format(model=self.model)),
            lambda r: classify_bfl(r, f"{what} submit"),
            what="submit",
            headers=headers,
            json=payload,
        )
        task_id, poll_url = task.get("id"), task.get("polling_url")
        if not task_id or not isinstance(poll_url, str):
            raise ResponseFormatError(f"{what} submit: response has no id / polling_url")
        ctx.request_ids.append(str(task_id)[:200])
        if not trusted_poll_url(poll_url, self.base_url, "bfl.ai"):
            raise PermanentFailure(f"{what}: polling URL host is not trusted; the key is not sent there")
        sample_url, result = await self._poll(ctx, poll_url, headers, what)
        edited = await self.download_image(ctx, sample_url, "result.sample")
        return TurnOutput(edited, meta={"task_id": task_id, "seed": result.get("seed")})

    async def _poll(
        self, ctx: CallContext, poll_url: str, headers: dict[str, str], what: str
    ) -> tuple[str, dict[str, Any]]:
        interval = self.retry.poll_interval_s
        while True:
            if ctx.remaining() <= interval:
                raise TimeoutFailure(f"{what}: task still pending at the total time cap")
            await asyncio.sleep(interval)
            state = await ctx.request(
                "GET", poll_url, lambda r: classify_bfl(r, f"{what} poll"), what="poll", headers=headers
            )
            status = str(state.get("status") or "")
            if status == "Ready":
                result = state.get("result") or {}
                sample = result.get("sample")
                if not isinstance(sample, str) or not sample:
                    raise ResponseFormatError(f"{what} poll: Ready without result.sample")
                return sample, result
            if status in REFUSED:
                raise Refusal(f"{what}: {status}", code=status)
            if status == "Task not found":
                raise PermanentFailure(f"{what}: polling URL expired or task not found")
            if status not in PENDING:
                details = str(state.get("details") or "")[:200]
                raise PermanentFailure(f"{what}: task ended with status {status!r} {details}".rstrip())


class FluxKontextPro(BflKontextEditor):
    model = "flux-kontext-pro"


class FluxKontextMax(BflKontextEditor):
    model = "flux-kontext-max"
    default_limits = ProviderLimits(max_concurrency=6)  # BFL allows 6 active kontext-max tasks
