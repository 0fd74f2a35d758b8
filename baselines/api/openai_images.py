"""OpenAI gpt-image editors: ``POST /v1/images/edits`` (multipart; the mask is an alpha PNG)."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from baselines.api.base import DEFAULT_BATCH_SIZE, ApiEditor, TurnOutput
from baselines.api.codec import alpha_mask_png, decode_b64_image, multipart_body, parse_json
from baselines.api.errors import PermanentFailure, Refusal, ResponseFormatError
from baselines.api.pricing import TOKEN_RATES, openai_image_price
from baselines.api.transport import CallContext, ProviderLimits, http_failure
from harness.images import encode_png
from harness.protocols import EditorCapabilities
from harness.types import EditRequest, Image, Mask

REFUSAL_CODES = frozenset({"moderation_blocked", "content_policy_violation"})
QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached", "credit_balance_exhausted"})


def classify_openai(response: httpx.Response, what: str) -> Any:
    """The JSON body of a 200; OpenAI's error body mapped onto refusal / quota / retryable."""
    if response.status_code == 200:
        return parse_json(response.content, what, 200)
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = str(error.get("code") or error.get("type") or "")
    message = str(error.get("message") or "")
    if code in REFUSAL_CODES:
        raise Refusal(
            f"{what}: refused ({code}): {message[:300]}", code=code, http_status=response.status_code
        )
    if code in QUOTA_CODES:
        raise PermanentFailure(
            f"{what}: {code}: {message[:300]}", code=code, http_status=response.status_code
        )
    raise http_failure(response, what, message, code=code)


class OpenAIImageEditor(ApiEditor):
    """gpt-image-1 and its siblings. No seed exists on this endpoint, so runs are not seeded."""

    provider = "openai"
    key_env = "OPENAI_API_KEY"
    default_base_url = "https://api.openai.com"
    endpoint = "/v1/images/edits"
    endpoint_version = "v1"
    model = "gpt-image-1"
    default_params: ClassVar[dict[str, Any]] = {
        "quality": "medium",
        "size": "1024x1024",
        "input_fidelity": "high",
        "output_format": "png",
    }
    default_limits = ProviderLimits(max_concurrency=16)
    capabilities = EditorCapabilities(mask=True, multi_turn=True, batch_size=DEFAULT_BATCH_SIZE)

    def list_price_usd(self) -> float:
        return openai_image_price(self.model, str(self.params["quality"]), str(self.params["size"]))

    async def edit_turn(
        self, ctx: CallContext, image: Image, instruction: str, mask: Mask | None, request: EditRequest
    ) -> TurnOutput:
        params = self.generation_params(request)
        data = {
            "model": self.model,
            "prompt": instruction,
            "n": "1",
            **{k: str(v) for k, v in params.items()},
        }
        files = [("image[]", "image.png", encode_png(image))]
        if mask is not None:
            files.append(("mask", "mask.png", alpha_mask_png(image, mask)))
        body_bytes, content_type = multipart_body(data, files)
        what = f"openai/{self.model} images.edit"
        body = await ctx.request(
            "POST",
            self.url(self.endpoint),
            lambda r: classify_openai(r, what),
            what="images.edit",
            headers={"Authorization": f"Bearer {self._key.reveal()}", "Content-Type": content_type},
            content=body_bytes,
        )
        try:
            b64 = body["data"][0]["b64_json"]
        except (KeyError, IndexError, TypeError) as exc:
            raise ResponseFormatError(f"{what}: response has no data[0].b64_json") from exc
        edited = decode_b64_image(b64, what)
        usage = body.get("usage") or {}
        details = usage.get("input_tokens_details") or {}
        text_in = int(details.get("text_tokens") or 0)
        image_in = int(details.get("image_tokens") or 0)
        out_tokens = int(usage.get("output_tokens") or 0)
        cost = TOKEN_RATES[self.model].cost(text_in, image_in, out_tokens) if usage else None
        return TurnOutput(
            edited,
            input_tokens=int(usage.get("input_tokens") or 0),
            output_tokens=out_tokens,
            cost_usd=cost,
            meta={"size": body.get("size"), "quality": body.get("quality")},
        )


class GptImage1(OpenAIImageEditor):
    model = "gpt-image-1"


class GptImage1Mini(OpenAIImageEditor):
    model = "gpt-image-1-mini"
    default_params: ClassVar[dict[str, Any]] = {
        "quality": "medium",
        "size": "1024x1024",
        "output_format": "png",
    }


class GptImage15(OpenAIImageEditor):
    model = "gpt-image-1.5"
